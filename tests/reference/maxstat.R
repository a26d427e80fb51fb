# Reference values for immune_correlates.stats.survival.cutpoint (maximally selected
# log-rank statistics, Lausen & Schumacher 1992; Hothorn & Lausen 2003).
#
# Run from the repository root:  Rscript tests/reference/maxstat.R
# maxstat 0.7-25, R 4.2. Writes into tests/reference/fixtures/:
#   maxstat_dlbcl.csv, maxstat_lung.csv       the data (time, event, feature)
#   maxstat_<data>_stats.csv                  cutpoints and standardized statistics
#   maxstat_<data>_p.csv                      statistic, cutpoint and p-values
#     (Lau92, Lau94, exactGauss with a tight Genz-Bretz tolerance, condMC with
#      B = 20000 Monte-Carlo permutations: the last two are only accurate to
#      about 1e-4 and 1e-2)
suppressMessages({library(survival); library(maxstat)})
out <- "tests/reference/fixtures"
w <- function(df, name) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- sprintf("%.17g", df[[j]])
  write.csv(df, file.path(out, name), row.names = FALSE, quote = TRUE)
}
data(DLBCL, package = "maxstat")
dl <- data.frame(patient_id = as.character(DLBCL$DLCLid), time = DLBCL$time, event = DLBCL$cens,
                 mge = DLBCL$MGE, ipi = DLBCL$IPI)
lg <- data.frame(patient_id = sprintf("L%03d", seq_len(nrow(lung))), time = lung$time,
                 event = lung$status - 1L, age = lung$age)
w(dl, "maxstat_dlbcl.csv"); w(lg, "maxstat_lung.csv")
run <- function(d, f, tag, minprop = 0.1, maxprop = 0.9) {
  fo <- as.formula(paste("Surv(time, event) ~", f))
  m92 <- maxstat.test(fo, data = d, smethod = "LogRank", pmethod = "Lau92", minprop = minprop, maxprop = maxprop)
  m94 <- maxstat.test(fo, data = d, smethod = "LogRank", pmethod = "Lau94", minprop = minprop, maxprop = maxprop)
  set.seed(1)
  mex <- maxstat.test(fo, data = d, smethod = "LogRank", pmethod = "exactGauss", minprop = minprop,
                      maxprop = maxprop, abseps = 1e-7, releps = 0, maxpts = 5e6)
  set.seed(1)
  mmc <- maxstat.test(fo, data = d, smethod = "LogRank", pmethod = "condMC", minprop = minprop,
                      maxprop = maxprop, B = 20000)
  w(data.frame(cut = m92$cuts, statistic = m92$stats), paste0("maxstat_", tag, "_stats.csv"))
  w(data.frame(minprop = minprop, maxprop = maxprop, statistic = unname(m92$statistic),
               cutpoint = unname(m92$estimate), p_lau92 = m92$p.value, p_lau94 = m94$p.value,
               p_exact_gauss = mex$p.value, p_condmc = mmc$p.value), paste0("maxstat_", tag, "_p.csv"))
}
run(dl, "mge", "dlbcl")
run(dl, "ipi", "dlbcl_ipi", minprop = 0.1, maxprop = 0.9)
run(lg, "age", "lung")
run(lg, "age", "lung_02", minprop = 0.2, maxprop = 0.8)
