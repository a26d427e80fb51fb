# ICS Boolean subsets: one-sided Fisher exact positivity (stats::fisher.test), BH within sample,
# background-subtracted subsets and the polyfunctionality index (Larsen et al. 2012, q = 1).
# Regenerate: Rscript tests/reference/ics.R  (writes fixtures/ics_subsets.csv, fixtures/ics_expected.csv)
set.seed(20261126)
funs <- c("CD107a", "IFNg", "TNFa")
grid <- expand.grid(CD107a = c(TRUE, FALSE), IFNg = c(TRUE, FALSE), TNFa = c(TRUE, FALSE))
subset_name <- apply(grid, 1, function(r) paste0(funs, ifelse(r, "+", "-"), collapse = " "))
degree <- rowSums(grid)
rows <- list(); expected <- list()
for (pid in c("P01", "P02", "P03")) for (ct in c("CD4 T", "CD8 T")) {
  N <- 20000 + rpois(1, 5000); U <- 20000 + rpois(1, 5000)
  # background: a few events per subset; stimulated: more in some polyfunctional subsets
  u <- ifelse(degree == 0, 0, rpois(8, 4))
  n <- ifelse(degree == 0, 0, rpois(8, ifelse(pid == "P03", 4, 4 + 30 * degree)))
  u[degree == 0] <- U - sum(u); n[degree == 0] <- N - sum(n)
  rows[[length(rows) + 1]] <- data.frame(patient_id = pid, timepoint = "baseline", cell_type = ct,
    condition = rep(c("stimulated", "unstimulated"), each = 8), subset = rep(subset_name, 2),
    count = c(n, u), parent_count = rep(c(N, U), each = 8))
  p <- sapply(1:8, function(i) fisher.test(matrix(c(n[i], N - n[i], u[i], U - u[i]), 2, byrow = TRUE),
                                           alternative = "greater")$p.value)
  p[degree == 0] <- NA
  q <- rep(NA, 8); q[degree > 0] <- p.adjust(p[degree > 0], "BH")
  bg <- pmax(100 * n / N - 100 * u / U, 0); bg[degree == 0] <- NA
  tot <- sum(bg, na.rm = TRUE)
  pi <- sum(bg[degree > 0] * degree[degree > 0] / 3) / tot
  expected[[length(expected) + 1]] <- data.frame(patient_id = pid, cell_type = ct, subset = subset_name,
    p_value = p, q_value_bh = q, pct_background_subtracted = bg, pct_responding = tot,
    polyfunctionality_index = pi)
}
write.csv(do.call(rbind, rows), "tests/reference/fixtures/ics_subsets.csv", row.names = FALSE)
out <- do.call(rbind, expected)
num <- sapply(out, is.numeric)
out[num] <- lapply(out[num], function(x) ifelse(is.na(x), NA, sprintf("%.17g", x)))
write.csv(out, "tests/reference/fixtures/ics_expected.csv", row.names = FALSE, na = "")
