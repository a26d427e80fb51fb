# Reference values for immune_correlates.stats.missing.meta (meta_analysis).
#
# Run from the repository root:  Rscript tests/reference/meta.R
# Writes tests/reference/fixtures/meta_data.csv (the trials: set, label, yi, sei) and
# tests/reference/fixtures/meta_rma.csv (one row per set x method x test: estimate, se,
# statistic, p, ci, tau2, I2, H2, Q, Q p, prediction interval; 17 significant digits) and
# tests/reference/fixtures/meta_weights.csv (weights(fit), percent).
# metafor 3.8-1, R 4.2.2 (Debian).  tau^2 is solved to convergence: control = list(threshold
# = 1e-14 (REML Fisher scoring), tol = 1e-14 (PM's uniroot), maxiter = 10000); metafor's
# defaults stop up to ~1e-4 away from the root.  For method = "FE" predict() gives no
# prediction interval (NA here); the package reports the confidence interval there.
suppressMessages(library(metafor))
out <- file.path("tests", "reference", "fixtures")
fmt <- function(x) ifelse(is.na(x), "NaN", sprintf("%.17g", x))

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
sets <- list(
  bcg = data.frame(label = paste(bcg$author, bcg$year), yi = as.numeric(bcg$yi), sei = sqrt(as.numeric(bcg$vi))),
  # three small trials of a log odds ratio with heterogeneity
  three = data.frame(label = c("Trial A", "Trial B", "Trial C"), yi = c(-0.92, 0.15, -0.41), sei = c(0.35, 0.31, 0.47)),
  # three homogeneous trials: Q < k - 1, tau^2 = 0 for every estimator
  homogeneous = data.frame(label = c("A", "B", "C"), yi = c(0.41, 0.92, 0.25), sei = c(0.30, 0.45, 0.38)),
  # two trials
  two = data.frame(label = c("first", "second"), yi = c(0.8, -0.1), sei = c(0.25, 0.3))
)
data_rows <- do.call(rbind, lapply(names(sets), function(s) cbind(set = s, sets[[s]])))
data_rows$yi <- fmt(data_rows$yi); data_rows$sei <- fmt(data_rows$sei)
write.csv(data_rows, file.path(out, "meta_data.csv"), row.names = FALSE)

ctrl <- list(threshold = 1e-14, tol = 1e-14, maxiter = 10000)
rows <- list(); wrows <- list()
for (s in names(sets)) for (m in c("FE", "DL", "PM", "REML")) for (t in c("z", "knha")) {
  d <- sets[[s]]
  fit <- suppressWarnings(rma(yi = d$yi, sei = d$sei, method = m, test = t, control = ctrl))
  p <- predict(fit)
  pi_lb <- if (is.null(p$pi.lb)) NA else p$pi.lb
  pi_ub <- if (is.null(p$pi.ub)) NA else p$pi.ub
  rows[[length(rows) + 1]] <- data.frame(
    set = s, method = m, test = t, estimate = fmt(fit$b[1]), se = fmt(fit$se), statistic = fmt(fit$zval),
    pvalue = fmt(fit$pval), ci_lower = fmt(fit$ci.lb), ci_upper = fmt(fit$ci.ub), tau2 = fmt(fit$tau2),
    i2 = fmt(fit$I2), h2 = fmt(fit$H2), q = fmt(fit$QE), q_pvalue = fmt(fit$QEp),
    pi_lower = fmt(pi_lb), pi_upper = fmt(pi_ub), df = fmt(if (t == "z") Inf else fit$dfs))
  wrows[[length(wrows) + 1]] <- data.frame(set = s, method = m, test = t, label = d$label, weight = fmt(weights(fit)))
}
write.csv(do.call(rbind, rows), file.path(out, "meta_rma.csv"), row.names = FALSE)
write.csv(do.call(rbind, wrows), file.path(out, "meta_weights.csv"), row.names = FALSE)
cat("metafor", as.character(packageVersion("metafor")), "\n")
