# Reference values for immune_correlates.stats.longitudinal.gee (fit_gee) from geepack::geeglm.
#
# Run from the repository root:  Rscript tests/reference/gee.R
# R 4.2.2, geepack 1.3.9 (Debian r-cran-geepack), MASS 7.3.  Writes into tests/reference/fixtures/:
#   gee_ohio.csv          geepack::ohio (wheeze at ages 7-10, 537 children, 4 visits each)
#   gee_ohio_unbal.csv    ohio with about a quarter of the visits removed at random (clusters of 1-4,
#                         with gaps); `wave` = age + 3 (1-4) is the visit number
#   gee_epil.csv          MASS::epil (seizure counts, 59 patients, 4 periods)
#   gee_dietox.csv        geepack::dietox (pig weights, 72 pigs, 11-12 weeks: unbalanced), Cu a 3-level factor
#   gee_cycles.csv        a simulated per-cycle toxicity table (40 patients, 1-12 cycles each): neutropenia
#                         grade >= 3 per cycle against an NK count and the cycle number
#   gee_fits.csv          one row per (fit, term): estimate, robust SE (san.se), Wald chi-square, p-value
#   gee_params.csv        one row per fit: correlation parameter alpha, scale (gamma), clusters, rows
#
# Every fit uses geeglm's defaults (scale estimated, std.err = "san.se") and geese.control(epsilon = 1e-12,
# maxit = 500) instead of the default epsilon = 1e-4, so R and Python both sit at the estimating equations'
# solution rather than at geepack's default stopping point.  Without `waves`, geepack counts an
# observation's position within its cluster (rows in data order) as its time; with `waves`, the given
# visit number (AR(1) correlation alpha^|wave_j - wave_k|).
suppressMessages({library(geepack); library(MASS)})
out <- "tests/reference/fixtures"
ctl <- geese.control(epsilon = 1e-12, maxit = 500)
wcsv <- function(df, name) write.csv(df, file.path(out, name), row.names = FALSE)
fmt <- function(df) { for (k in names(df)) if (is.double(df[[k]])) df[[k]] <- sprintf("%.17g", df[[k]]); df }
cat(R.version.string, "geepack", as.character(packageVersion("geepack")), "\n")

# ---- data ------------------------------------------------------------------------------
data(ohio)
wcsv(ohio, "gee_ohio.csv")
set.seed(24)
keep <- runif(nrow(ohio)) > 0.25
ohio_u <- ohio[keep, ]
ohio_u$wave <- ohio_u$age + 3
wcsv(ohio_u, "gee_ohio_unbal.csv")

data(epil)
epil_d <- epil[, c("y", "trt", "base", "age", "V4", "subject", "period", "lbase", "lage")]
epil_d$trt <- as.character(epil_d$trt)
wcsv(epil_d, "gee_epil.csv")

data(dietox)
diet <- dietox[, c("Pig", "Cu", "Time", "Weight", "Start")]
diet$Pig <- as.integer(as.character(diet$Pig))
diet$Cu <- as.character(diet$Cu)
diet <- diet[order(diet$Pig, diet$Time), ]
wcsv(diet, "gee_dietox.csv")

set.seed(574)
n_pat <- 40
cyc <- do.call(rbind, lapply(seq_len(n_pat), function(i) {
  k <- sample(1:12, 1)
  nk <- round(exp(rnorm(1, log(300), 0.6)))
  u <- rnorm(1, 0, 0.8)  # a patient's own propensity: correlation within a patient
  cycle <- seq_len(k)
  p <- plogis(-0.6 + u - 0.002 * nk - 0.15 * cycle)
  data.frame(patient_id = sprintf("P%02d", i), cycle = cycle, nk_per_ul = nk,
             neutropenia_g3 = rbinom(k, 1, p))
}))
wcsv(cyc, "gee_cycles.csv")

# ---- fits ------------------------------------------------------------------------------
fits <- list(); pars <- list()
add <- function(name, fit) {
  s <- summary(fit)$coefficients
  fits[[name]] <<- data.frame(fit = name, term = rownames(s), estimate = s[, "Estimate"],
                              std_error = s[, "Std.err"], wald = s[, "Wald"], p_value = s[, "Pr(>|W|)"])
  g <- fit$geese
  pars[[name]] <<- data.frame(fit = name, alpha = if (length(g$alpha)) unname(g$alpha[1]) else NA,
                              scale = unname(g$gamma[1]), n_clusters = length(unique(g$id)),
                              nobs = length(g$id), max_cluster = max(table(g$id)))
}
add("ohio_exch", geeglm(resp ~ age + smoke, id = id, data = ohio, family = binomial,
                        corstr = "exchangeable", control = ctl))
add("ohio_ar1", geeglm(resp ~ age + smoke, id = id, data = ohio, family = binomial, corstr = "ar1", control = ctl))
add("ohio_indep", geeglm(resp ~ age + smoke, id = id, data = ohio, family = binomial,
                         corstr = "independence", control = ctl))
add("ohio_unbal_exch", geeglm(resp ~ age + smoke, id = id, data = ohio_u, family = binomial,
                              corstr = "exchangeable", control = ctl))
add("ohio_unbal_ar1", geeglm(resp ~ age + smoke, id = id, data = ohio_u, family = binomial,
                             corstr = "ar1", control = ctl))
add("ohio_unbal_ar1_waves", geeglm(resp ~ age + smoke, id = id, data = ohio_u, family = binomial,
                                   corstr = "ar1", waves = wave, control = ctl))
add("epil_exch", geeglm(y ~ lbase + trt + lage + V4, id = subject, data = epil_d, family = poisson,
                        corstr = "exchangeable", control = ctl))
add("epil_ar1", geeglm(y ~ lbase + trt + lage + V4, id = subject, data = epil_d, family = poisson,
                       corstr = "ar1", control = ctl))
add("dietox_exch", geeglm(Weight ~ Time + Cu, id = Pig, data = diet, family = gaussian,
                          corstr = "exchangeable", control = ctl))
add("dietox_ar1", geeglm(Weight ~ Time + Cu, id = Pig, data = diet, family = gaussian, corstr = "ar1",
                         waves = Time, control = ctl))
add("dietox_indep", geeglm(Weight ~ Time + Cu, id = Pig, data = diet, family = gaussian,
                           corstr = "independence", control = ctl))
add("cycles_exch", geeglm(neutropenia_g3 ~ nk_per_ul + cycle, id = factor(patient_id), data = cyc,
                          family = binomial, corstr = "exchangeable", control = ctl))
add("cycles_ar1", geeglm(neutropenia_g3 ~ nk_per_ul + cycle, id = factor(patient_id), data = cyc,
                         family = binomial, corstr = "ar1", control = ctl))
wcsv(fmt(do.call(rbind, fits)), "gee_fits.csv")
wcsv(fmt(do.call(rbind, pars)), "gee_params.csv")
