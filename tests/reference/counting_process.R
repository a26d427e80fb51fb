# Reference values for counting-process Cox fits (fit_cox(entry=)), split_at (tmerge),
# and the Mantel-Byar test of a time-dependent group.
#
# Run from the repository root:  Rscript tests/reference/counting_process.R
# R 4.x, survival 3.5-3.  Writes into tests/reference/fixtures/:
#   cp_heart.csv        survival::heart (Stanford heart transplant, counting-process rows)
#   cp_trunc.csv        simulated left-truncated rows (integer times: many rows enter exactly at
#                       an event time of others, many tied event times), two rows per id
#   cp_jasa_input.csv   one row per patient of survival::jasa (times as in the survival vignette)
#   cp_jasa_tmerge.csv  tmerge() of it: transplant as a time-dependent covariate
#   cp_fits.csv         one row per (fit, term): coef, se (model-based), robust_se (NA unless robust)
#   cp_tests.csv        one row per fit: n, nevent, loglik at 0 and at the estimate, score test
#   cp_firth.csv        Firth-penalized fits on counting-process rows (definition-based, see below)
#   cp_mantel_byar.csv  Mantel-Byar test (transplant on jasa; a baseline group on cp_trunc)
#   cp_tdc_*.csv        time-dependent covariates carried forward from repeated measurements, as
#                       tmerge(..., tdc(time, value)) builds them (na.rm = TRUE: a missing value
#                       carries the last one forward), and coxph on the result: survival::pbc /
#                       pbcseq (the tmerge help page's example) and a small set of edge cases
#                       (measurements before time 0, at an event time, at and after the end of
#                       follow-up, two at one time, missing values, an id without follow-up)
#
# coxph is run with coxph.control(eps = 1e-12) so R and Python both sit at the optimum.
# A row is at risk at t when start < t <= stop (coxph's convention): a row entering exactly
# at an event time is not in that risk set.
suppressMessages(library(survival))
out <- "tests/reference/fixtures"
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
wcsv <- function(df, name) write.csv(df, file.path(out, name), row.names = FALSE)
fmt <- function(df) { for (k in names(df)) if (is.double(df[[k]])) df[[k]] <- sprintf("%.17g", df[[k]]); df }

# ---- data ----------------------------------------------------------------------------
heart_df <- heart
heart_df$w <- 1 + (heart_df$id %% 3) / 2
wcsv(heart_df, "cp_heart.csv")

set.seed(16)
n_id <- 60
trunc <- do.call(rbind, lapply(seq_len(n_id), function(i) {
  t1 <- sample(1:6, 1); t2 <- t1 + sample(1:6, 1)
  e0 <- sample(0:3, 1)  # entry of the first row: often an event time of others
  if (e0 >= t1) e0 <- t1 - 1
  data.frame(id = i, start = c(e0, t1), stop = c(t1, t2), event = c(0, rbinom(1, 1, 0.7)),
             x = round(rnorm(2), 3), g = rep(rbinom(1, 1, 0.5), 2), site = rep(i %% 2, 2))
}))
trunc$w <- 1 + (trunc$id %% 4) / 4
wcsv(trunc, "cp_trunc.csv")
# how many rows enter exactly at an event time of the data
cat("rows entering at an event time:", sum(trunc$start %in% trunc$stop[trunc$event == 1]), "\n")

jasa_in <- data.frame(id = seq_len(nrow(jasa)), futime = as.numeric(jasa$fu.date - jasa$accept.dt),
                      fustat = jasa$fustat, txtime = as.numeric(jasa$tx.date - jasa$accept.dt),
                      age = jasa$age, surgery = jasa$surgery)
jasa_in$futime[jasa_in$futime == 0] <- 0.5  # the vignette's fix of a same-day death
tie <- !is.na(jasa_in$txtime) & jasa_in$txtime == jasa_in$futime
jasa_in$txtime[tie] <- jasa_in$txtime[tie] - 0.5  # transplant on the day of death counts before it
wcsv(jasa_in, "cp_jasa_input.csv")
jasa_tm <- tmerge(jasa_in[, c("id", "age", "surgery")], jasa_in, id = id,
                  fustat = event(futime, fustat), transplant = tdc(txtime))
wcsv(jasa_tm, "cp_jasa_tmerge.csv")

