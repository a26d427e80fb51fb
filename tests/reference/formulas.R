# Reference values for formula models: factors, reference levels, interactions,
# log transforms, spline bases, strata, and drop1 term tests.
#
# Run from the repository root:  Rscript tests/reference/formulas.R
# Writes tests/reference/fixtures/formulas_*.csv (data sets and results, 17
# significant digits).  Needs R >= 4.2 with survival, splines, brglm2 and,
# optionally, logistf.
#
# What comes from where
# * Logistic ML: stats::glm(family = binomial); term tests drop1(fit, test = "Chisq").
# * Logistic Firth: brglm2 (type = "AS_mean", Firth's penalized likelihood for
#   the logit link) for estimates and SEs; logistf (if installed) for the
#   penalized log-likelihood, profile penalized-likelihood intervals, the
#   penalized LR p-values and drop1 (each term fixed at zero inside the full
#   penalized model).  logistf 1.26.1 was built from the CRAN source mirror
#   (github cran/logistf) with its mice and formula.tools imports removed from
#   NAMESPACE/DESCRIPTION (they are used only by FLIC/FLAC and multiple
#   imputation pooling, not by logistf() or drop1()):
#     R CMD INSTALL -l /tmp/Rlib <patched source>;  R_LIBS=/tmp/Rlib Rscript tests/reference/formulas.R
# * Cox: survival::coxph (Efron ties), strata(); drop1(fit, test = "Chisq");
#   per-coefficient likelihood-ratio p-values from refits without that
#   model-matrix column (same strata).
# * Factor levels follow the package's convention: text columns sort in
#   code-point order (R's C locale, sort(method = "radix")); a changed
#   reference level is relevel(); Python spells it C(x, Treatment("level")).
# * Splines: splines::bs(x, df = 3) (formulaic's bs() is the same basis).

suppressPackageStartupMessages({
  library(survival)
  library(splines)
  library(brglm2)
})
have_logistf <- requireNamespace("logistf", quietly = TRUE)
out_dir <- file.path("tests", "reference", "fixtures")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
fmt <- function(x) ifelse(is.finite(x), sprintf("%.17g", x), ifelse(is.na(x), "NaN", ifelse(x > 0, "inf", "-inf")))
write_data <- function(df, name) {
  df <- cbind(patient_id = sprintf("P%03d", seq_len(nrow(df))), df)
  for (j in seq_along(df)) {
    if (is.double(df[[j]])) df[[j]] <- ifelse(is.na(df[[j]]), "", sprintf("%.17g", df[[j]]))
    if (is.factor(df[[j]])) df[[j]] <- as.character(df[[j]])
  }
  write.csv(df, file.path(out_dir, paste0("formulas_", name, ".csv")), row.names = FALSE, quote = TRUE, na = "")
}
results <- list()
add <- function(case, quantity, value, position = seq_along(value), term = names(value)) {
  if (is.null(term)) term <- rep("", length(value))
  results[[length(results) + 1]] <<- data.frame(case = case, position = position, term = term,
                                                quantity = quantity, value = fmt(unname(value)),
                                                stringsAsFactors = FALSE)
}
c_levels <- function(x) factor(x, levels = sort(unique(as.character(x)), method = "radix"))

# ---------------------------------------------------------------- data sets
inf <- infert[, c("case", "age", "education", "spontaneous", "induced")]
inf$education <- as.character(inf$education)
write_data(inf, "infert")
inf$education <- c_levels(inf$education)

vet <- survival::veteran[, c("time", "status", "trt", "celltype", "karno", "prior")]
vet$celltype <- as.character(vet$celltype)
vet$prior <- ifelse(vet$prior == 10, "yes", "no")
write_data(vet, "veteran")
vet$celltype <- c_levels(vet$celltype)

lung <- survival::lung[, c("time", "status", "age", "sex", "ph.karno", "ph.ecog")]
names(lung) <- c("time", "status", "age", "sex", "ph_karno", "ph_ecog")
lung$status <- lung$status - 1
lung$sex <- ifelse(lung$sex == 1, "male", "female")
write_data(lung, "lung")
lung$sex <- c_levels(lung$sex)

# --------------------------------------------------------------- logistic ML
glm_case <- function(case, f, d) {
  fit <- glm(f, family = binomial, data = d, control = glm.control(epsilon = 1e-14, maxit = 100))
  s <- summary(fit)$coefficients
  add(case, "estimate", coef(fit))
  add(case, "std_error", s[, 2])
  add(case, "wald_p", s[, 4])
  add(case, "loglik", as.numeric(logLik(fit)), 1, "")
  d1 <- drop1(fit, test = "Chisq")[-1, ]
  add(case, "drop1_df", setNames(d1$Df, rownames(d1)))
  add(case, "drop1_lrt", setNames(d1$LRT, rownames(d1)))
  add(case, "drop1_p", setNames(d1[["Pr(>Chi)"]], rownames(d1)))
  invisible(fit)
}
glm_case("glm_factor", case ~ age + education + spontaneous + induced, inf)
inf_ref <- inf
inf_ref$education <- relevel(inf_ref$education, ref = "6-11yrs")
glm_case("glm_reference", case ~ age + education + spontaneous + induced, inf_ref)
glm_case("glm_interaction_log", case ~ education * spontaneous + log(age), inf)
glm_case("glm_spline", case ~ bs(age, df = 3) + spontaneous + induced, inf)

