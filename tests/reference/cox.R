# Reference values for immune_correlates.stats.regression.cox (fit_cox), .concordance,
# .ph_test and .cox_firth.
#
# Run from the repository root:  Rscript tests/reference/cox.R
# R 4.2, survival 3.5-3.  Writes into tests/reference/fixtures/:
#   cox_lung.csv, cox_veteran.csv, cox_ovarian.csv, cox_monotone.csv   data used by the tests
#   cox_fits.json        one entry per coxph() fit: coef, se, robust se, loglik (null, fit),
#                        LR / score / Wald tests, concordance (C, sqrt(var)), cox.zph table
#                        and scaled Schoenfeld residuals (transform = "km", terms = TRUE)
#   cox_firth.json       Firth-penalized Cox fits (Breslow ties): estimates, SEs, penalized
#                        loglik, profile penalized-likelihood intervals, penalized LR p-values
#
# coxph is run with coxph.control(eps = 1e-12, iter.max = 100) so both R and Python sit at
# the true optimum, not at R's default stopping point.
#
# Firth (Heinze & Schemper 2001): coxphf is not installed (CRAN unreachable), so the
# reference below is an INDEPENDENT implementation from the definition: the penalized
# log partial likelihood  l*(b) = l(b) + 0.5 log det I(b)  is evaluated with
# survival::coxph(init = b, iter.max = 0), whose loglik is l(b) and whose var is I(b)^-1.
# l* is maximised by Newton steps (curvature I(b), step-halving) on a central-difference
# gradient of l*, iterated until the step is below 1e-11.  SEs are sqrt(diag(I(b_hat)^-1)) as coxphf reports.  Profile intervals:
# for coefficient k, l*_k(c) = max over the other coefficients of l*(b) with b_k = c (the
# penalty stays the full-model log det I, the coxphf convention); the ends solve
# 2 (l*(b_hat) - l*_k(c)) = qchisq(1 - alpha, 1) with uniroot; the penalized LR p-value is
# pchisq(2 (l*(b_hat) - l*_k(0)), 1, lower = FALSE).
suppressMessages(library(survival))
out <- "tests/reference/fixtures"
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)

num <- function(x) ifelse(is.na(x), "null", ifelse(is.infinite(x), ifelse(x > 0, "\"Infinity\"", "\"-Infinity\""), sprintf("%.17g", x)))
to_json <- function(x) {
  if (is.list(x)) {
    inner <- paste0("\"", names(x), "\": ", vapply(x, to_json, ""), collapse = ", ")
    return(paste0("{", inner, "}"))
  }
  if (is.character(x)) {
    s <- paste0("\"", x, "\"")
    return(if (length(x) == 1 && is.null(names(x))) s else paste0("[", paste(s, collapse = ", "), "]"))
  }
  if (!is.null(names(x))) return(to_json(as.list(x)))
  if (length(x) == 1) return(num(x))
  paste0("[", paste(num(x), collapse = ", "), "]")
}
w <- function(df, name) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- ifelse(is.na(df[[j]]), NA, sprintf("%.17g", df[[j]]))
  write.csv(df, file.path(out, name), row.names = FALSE, quote = TRUE, na = "")
}

# ---- data ------------------------------------------------------------------------------
lung_df <- data.frame(patient_id = sprintf("L%03d", seq_len(nrow(lung))), inst = lung$inst,
                      time = lung$time, event = lung$status - 1L, age = lung$age,
                      sex = lung$sex, ph_ecog = lung$ph.ecog,
                      wt = 1 + (seq_len(nrow(lung)) %% 3),              # integer case weights
                      fw = 0.5 + (seq_len(nrow(lung)) %% 5) / 4)         # non-integer weights
vet_df <- data.frame(patient_id = sprintf("V%03d", seq_len(nrow(veteran))), time = veteran$time,
                     event = veteran$status, karno = veteran$karno, trt = veteran$trt - 1L,
                     smallcell = as.integer(veteran$celltype == "smallcell"),
                     adeno = as.integer(veteran$celltype == "adeno"),
                     large = as.integer(veteran$celltype == "large"))
ova_df <- data.frame(patient_id = sprintf("O%02d", seq_len(nrow(ovarian))), time = ovarian$futime,
                     event = ovarian$fustat, rx = ovarian$rx - 1L, age = ovarian$age,
                     ecog = ovarian$ecog.ps - 1L, resid = ovarian$resid.ds - 1L)
