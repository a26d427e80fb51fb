# Reference values for immune_correlates.stats.groups.rank_tests, .compare,
# .multiplicity and .proportions.
#
# Run from the repository root:  Rscript tests/reference/group_tests.R
# R 4.2, base stats only. Writes CSV fixtures (17 significant digits) into
# tests/reference/fixtures/:
#   groups_data.csv        simulated cohort: response group and features
#   groups_wilcox.csv      wilcox.test(x, y, conf.int=TRUE) per feature (CR vs NR)
#   groups_fisher.csv      fisher.test on the binary feature
#   groups_kruskal.csv     kruskal.test over NR < PR < CR
#   groups_jt.csv          Jonckheere-Terpstra (clinfun is unavailable: written
#                          from the definition below)
#   wilcox_cases.csv       extra wilcox.test cases (exact, ties, large n, lung)
#   padjust.csv            p.adjust with NA
#   binom_ci.csv           binom.test(k, n)$conf.int
suppressMessages(library(survival))
out <- "tests/reference/fixtures"
w <- function(df, name) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- sprintf("%.17g", df[[j]])
  write.csv(df, file.path(out, name), row.names = FALSE, quote = TRUE)
}

set.seed(20240611)
n <- 30
grp <- rep(c("NR", "PR", "CR"), c(11, 9, 10))
shift <- c(NR = 0, PR = 0.6, CR = 1.2)[grp]
d <- data.frame(patient_id = sprintf("P%02d", 1:n), response_group = grp,
                f_exact = round(rnorm(n, shift), 6),            # untied: exact test
                f_ties = round(rnorm(n, shift), 0),            # heavy ties: normal approx
                f_na = round(exp(rnorm(n, shift)), 4),          # missing values
                f_bin = rbinom(n, 1, plogis(-1 + shift * 1.5)), # binary: Fisher
                f_const = rep(c(1, 2), 15))
d$f_na[c(3, 14, 25)] <- NA
w(d, "groups_data.csv")

feats <- c("f_exact", "f_ties", "f_na", "f_const")
cr <- d[d$response_group == "CR", ]; nr <- d[d$response_group == "NR", ]
rows <- lapply(feats, function(f) {
  x <- cr[[f]]; y <- nr[[f]]; x <- x[!is.na(x)]; y <- y[!is.na(y)]
  t <- suppressWarnings(wilcox.test(x, y, conf.int = TRUE))
  data.frame(feature = f, n_x = length(x), n_y = length(y), W = unname(t$statistic),
             p = t$p.value, estimate = unname(t$estimate), ci_lower = t$conf.int[1],
             ci_upper = t$conf.int[2], exact = grepl("exact", t$method, ignore.case = TRUE) &
               !grepl("normal", t$method),
             rank_biserial = 2 * unname(t$statistic) / (length(x) * length(y)) - 1,
             median_x = median(x), median_y = median(y),
             q1_x = unname(quantile(x, 0.25)), q3_y = unname(quantile(y, 0.75)))
})
wt <- do.call(rbind, rows)
ft <- fisher.test(table(factor(c(cr$f_bin, nr$f_bin)), factor(rep(c("CR", "NR"), c(nrow(cr), nrow(nr))),
  levels = c("CR", "NR")))[2:1, , drop = FALSE] |> t())
w(data.frame(feature = "f_bin", p = ft$p.value, odds_ratio = unname(ft$estimate),
             ci_lower = ft$conf.int[1], ci_upper = ft$conf.int[2],
             a = sum(cr$f_bin == 1), b = sum(cr$f_bin == 0), c = sum(nr$f_bin == 1),
             d = sum(nr$f_bin == 0)), "groups_fisher.csv")
p_all <- c(wt$p, ft$p.value)
for (m in c("BH", "holm", "bonferroni")) wt[[paste0("q_", m)]] <- p.adjust(p_all, m)[seq_len(nrow(wt))]
w(wt, "groups_wilcox.csv")
w(data.frame(method = c("BH", "holm", "bonferroni"),
             q_fbin = sapply(c("BH", "holm", "bonferroni"), function(m) p.adjust(p_all, m)[length(p_all)])),
  "groups_fisher_q.csv")

# More Fisher tables (rows: group 1, group 2; columns: feature 1, feature 0).
ftabs <- list(c(3, 1, 1, 3), c(7, 2, 3, 8), c(0, 5, 4, 2), c(5, 0, 2, 6), c(10, 12, 4, 20), c(2, 2, 2, 2))
w(do.call(rbind, lapply(ftabs, function(v) {
  t <- fisher.test(matrix(v, 2, byrow = TRUE))
  data.frame(a = v[1], b = v[2], c = v[3], d = v[4], p = t$p.value,
             odds_ratio = unname(t$estimate), ci_lower = t$conf.int[1], ci_upper = t$conf.int[2])
})), "fisher_cases.csv")

