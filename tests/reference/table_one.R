# Reference values for immune_correlates.stats.groups.table_one (ic.table_one).
#
# Run from the repository root:  Rscript tests/reference/table_one.R
# Base R only (stats). Writes CSV fixtures (17 significant digits) into
# tests/reference/fixtures/:
#   table_one_data.csv      simulated baseline data: two groupings, five variables
#   table_one_tests.csv     per grouping and variable: test, statistic, p-value,
#                           exact flag, SMD (Austin 2009; Yang & Dalton 2012),
#                           medians and quartiles per group (quantile type 2, as gtsummary)
#   fisher_rxc.csv          fisher.test p-values of assorted r x c tables
out <- "tests/reference/fixtures"
w <- function(df, name) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- sprintf("%.17g", df[[j]])
  write.csv(df, file.path(out, name), row.names = FALSE, quote = TRUE)
}

set.seed(20261126)
n <- 34
three <- rep(c("NR", "PR", "CR"), c(10, 16, 8))
two <- as.integer(three != "NR")
d <- data.frame(patient_id = sprintf("T%02d", 1:n), group3 = three, group2 = two,
                age = round(rnorm(n, 63 - 2 * two, 8)),                    # ties: normal approximation
                marker = round(exp(rnorm(n, 7 + 0.4 * two)), 3),            # untied: exact Wilcoxon
                sex = sample(c("F", "M"), n, TRUE, prob = c(0.3, 0.7)),
                del17p = rbinom(n, 1, 0.3),
                stage = sample(c("A", "B", "C"), n, TRUE, prob = c(0.3, 0.4, 0.3)))
d$marker[c(4, 19)] <- NA
d$stage[c(7, 22, 30)] <- NA
w(d, "table_one_data.csv")

smd_cont <- function(x, y) abs(mean(x) - mean(y)) / sqrt((var(x) + var(y)) / 2)
smd_cat <- function(p, q) {            # Yang & Dalton (2012): first level is the reference
  p <- p[-1]; q <- q[-1]
  S <- (diag(p, length(p)) - outer(p, p) + diag(q, length(q)) - outer(q, q)) / 2
  dd <- p - q
  sqrt(drop(t(dd) %*% solve(S) %*% dd))
}
rows <- list()
for (g in c("group2", "group3")) {
  lev <- if (g == "group2") c("0", "1") else c("CR", "NR", "PR")   # sorted, as Python
  gv <- as.character(d[[g]])
  for (v in c("age", "marker")) {
    x <- d[[v]]
    s <- lapply(lev, function(l) x[gv == l & !is.na(x)])
    if (length(lev) == 2) {
      t <- suppressWarnings(wilcox.test(s[[1]], s[[2]]))
      test <- if (grepl("exact", t$method) & !grepl("normal", t$method)) "wilcoxon_exact" else "wilcoxon_normal"
      stat <- unname(t$statistic); p <- t$p.value
    } else {
      t <- kruskal.test(x[!is.na(x)], factor(gv[!is.na(x)]))
      test <- "kruskal_wallis"; stat <- unname(t$statistic); p <- t$p.value
    }
    pairs <- combn(length(lev), 2)
    smd <- mean(apply(pairs, 2, function(ij) smd_cont(s[[ij[1]]], s[[ij[2]]])))
    for (k in seq_along(lev)) {
      q <- quantile(s[[k]], c(0.25, 0.5, 0.75), type = 2)
      rows[[length(rows) + 1]] <- data.frame(grouping = g, variable = v, group = lev[k], test = test,
        statistic = stat, p_value = p, smd = smd, q1 = q[1], median = q[2], q3 = q[3], n = length(s[[k]]),
        n_missing = sum(is.na(x) & gv == lev[k]))
    }
  }
  for (v in c("sex", "del17p", "stage")) {
    x <- as.character(d[[v]])
    keep <- !is.na(x)
    tab <- table(factor(x[keep]), factor(gv[keep], levels = lev))
    p <- fisher.test(tab)$p.value
    props <- lapply(lev, function(l) tab[, l] / sum(tab[, l]))
    pairs <- combn(length(lev), 2)
    smd <- mean(apply(pairs, 2, function(ij) smd_cat(props[[ij[1]]], props[[ij[2]]])))
    for (k in seq_along(lev)) {
      rows[[length(rows) + 1]] <- data.frame(grouping = g, variable = v, group = lev[k], test = "fisher_exact",
        statistic = NA_real_, p_value = p, smd = smd, q1 = NA_real_, median = NA_real_, q3 = NA_real_,
        n = sum(tab[, lev[k]]), n_missing = sum(!keep & gv == lev[k]))
    }
  }
}
w(do.call(rbind, rows), "table_one_tests.csv")

tabs <- list(c(2, 2, 3, 1, 1, 3), c(2, 3, 1, 4, 2, 0, 3, 5), c(3, 2, 0, 2, 6, 1, 1, 0, 4),
             c(3, 4, 5, 2, 2, 0, 1, 6, 4, 2, 3, 1), c(0, 5, 5, 0), c(10, 3, 2, 15, 1, 9))
dims <- list(c(2, 3), c(2, 4), c(3, 3), c(3, 4), c(2, 2), c(3, 2))
fr <- do.call(rbind, lapply(seq_along(tabs), function(i) {
  m <- matrix(tabs[[i]], nrow = dims[[i]][1])
  data.frame(case = i, nrow = nrow(m), ncol = ncol(m), cells = paste(as.vector(m), collapse = " "),
             p_value = fisher.test(m)$p.value)
}))
w(fr, "fisher_rxc.csv")