# Monotone likelihood: every event is in group 1 (a small cohort, 24 patients, 8 events).
mono_df <- data.frame(patient_id = sprintf("M%02d", 1:24),
                      time = c(3, 5, 6, 8, 9, 11, 12, 14, 4, 7, 10, 13, 15, 16, 18, 20,
                               21, 22, 24, 25, 26, 28, 30, 31),
                      event = c(1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, rep(0, 12)),
                      group = c(rep(1, 12), rep(0, 12)),
                      cd8 = c(410, 250, 380, 120, 520, 300, 260, 190, 450, 330, 210, 600,
                              280, 350, 150, 400, 310, 220, 500, 170, 360, 290, 440, 230))
w(lung_df, "cox_lung.csv"); w(vet_df, "cox_veteran.csv"); w(ova_df, "cox_ovarian.csv")
w(mono_df, "cox_monotone.csv")
lung_cc <- lung_df[complete.cases(lung_df[, c("time", "event", "age", "sex", "ph_ecog")]), ]

# ---- coxph fits ------------------------------------------------------------------------
summ <- function(fit, zph = TRUE) {
  cf <- coef(fit)
  df <- length(cf)
  lr <- 2 * (fit$loglik[2] - fit$loglik[1])
  # summary.coxph rounds the Wald statistic; use the unrounded fit components
  res <- list(coef = cf, se = setNames(sqrt(diag(fit$var)), names(cf)),
              loglik = fit$loglik, n = fit$n, nevent = fit$nevent,
              logtest = c(lr, df, pchisq(lr, df, lower.tail = FALSE)),
              sctest = c(fit$score, df, pchisq(fit$score, df, lower.tail = FALSE)),
              waldtest = c(fit$wald.test, df, pchisq(fit$wald.test, df, lower.tail = FALSE)))
  if (!is.null(fit$rscore)) res$robust_sctest <- c(fit$rscore, df, pchisq(fit$rscore, df, lower.tail = FALSE))
  if (!is.null(fit$naive.var)) {
    res$se_naive <- setNames(sqrt(diag(fit$naive.var)), names(cf))
    res$se_robust <- setNames(sqrt(diag(fit$var)), names(cf))
  }
  cc <- concordance(fit)
  res$concordance <- c(C = unname(cc$concordance), se = sqrt(cc$var))
  res$concordance_count <- cc$count
  if (zph) {
    z <- cox.zph(fit, transform = "km", terms = TRUE)
    tab <- z$table
    res$zph <- list(terms = rownames(tab), chisq = unname(tab[, "chisq"]),
                    df = unname(tab[, "df"]), p = unname(tab[, "p"]))
    res$zph_x <- unname(z$x)
    res$zph_time <- unname(z$time)
    res$zph_y <- lapply(setNames(seq_len(ncol(z$y)), colnames(z$y)), function(j) unname(z$y[, j]))
    res$zph_var <- as.vector(z$var)
  }
  res
}
fits <- list()
f_lung <- Surv(time, event) ~ age + sex + ph_ecog
fits$lung_efron <- summ(coxph(f_lung, lung_cc, ties = "efron", control = ctl))
fits$lung_breslow <- summ(coxph(f_lung, lung_cc, ties = "breslow", control = ctl))
fits$lung_strata_sex <- summ(coxph(Surv(time, event) ~ age + ph_ecog + strata(sex), lung_cc,
                                   control = ctl))
fits$lung_strata_sex_breslow <- summ(coxph(Surv(time, event) ~ age + ph_ecog + strata(sex), lung_cc,
                                           ties = "breslow", control = ctl))
fits$lung_robust <- summ(coxph(f_lung, lung_cc, robust = TRUE, control = ctl), zph = FALSE)
fits$lung_robust_breslow <- summ(coxph(f_lung, lung_cc, robust = TRUE, ties = "breslow", control = ctl),
                                 zph = FALSE)
lung_inst <- lung_cc[!is.na(lung_cc$inst), ]
fits$lung_cluster_inst <- summ(coxph(f_lung, lung_inst, cluster = inst, control = ctl), zph = FALSE)
fits$lung_weights_efron <- summ(coxph(f_lung, lung_cc, weights = fw, control = ctl))
fits$lung_strata_robust <- summ(coxph(Surv(time, event) ~ age + ph_ecog + strata(sex), lung_cc,
                                      robust = TRUE, control = ctl), zph = FALSE)
fits$lung_weights_breslow <- summ(coxph(f_lung, lung_cc, weights = fw, ties = "breslow", control = ctl),
                                  zph = FALSE)
fits$lung_weights_robust <- summ(coxph(f_lung, lung_cc, weights = fw, robust = TRUE, control = ctl),
                                 zph = FALSE)
