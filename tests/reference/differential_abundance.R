# Reference values for immune_correlates.differential_abundance: limma's moderated t on
# log2 proportions, log2((count + 0.5) / (total + 1)) (voom's log-CPM without the 1e6).
#
# Run from the repository root:  Rscript tests/reference/differential_abundance.R
# R 4.2.2, limma 3.54.1 (Debian r-bioc-limma).  For every dataset:
#   y   <- t(log2(t(counts + 0.5) / (colSums(counts) + 1)))      populations x samples
#   fit <- eBayes(lmFit(y, model.matrix(design, samples)))        robust = FALSE, trend = FALSE
#   topTable(fit, coef = 2, number = Inf, sort.by = "none", confint = 0.95)
# Writes into tests/reference/fixtures/:
#   da_counts.csv    the simulated datasets (dataset, sample_id, population, count)
#   da_samples.csv   their sample tables (dataset, sample_id, group, batch, age, patient)
#   da_limma.csv     one row per dataset and population: logFC, CI.L, CI.R, t, P.Value,
#                    adj.P.Val, df.total, df.prior, s2.prior
suppressMessages(library(limma))
out <- "tests/reference/fixtures"
w <- function(df, name) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- sprintf("%.17g", df[[j]])
  write.csv(df, file.path(out, name), row.names = FALSE, quote = TRUE)
}
set.seed(20240611)

simulate <- function(n, K, sd, size, effect = NULL, group = NULL, heterogeneous = FALSE) {
  base <- exp(seq(log(0.002), log(0.25), length.out = K)); base <- base / sum(base)
  s <- if (heterogeneous) seq(0.2, 0.8, length.out = K) else rep(sd, K)
  la <- matrix(log(base), n, K, byrow = TRUE) + matrix(rnorm(n * K), n, K) * matrix(s, n, K, byrow = TRUE)
  if (!is.null(effect)) la <- la + outer(group, effect)
  p <- exp(la); p <- p / rowSums(p)
  tot <- rpois(n, size)
  t(sapply(seq_len(n), function(i) rmultinom(1, tot[i], p[i, ])))
}

cases <- list()
# 1. 10 vs 10, homogeneous variation, no effect
g <- rep(c("NR", "R"), each = 10)
cases$balanced <- list(counts = simulate(20, 30, 0.4, 50000), samples = data.frame(group = g), formula = ~group)
# 2. 8 CR vs 26 others, three populations changed, a batch and an age covariate, heterogeneous SDs
g <- rep(c(0, 1), c(26, 8))
eff <- rep(0, 25); eff[c(3, 11, 20)] <- c(log(2), -log(2), log(1.5))
cases$unbalanced <- list(
  counts = simulate(34, 25, 0.4, 20000, eff, g, heterogeneous = TRUE),
  samples = data.frame(group = g, batch = sample(c("b1", "b2", "b3"), 34, TRUE), age = round(rnorm(34, 65, 8))),
  formula = ~ group + batch + age
)
# 3. paired: 8 patients at two timepoints (patient effect large), a rare population with zeros
pat <- rep(sprintf("P%02d", 1:8), 2)
tp <- rep(c("baseline", "cycle3"), each = 8)
cnt <- simulate(16, 20, 0.3, 8000, c(rep(0, 19), 0.7), as.numeric(tp == "cycle3"))
cnt[, 1] <- rpois(16, 0.8)  # a very rare population: zeros
cases$paired <- list(counts = cnt, samples = data.frame(group = tp, patient = pat), formula = ~ group + patient)

cnt_rows <- list(); smp_rows <- list(); res_rows <- list()
for (nm in names(cases)) {
  cs <- cases[[nm]]
  n <- nrow(cs$counts); K <- ncol(cs$counts)
  ids <- sprintf("%s_%02d", nm, seq_len(n))
  pops <- sprintf("pop%02d", seq_len(K))
  colnames(cs$counts) <- pops
  cnt_rows[[nm]] <- data.frame(dataset = nm, sample_id = rep(ids, K), population = rep(pops, each = n),
                               count = as.vector(cs$counts))
  sm <- cs$samples
  smp_rows[[nm]] <- data.frame(dataset = nm, sample_id = ids, group = as.character(sm$group),
                               batch = if (is.null(sm$batch)) NA else sm$batch,
                               age = if (is.null(sm$age)) NA else sm$age,
                               patient = if (is.null(sm$patient)) NA else sm$patient)
  y <- t(log2((cs$counts + 0.5) / (rowSums(cs$counts) + 1)))
  sm$group <- factor(sm$group)
  fit <- eBayes(lmFit(y, model.matrix(cs$formula, sm)))
  tt <- topTable(fit, coef = 2, number = Inf, sort.by = "none", confint = 0.95)
  res_rows[[nm]] <- data.frame(dataset = nm, population = pops, logFC = tt$logFC, CI.L = tt$CI.L, CI.R = tt$CI.R,
                               t = tt$t, P.Value = tt$P.Value, adj.P.Val = tt$adj.P.Val,
                               df.total = fit$df.total, df.prior = fit$df.prior, s2.prior = fit$s2.prior)
}
w(do.call(rbind, cnt_rows), "da_counts.csv")
w(do.call(rbind, smp_rows), "da_samples.csv")
w(do.call(rbind, res_rows), "da_limma.csv")
cat("limma", as.character(packageVersion("limma")), "\n")