# ---- coxph fits ------------------------------------------------------------------------
fits <- list(); tests <- list()
add <- function(name, fit, robust = FALSE) {
  cf <- coef(fit)
  se <- sqrt(diag(if (robust) fit$naive.var else fit$var))
  rse <- if (robust) sqrt(diag(fit$var)) else rep(NA, length(cf))
  fits[[name]] <<- data.frame(fit = name, term = names(cf), coef = unname(cf), se = unname(se), robust_se = unname(rse))
  tests[[name]] <<- data.frame(fit = name, n = fit$n, nevent = fit$nevent, loglik0 = fit$loglik[1],
                               loglik = fit$loglik[2], score = fit$score,
                               robust_score = if (robust) fit$rscore else NA)
}
for (ties in c("efron", "breslow")) {
  add(paste0("heart_", ties), coxph(Surv(start, stop, event) ~ age + year + surgery + transplant,
                                     heart_df, ties = ties, control = ctl))
  add(paste0("heart_strata_", ties), coxph(Surv(start, stop, event) ~ age + year + transplant + strata(surgery),
                                            heart_df, ties = ties, control = ctl))
  add(paste0("heart_cluster_", ties), coxph(Surv(start, stop, event) ~ age + year + surgery + transplant,
                                             heart_df, ties = ties, cluster = id, control = ctl), robust = TRUE)
  add(paste0("heart_weights_", ties), coxph(Surv(start, stop, event) ~ age + transplant, heart_df, ties = ties,
                                             weights = w, robust = FALSE, control = ctl))
  add(paste0("trunc_", ties), coxph(Surv(start, stop, event) ~ x + g, trunc, ties = ties, control = ctl))
  add(paste0("trunc_strata_", ties), coxph(Surv(start, stop, event) ~ x + g + strata(site), trunc, ties = ties,
                                            control = ctl))
  add(paste0("trunc_cluster_", ties), coxph(Surv(start, stop, event) ~ x + g, trunc, ties = ties, cluster = id,
                                             control = ctl), robust = TRUE)
  add(paste0("trunc_weights_", ties), coxph(Surv(start, stop, event) ~ x + g, trunc, ties = ties, weights = w,
                                             robust = FALSE, control = ctl))
  add(paste0("jasa_", ties), coxph(Surv(tstart, tstop, fustat) ~ age + surgery + transplant, jasa_tm,
                                    ties = ties, cluster = id, control = ctl), robust = TRUE)
}
wcsv(fmt(do.call(rbind, fits)), "cp_fits.csv")
wcsv(fmt(do.call(rbind, tests)), "cp_tests.csv")

# ---- Firth on counting-process rows ---------------------------------------------------
# Definition-based, independent of coxphf (not installable here): l*(b) = l(b) + 0.5 log det I(b),
# evaluated with coxph(init = b, iter.max = 0) (loglik = l(b), var = I(b)^-1), maximised by Newton
# steps (curvature I(b), step-halving) on a central-difference gradient (step 1e-4 standard errors)
# until the step is below 1e-11.  SEs are sqrt(diag(I(b_hat)^-1)), as coxphf reports.
firth_cp <- function(name, form, data, ties) {
  at <- function(b) suppressWarnings(coxph(form, data, ties = ties, init = b,
                                           control = coxph.control(iter.max = 0)))
  pll <- function(b) { f <- at(b); f$loglik[2] + 0.5 * as.numeric(determinant(solve(f$var), logarithm = TRUE)$modulus) }
  b <- rep(0, length(all.vars(form)) - 3)
  cur <- pll(b)
  for (it in 1:200) {
    v <- at(b)$var
    h <- 1e-4 * sqrt(diag(v))
    g <- vapply(seq_along(b), function(k) { e <- replace(numeric(length(b)), k, h[k]); (pll(b + e) - pll(b - e)) / (2 * h[k]) }, 0)
    step <- solve(solve(v), g)
    for (k in 1:30) { cand <- b + step; val <- pll(cand); if (val >= cur - 1e-13) break; step <- step / 2 }
    b <- cand; cur <- val
    if (max(abs(step)) < 1e-11) break
  }
  f <- at(b)
  data.frame(fit = name, term = names(coef(f)), coef = b, se = sqrt(diag(f$var)), loglik = cur)
}
firth <- rbind(
  firth_cp("heart_breslow", Surv(start, stop, event) ~ age + transplant, heart_df, "breslow"),
  firth_cp("trunc_efron", Surv(start, stop, event) ~ x + g, trunc, "efron"))
wcsv(fmt(firth), "cp_firth.csv")

# ---- Mantel-Byar -------------------------------------------------------------------------
# Log-rank statistic with a time-dependent group (Mantel & Byar 1974): at each event time the
# hypergeometric expectation and variance from the rows at risk (start < t <= stop) of each group.
# At-risk and event counts are counted directly from the rows; the same statistic is the score
# test of coxph(ties = "exact") at beta = 0, reported as a cross-check (exact_score).
mantel_byar_ref <- function(name, data, grp, exact = TRUE) {
  times <- sort(unique(data$tstop[data$fustat == 1]))
  # counts per group at every event time (a group without an event at t still has rows at risk)
  risk_at <- function(g, t) sum(data$tstart[data[[grp]] == g] < t & data$tstop[data[[grp]] == g] >= t)
  ev_at <- function(g, t) sum(data$fustat[data[[grp]] == g & data$tstop == t])
  o1 <- e1 <- v <- 0
  for (t in times) {
    n1 <- risk_at(1, t); n0 <- risk_at(0, t); d1 <- ev_at(1, t); d0 <- ev_at(0, t)
    nn <- n1 + n0; dd <- d1 + d0
    o1 <- o1 + d1; e1 <- e1 + dd * n1 / nn
    if (nn > 1) v <- v + dd * (n1 / nn) * (1 - n1 / nn) * (nn - dd) / (nn - 1)
  }
  # (the exact partial likelihood is combinatorial in the tied deaths: skipped where ties are heavy)
  ex <- if (exact) coxph(as.formula(paste("Surv(tstart, tstop, fustat) ~", grp)), data, ties = "exact",
                         control = coxph.control(iter.max = 0))$score else NA
  data.frame(test = name, observed1 = o1, expected1 = e1, variance = v, statistic = (o1 - e1)^2 / v,
             exact_score = ex, p_value = pchisq((o1 - e1)^2 / v, 1, lower.tail = FALSE))
}
tr <- trunc; names(tr)[names(tr) == "start"] <- "tstart"; names(tr)[names(tr) == "stop"] <- "tstop"
names(tr)[names(tr) == "event"] <- "fustat"
mb <- rbind(mantel_byar_ref("jasa_transplant", jasa_tm, "transplant"),
            mantel_byar_ref("trunc_g", tr, "g", exact = FALSE))