fits$lung_intweights_breslow <- summ(coxph(f_lung, lung_cc, weights = wt, ties = "breslow",
                                           control = ctl))
fits$veteran_efron <- summ(coxph(Surv(time, event) ~ karno + trt + smallcell + adeno + large,
                                 vet_df, control = ctl))
fits$ovarian_efron <- summ(coxph(Surv(time, event) ~ rx + age + ecog, ova_df, control = ctl))
fits$ovarian_breslow <- summ(coxph(Surv(time, event) ~ rx + age + ecog, ova_df, ties = "breslow",
                                   control = ctl))
writeLines(to_json(fits), file.path(out, "cox_fits.json"))

# ---- Firth-penalized Cox (independent implementation, see header) ----------------------
firth_ref <- function(data, covs, alpha = 0.05, ties = "breslow") {
  form <- as.formula(paste("Surv(time, event) ~", paste(covs, collapse = " + ")))
  at <- function(b) suppressWarnings(coxph(form, data, ties = ties, init = b,
                                           control = coxph.control(iter.max = 0)))
  pll <- function(b) {
    f <- at(b)
    f$loglik[2] + 0.5 * as.numeric(determinant(solve(f$var), logarithm = TRUE)$modulus)
  }
  # central differences with a step of 1e-4 standard errors per coefficient (a fixed step
  # is too coarse for covariates on a large scale, e.g. cells/uL)
  grad <- function(fun, b, h) vapply(seq_along(b), function(k) {
    e <- replace(numeric(length(b)), k, h[k])
    (fun(b + e) - fun(b - e)) / (2 * h[k])
  }, 0)
  # Newton ascent on a central-difference gradient, with I(b) as the curvature and
  # step-halving whenever l* does not increase (as coxph does for l).
  polish <- function(fun, b, free = seq_along(b)) {
    cur <- fun(b)
    for (it in 1:200) {
      v <- at(b)$var
      g <- grad(function(bf) fun(replace(b, free, bf)), b[free], 1e-4 * sqrt(diag(v))[free])
      info <- solve(v)[free, free, drop = FALSE]
      step <- solve(info, g)
      for (h in 1:30) {
        cand <- b
        cand[free] <- b[free] + step
        val <- tryCatch(fun(cand), error = function(e) -Inf)
        if (val >= cur - 1e-13) break
        step <- step / 2
      }
      b <- cand
      cur <- val
      if (max(abs(step)) < 1e-11) break
    }
    b
  }
  p <- length(covs)
  b <- polish(pll, rep(0, p))
  names(b) <- covs
  pmax <- pll(b)
  se <- sqrt(diag(at(b)$var))
  crit <- qchisq(1 - alpha, 1)
  prof <- function(k, c) {
    if (p == 1) return(pll(c))
    bb <- b
    bb[k] <- c
    bb <- polish(pll, bb, free = setdiff(seq_len(p), k))
    pll(bb)
  }
  lower <- upper <- pval <- numeric(p)
  for (k in seq_len(p)) {
    g <- function(c) 2 * (pmax - prof(k, c)) - crit
    lower[k] <- uniroot(g, c(b[k] - 10 * se[k], b[k]), tol = 1e-12, extendInt = "downX")$root
    upper[k] <- uniroot(g, c(b[k], b[k] + 10 * se[k]), tol = 1e-12, extendInt = "upX")$root
    pval[k] <- pchisq(2 * (pmax - prof(k, 0)), 1, lower.tail = FALSE)
  }
  list(coef = b, se = setNames(se, covs), loglik = pmax, ci_lower = setNames(lower, covs),
       ci_upper = setNames(upper, covs), p_lr = setNames(pval, covs), alpha = alpha, ties = ties)
}
firth <- list()
firth$ovarian_rx_age <- firth_ref(ova_df, c("rx", "age"))
# tied event times: the first 60 complete cases of lung (cox_lung.csv rows complete in
# time, event, age, sex, ph_ecog, in file order)
lung60 <- lung_cc[1:60, ]
firth$lung60_breslow <- firth_ref(lung60, c("sex", "ph_ecog"))
firth$lung60_efron <- firth_ref(lung60, c("sex", "ph_ecog"), ties = "efron")
firth$monotone_group_cd8 <- firth_ref(mono_df, c("group", "cd8"))
firth$monotone_group <- firth_ref(mono_df, c("group"))
writeLines(to_json(firth), file.path(out, "cox_firth.json"))
cat("wrote cox fixtures\n")