# ---- Kruskal-Wallis and Jonckheere-Terpstra over NR < PR < CR -------------
lev <- c("NR", "PR", "CR")
# Jonckheere-Terpstra from the definition (Jonckheere 1954; Hollander & Wolfe):
# J = sum_{i<j} #(x_i < x_j) + 0.5 #(x_i == x_j) over ordered groups i < j.
# Exact null distribution (no ties): J is the sum of the independent
# Mann-Whitney counts of group j against the pooled groups 1..j-1, so its
# pmf is the convolution of dwilcox(., n_j, N_{j-1}).
# Normal approximation: mean (N^2 - sum n_i^2)/4 and the tie-corrected
# variance of Hollander & Wolfe (2nd ed., eq. 6.19); two-sided p.
jt <- function(x, g) {
  xs <- split(x, factor(g, levels = lev)); ns <- sapply(xs, length); N <- sum(ns); k <- length(xs)
  J <- 0
  for (i in 1:(k - 1)) for (j in (i + 1):k)
    J <- J + sum(outer(xs[[i]], xs[[j]], "<")) + 0.5 * sum(outer(xs[[i]], xs[[j]], "=="))
  tt <- table(x)
  mu <- (N^2 - sum(ns^2)) / 4
  v <- (N * (N - 1) * (2 * N + 5) - sum(ns * (ns - 1) * (2 * ns + 5)) - sum(tt * (tt - 1) * (2 * tt + 5))) / 72 +
    sum(ns * (ns - 1) * (ns - 2)) * sum(tt * (tt - 1) * (tt - 2)) / (36 * N * (N - 1) * (N - 2)) +
    sum(ns * (ns - 1)) * sum(tt * (tt - 1)) / (8 * N * (N - 1))
  z <- (J - mu) / sqrt(v)
  p_norm <- 2 * pnorm(-abs(z))
  pmf <- 1; cum <- ns[1]
  for (j in 2:k) { pmf <- convolve(pmf, rev(dwilcox(0:(ns[j] * cum), ns[j], cum)), type = "open"); cum <- cum + ns[j] }
  pmf <- pmax(pmf, 0)
  support <- 0:(length(pmf) - 1)
  p_lo <- sum(pmf[support <= J]); p_hi <- sum(pmf[support >= J])
  p_exact <- if (any(duplicated(x))) NA else min(1, 2 * min(p_lo, p_hi))
  c(J = J, mean = mu, var = v, z = z, p_normal = p_norm, p_exact = p_exact)
}
kw_rows <- lapply(c("f_exact", "f_ties", "f_na", "f_const"), function(f) {
  keep <- !is.na(d[[f]]); x <- d[[f]][keep]; g <- factor(d$response_group[keep], levels = lev)
  k <- kruskal.test(x, g)
  data.frame(feature = f, H = unname(k$statistic), df = unname(k$parameter), p = k$p.value,
             t(jt(x, g)))
})
w(do.call(rbind, kw_rows), "groups_kruskal_jt.csv")

# A larger untied JT case through the exact convolution, and a tied one.
set.seed(7)
x3 <- round(rnorm(24, rep(c(0, 0.3, 0.9), c(7, 8, 9))), 8); g3 <- rep(lev, c(7, 8, 9))
w(data.frame(x = x3, g = g3), "jt_case_data.csv")
w(data.frame(t(jt(x3, g3))), "jt_case.csv")

# ---- further wilcox.test cases ---------------------------------------------
set.seed(11)
big_x <- rnorm(60, 0.4); big_y <- rnorm(55)
tie_x <- c(1, 2, 2, 3, 5, 5, 7); tie_y <- c(0, 1, 1, 2, 4)
lung_m <- lung$age[lung$sex == 1]; lung_f <- lung$age[lung$sex == 2]
ov1 <- ovarian$age[ovarian$rx == 1]; ov2 <- ovarian$age[ovarian$rx == 2]
wc <- list(big = list(big_x, big_y), ties = list(tie_x, tie_y), lung_age_sex = list(lung_m, lung_f),
           ovarian_age_rx = list(ov1, ov2), tiny = list(c(1.5, 3.2), c(0.1, 2.2, 4.4)))
w(do.call(rbind, lapply(names(wc), function(nm) {
  x <- wc[[nm]][[1]]; y <- wc[[nm]][[2]]
  t <- suppressWarnings(wilcox.test(x, y, conf.int = TRUE))
  data.frame(case = nm, W = unname(t$statistic), p = t$p.value, estimate = unname(t$estimate),
             ci_lower = t$conf.int[1], ci_upper = t$conf.int[2])
})), "wilcox_cases.csv")
w(data.frame(case = rep(names(wc), sapply(wc, function(v) length(v[[1]]) + length(v[[2]]))),
             side = unlist(lapply(wc, function(v) rep(c("x", "y"), c(length(v[[1]]), length(v[[2]]))))),
             value = unlist(wc)), "wilcox_cases_data.csv")
ks <- kruskal.test(age ~ ph.ecog, data = lung)
w(data.frame(H = unname(ks$statistic), df = unname(ks$parameter), p = ks$p.value), "kruskal_lung_age_ecog.csv")

# ---- p.adjust ---------------------------------------------------------------
p <- c(0.01, 0.04, NA, 0.03, 0.2, 0.0005, 0.04, NA, 0.9, 0.011)
w(data.frame(p = p, BH = p.adjust(p, "BH"), holm = p.adjust(p, "holm"),
             bonferroni = p.adjust(p, "bonferroni")), "padjust.csv")

# ---- Clopper-Pearson ----------------------------------------------------------
kn <- rbind(c(0, 10), c(1, 10), c(10, 10), c(24, 34), c(8, 34), c(17, 34), c(1, 1), c(0, 1), c(50, 228))
w(do.call(rbind, lapply(seq_len(nrow(kn)), function(i) {
  k <- kn[i, 1]; nn <- kn[i, 2]
  a <- binom.test(k, nn)$conf.int; b <- binom.test(k, nn, conf.level = 0.9)$conf.int
  data.frame(k = k, n = nn, lower = a[1], upper = a[2], lower90 = b[1], upper90 = b[2])
})), "binom_ci.csv")
