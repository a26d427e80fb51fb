# Reference values for immune_correlates.stats.groups.roc (AUC, DeLong and
# Hanley-McNeil intervals, ROC operating points).
#
# Run from the repository root:  Rscript tests/reference/roc.R
# R 4.2 with MASS. pROC is not installed (CRAN unreachable), so every
# quantity is written here from its definition, with O(n1 n0) loops over all
# positive/negative pairs -- deliberately not the mid-rank shortcut the
# package uses:
#   psi(x, y)  = 1 if x > y, 1/2 if x == y, 0 otherwise   (x positive, y negative)
#   AUC        = mean over all pairs of psi                (= W / (n1 n0) of wilcox.test)
#   V10_i      = mean_j psi(x_i, y_j);  V01_j = mean_i psi(x_i, y_j)
#   DeLong SE  = sqrt(var(V10) / n1 + var(V01) / n0)       (DeLong et al. 1988, var with n - 1)
#   Hanley-McNeil SE^2 = [A(1-A) + (n1-1)(Q1-A^2) + (n0-1)(Q2-A^2)] / (n1 n0),
#                        Q1 = A / (2 - A), Q2 = 2 A^2 / (1 + A)   (Hanley & McNeil 1982)
#   CI         = AUC -/+ qnorm(0.975) SE, clipped to [0, 1] (as pROC::ci.auc)
#   ROC points = for each distinct score t (descending): tpr = mean(pos >= t), fpr = mean(neg >= t)
# Writes into tests/reference/fixtures/:
#   roc_data.csv     the datasets (columns dataset, y, score)
#   roc_auc.csv      one row per dataset: n1, n0, auc, W/(n1 n0), se_delong, ci_delong_*, se_hm, ci_hm_*
#   roc_points.csv   operating points per dataset
suppressMessages(library(MASS))
out <- "tests/reference/fixtures"
w <- function(df, name) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- sprintf("%.17g", df[[j]])
  write.csv(df, file.path(out, name), row.names = FALSE, quote = TRUE)
}

sets <- list(
  pima_glu = data.frame(y = as.integer(Pima.tr$type == "Yes"), score = Pima.tr$glu),        # some ties
  infert_spont = data.frame(y = infert$case, score = infert$spontaneous),                   # heavy ties
  hand = data.frame(y = c(0, 0, 1, 1, 0, 1, 1, 0), score = c(0.1, 0.4, 0.35, 0.8, 0.5, 0.5, 0.9, 0.2))
)
z <- qnorm(0.975)
auc_rows <- list(); pt_rows <- list(); data_rows <- list()
for (nm in names(sets)) {
  d <- sets[[nm]]
  x <- d$score[d$y == 1]; yv <- d$score[d$y == 0]
  n1 <- length(x); n0 <- length(yv)
  psi <- outer(x, yv, function(a, b) ifelse(a > b, 1, ifelse(a == b, 0.5, 0)))
  A <- mean(psi)
  W <- unname(suppressWarnings(wilcox.test(x, yv, exact = FALSE))$statistic)
  v10 <- rowMeans(psi); v01 <- colMeans(psi)
  se_d <- sqrt(var(v10) / n1 + var(v01) / n0)
  q1 <- A / (2 - A); q2 <- 2 * A^2 / (1 + A)
  se_h <- sqrt((A * (1 - A) + (n1 - 1) * (q1 - A^2) + (n0 - 1) * (q2 - A^2)) / (n1 * n0))
  auc_rows[[nm]] <- data.frame(dataset = nm, n1 = n1, n0 = n0, auc = A, auc_wilcox = W / (n1 * n0),
                               se_delong = se_d, ci_delong_lower = max(A - z * se_d, 0),
                               ci_delong_upper = min(A + z * se_d, 1), se_hm = se_h,
                               ci_hm_lower = max(A - z * se_h, 0), ci_hm_upper = min(A + z * se_h, 1))
  ts <- sort(unique(d$score), decreasing = TRUE)
  pt_rows[[nm]] <- data.frame(dataset = nm, threshold = c(Inf, ts),
                              fpr = c(0, sapply(ts, function(t) mean(yv >= t))),
                              tpr = c(0, sapply(ts, function(t) mean(x >= t))))
  data_rows[[nm]] <- data.frame(dataset = nm, y = d$y, score = d$score)
}
w(do.call(rbind, data_rows), "roc_data.csv")
w(do.call(rbind, auc_rows), "roc_auc.csv")
w(do.call(rbind, pt_rows), "roc_points.csv")
