# Error rates of the usual differential-abundance approaches on the simulated data of
# benchmarks/bench_differential_abundance.py (run once; the benchmark only reads the fixture).
#
#   cd benchmarks && python bench_differential_abundance.py --write /tmp/da_sims
#   Rscript ../tests/reference/da_benchmark.R /tmp/da_sims      (writes ../tests/reference/fixtures/)
#
# R 4.2.2, edgeR 3.40.2, lme4 1.1-31, limma 3.54.1 (Debian).  Methods, per scenario and experiment:
#   edgeR LRT (diffcyt default)  DGEList(lib.size = cells); estimateDisp(trend.method = "none");
#                                glmFit; glmLRT(coef = 2)              (diffcyt testDA_edgeR)
#   edgeR QL                     estimateDisp; glmQLFit(robust = TRUE); glmQLFTest(coef = 2)
#   binomial GLMM                glmer(cbind(y, N - y) ~ group + (1 | sample), binomial), Wald z
#                                (diffcyt testDA_GLMM; first 100 experiments of a null scenario, 50 otherwise)
#   limma (R)                    lmFit + eBayes on log2((y + 0.5) / (N + 1))  (cross-check of ours)
# One row per scenario, experiment and method with the counts the benchmark turns into rates:
# n_null, rejected_null (p < 0.05), discoveries and false_discoveries (BH q < 0.05), n_changed,
# rejected_changed.
suppressMessages({library(edgeR); library(lme4); library(limma)})
args <- commandArgs(TRUE)
dir <- args[1]
out <- if (length(args) > 1) args[2] else "../tests/reference/fixtures/da_benchmark_r.csv"
scen <- sub("_counts.csv$", "", list.files(dir, pattern = "_counts.csv$"))
summ <- function(p, changed) {
  q <- p.adjust(p, "BH"); d <- q < 0.05; nul <- !changed
  c(n_null = sum(nul), rejected_null = sum(p[nul] < 0.05), discoveries = sum(d),
    false_discoveries = sum(d & nul), n_changed = sum(changed), rejected_changed = sum(p[changed] < 0.05))
}
rows <- list()
for (s in scen) {
  long <- read.csv(file.path(dir, paste0(s, "_counts.csv")))
  g <- factor(read.csv(file.path(dir, paste0(s, "_group.csv")))$group)
  changed <- read.csv(file.path(dir, paste0(s, "_changed.csv")))$changed == 1
  R <- max(long$experiment) + 1; n <- length(g); K <- length(changed)
  n_glmm <- if (startsWith(s, "null")) 100 else 50
  des <- model.matrix(~g)
  for (r in seq_len(R) - 1) {
    d <- long[long$experiment == r, ]
    cnt <- matrix(0, K, n)
    cnt[cbind(d$population + 1, d$sample + 1)] <- d$count
    lib <- colSums(cnt)
    y <- DGEList(cnt, lib.size = lib)
    y1 <- estimateDisp(y, des, trend.method = "none")
    p_lrt <- glmLRT(glmFit(y1, des), coef = 2)$table$PValue
    y2 <- estimateDisp(y, des)
    p_ql <- glmQLFTest(glmQLFit(y2, des, robust = TRUE), coef = 2)$table$PValue
    e <- log2(t((t(cnt) + 0.5) / (lib + 1)))
    p_limma <- eBayes(lmFit(e, des))$p.value[, 2]
    res <- list("edgeR LRT (diffcyt default)" = p_lrt, "edgeR QL F-test" = p_ql, "limma (R)" = p_limma)
    if (r < n_glmm) {
      sid <- factor(seq_len(n))
      res[["binomial GLMM (diffcyt)"]] <- sapply(seq_len(K), function(j) {
        f <- suppressMessages(suppressWarnings(glmer(cbind(cnt[j, ], lib - cnt[j, ]) ~ g + (1 | sid), family = binomial)))
        summary(f)$coefficients[2, 4]
      })
    }
    for (m in names(res)) {
      rows[[length(rows) + 1]] <- data.frame(scenario = s, experiment = r, method = m, t(summ(res[[m]], changed)))
    }
  }
  cat(s, "done\n")
}
tab <- do.call(rbind, rows)
write.csv(tab, out, row.names = FALSE)
cat("edgeR", as.character(packageVersion("edgeR")), "lme4", as.character(packageVersion("lme4")),
    "limma", as.character(packageVersion("limma")), "\n")