# with one row per patient from time 0 the statistic is the log-rank test
vet <- veteran; vet$time <- round(vet$time / 30); vet$tstart <- 0; vet$tstop <- vet$time + 0; vet$fustat <- vet$status
vet$tstop[vet$tstop == 0] <- 0.5
vet$g <- vet$trt - 1
lr <- mantel_byar_ref("veteran_trt", vet, "g", exact = FALSE)
lr$survdiff <- survdiff(Surv(tstop, fustat) ~ g, vet)$chisq
mb$survdiff <- NA
mb <- rbind(mb, lr)
wcsv(fmt(mb), "cp_mantel_byar.csv")
wcsv(vet[, c("tstop", "fustat", "g")], "cp_veteran_months.csv")

# ---- time-dependent covariates from repeated measurements (tmerge + tdc) ----------------
# pbc: the first 312 (trial) patients, death as the event (transplant censored); the labs of
# pbcseq carried forward from each visit.
pbc_base <- subset(pbc, id <= 312, select = c(id, time, status, trt, age, sex))
pbc_base$death <- as.integer(pbc_base$status == 2)
seq_labs <- pbcseq[, c("id", "day", "bili", "albumin", "protime", "chol")]
wcsv(pbc_base, "cp_tdc_pbc_base.csv")
wcsv(seq_labs, "cp_tdc_pbc_labs.csv")
pbc_tm <- tmerge(pbc_base[, c("id", "trt", "age")], pbc_base, id = id, death = event(time, death))
pbc_tm <- tmerge(pbc_tm, seq_labs, id = id, bili = tdc(day, bili), albumin = tdc(day, albumin),
                 protime = tdc(day, protime), chol = tdc(day, chol))
wcsv(fmt(pbc_tm), "cp_tdc_pbc_tmerge.csv")
edge_base <- data.frame(id = 1:6, futime = c(100, 80, 50, 120, 60, 90), status = c(1, 0, 1, 1, 0, 1),
                        x0 = c(0.5, -1, 2, 0, 1.5, -0.5))
edge_obs <- data.frame(
  id =    c(1,   1,  1,  1,   2,  2,  2,   3,  3,  4,  4,  4,  5,  6,  6,  7),
  t  =    c(-5,  30, 30, 100, 0,  40, 80,  10, 60, 20, 70, 70, 25, 45, 89, 5),
  nk =    c(200, 250, 260, 999, NA, 300, 500, 150, 170, 400, NA, 420, 80, 600, 610, 10),
  cd8 =   c(NA,  10, 11, 12,  20, NA, 22,  30, 31, 40, 41, 42, NA, 50, 51, 60))
wcsv(edge_base, "cp_tdc_edge_base.csv")
wcsv(edge_obs, "cp_tdc_edge_obs.csv")
edge_tm <- tmerge(edge_base[, c("id", "x0")], edge_base, id = id, status = event(futime, status))
edge_tm <- tmerge(edge_tm, edge_obs, id = id, nk = tdc(t, nk), cd8 = tdc(t, cd8))
wcsv(fmt(edge_tm), "cp_tdc_edge_tmerge.csv")
tdc_fits <- list()
for (ties in c("efron", "breslow")) {
  f <- coxph(Surv(tstart, tstop, death) ~ log(bili) + log(protime) + albumin, pbc_tm, ties = ties, control = ctl)
  tdc_fits[[ties]] <- data.frame(fit = paste0("pbc_", ties), term = names(coef(f)), coef = unname(coef(f)),
                                 se = unname(sqrt(diag(f$var))), n = f$n, nevent = f$nevent, loglik = f$loglik[2])
}
f <- coxph(Surv(tstart, tstop, death) ~ log(bili) + albumin + trt, pbc_tm, cluster = id, control = ctl)
tdc_fits[["cluster"]] <- data.frame(fit = "pbc_cluster", term = names(coef(f)), coef = unname(coef(f)),
                                    se = unname(sqrt(diag(f$var))), n = f$n, nevent = f$nevent, loglik = f$loglik[2])
wcsv(fmt(do.call(rbind, tdc_fits)), "cp_tdc_fits.csv")
