# Reference bootstrap intervals for immune_correlates.stats.screening.resampling
# (percentile_interval, bca_interval).
#
# Run from the repository root:  Rscript tests/reference/bootstrap.R
# R 4.2, boot (Canty & Ripley), survival 3.5-3.  Writes into tests/reference/fixtures/:
#   boot_lung_replicates.csv   t0 (first row, replicate = 0) and the R = 999 bootstrap
#                              replicates of the Cox coefficient of age in survival::lung
#                              (Efron ties), from boot() with set.seed(20261125)
#   boot_lung_jack.csv         the n leave-one-out (jackknife) estimates of the same coefficient
#   boot_lung_ci.csv           boot.ci() percentile and BCa intervals at levels 0.90 and 0.95,
#                              the BCa acceleration from L = (n - 1) (mean(jack) - jack)
#                              (the jackknife empirical influence values, boot's empinf(type = "jack"))
#
# The Python side reads the replicates and jackknife estimates (no resampling is
# repeated) and must reproduce boot.ci's numbers: norm.inter interpolation of the
# order statistics, z0 = qnorm(mean(t < t0)), a = sum(L^3) / (6 sum(L^2)^1.5).
suppressMessages({library(survival); library(boot)})
out <- "tests/reference/fixtures"
d <- na.omit(lung[, c("time", "status", "age")])
stat <- function(data, i) coef(coxph(Surv(time, status) ~ age, data = data[i, ], ties = "efron"))
set.seed(20261125)
b <- boot(d, stat, R = 999)
n <- nrow(d)
jack <- vapply(seq_len(n), function(i) stat(d, -i), 0.0)
L <- (n - 1) * (mean(jack) - jack)
rows <- list()
for (conf in c(0.90, 0.95)) {
  ci <- boot.ci(b, conf = conf, type = c("perc", "bca"), L = L)
  rows[[length(rows) + 1]] <- data.frame(conf = conf, type = "percentile", lower = ci$percent[4], upper = ci$percent[5])
  rows[[length(rows) + 1]] <- data.frame(conf = conf, type = "bca", lower = ci$bca[4], upper = ci$bca[5])
}
full <- function(x) sprintf("%.17g", x)  # full double precision
write.csv(data.frame(replicate = 0:999, t = full(c(b$t0, b$t[, 1]))), file.path(out, "boot_lung_replicates.csv"),
          row.names = FALSE, quote = FALSE)
write.csv(data.frame(jack = full(jack)), file.path(out, "boot_lung_jack.csv"), row.names = FALSE, quote = FALSE)
cis <- do.call(rbind, rows)
cis$lower <- full(cis$lower)
cis$upper <- full(cis$upper)
write.csv(cis, file.path(out, "boot_lung_ci.csv"), row.names = FALSE, quote = FALSE)