# ------------------------------------------------------------ logistic Firth
fb <- glm(case ~ age + education + spontaneous + induced, family = binomial, data = inf,
          method = "brglmFit", type = "AS_mean", control = list(epsilon = 1e-14, maxit = 200))
add("firth_factor", "brglm2_estimate", coef(fb))
add("firth_factor", "brglm2_std_error", summary(fb)$coefficients[, 2])
if (have_logistf) {
  lf <- logistf::logistf(case ~ age + education + spontaneous + induced, data = inf, pl = TRUE,
                         control = logistf::logistf.control(maxit = 200, xconv = 1e-12, gconv = 1e-12),
                         plcontrol = logistf::logistpl.control(maxit = 400, xconv = 1e-12))
  add("firth_factor", "estimate", coef(lf))
  add("firth_factor", "loglik", lf$loglik[["full"]], 1, "")
  add("firth_factor", "ci_lower", setNames(lf$ci.lower, names(coef(lf))))
  add("firth_factor", "ci_upper", setNames(lf$ci.upper, names(coef(lf))))
  add("firth_factor", "lr_p", setNames(lf$prob, names(coef(lf))))
  suppressPackageStartupMessages(library(logistf))
  d1 <- drop1(lf, data = inf)
  add("firth_factor", "drop1_df", setNames(d1[, "df"], rownames(d1)))
  add("firth_factor", "drop1_lrt", setNames(d1[, "ChiSq"], rownames(d1)))
  add("firth_factor", "drop1_p", setNames(d1[, "P-value"], rownames(d1)))
}

# ----------------------------------------------------------------------- Cox
cox_case <- function(case, f, d, strata_term = NULL) {
  ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
  d <- na.omit(d[, all.vars(f)])  # complete cases of the model's columns (drop1 refits on the same rows)
  # the call holds the data and control themselves, so drop1()'s refits find them
  fit <- eval(bquote(coxph(.(f), data = .(d), ties = "efron", control = .(ctl))))
  s <- summary(fit)$coefficients
  add(case, "estimate", coef(fit))
  add(case, "std_error", s[, "se(coef)"])
  add(case, "wald_p", s[, "Pr(>|z|)"])
  add(case, "loglik", fit$loglik[2], 1, "")
  add(case, "nobs", fit$n, 1, "")
  d1 <- drop1(fit, test = "Chisq")[-1, ]
  d1 <- d1[!startsWith(rownames(d1), "strata("), ]  # a stratum has no coefficient to test
  add(case, "drop1_df", setNames(d1$Df, rownames(d1)))
  add(case, "drop1_lrt", setNames(d1$LRT, rownames(d1)))
  add(case, "drop1_p", setNames(d1[["Pr(>Chi)"]], rownames(d1)))
  # per-coefficient LR p-values: refit without one model-matrix column
  mf <- model.frame(fit)
  X <- model.matrix(fit)
  y <- model.response(mf)
  st <- if (is.null(strata_term)) NULL else strata(d[rownames(mf), strata_term])
  lr_p <- sapply(seq_len(ncol(X)), function(k) {
    Xk <- X[, -k, drop = FALSE]
    sub <- if (is.null(st)) coxph(y ~ Xk, ties = "efron", control = ctl)
           else coxph(y ~ Xk + strata(st), ties = "efron", control = ctl)
    pchisq(2 * (fit$loglik[2] - sub$loglik[2]), 1, lower.tail = FALSE)
  })
  add(case, "lr_p", setNames(lr_p, colnames(X)))
  invisible(fit)
}
cox_case("cox_factor_strata", Surv(time, status) ~ karno + celltype + strata(prior), vet, "prior")
vet_ref <- vet
vet_ref$celltype <- relevel(vet_ref$celltype, ref = "squamous")
cox_case("cox_reference", Surv(time, status) ~ karno + trt + celltype, vet_ref)
cox_case("cox_interaction_log", Surv(time, status) ~ log(age) + sex * ph_karno, lung)
cox_case("cox_spline_strata", Surv(time, status) ~ bs(age, df = 3) + ph_karno + strata(sex), lung, "sex")

out <- do.call(rbind, results)
write.csv(out, file.path(out_dir, "formulas_reference.csv"), row.names = FALSE, quote = TRUE)
cat("logistf:", have_logistf, " rows:", nrow(out), "\n")
