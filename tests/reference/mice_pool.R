# Reference values for Rubin's rules (immune_correlates.pool and fits on ImputedData).
#
# Run from the repository root:  Rscript tests/reference/mice_pool.R
# mice 3.15.0, survival 3.5-3, R 4.2.2 (Debian).  Writes to tests/reference/fixtures/:
#   mice_lung_completed.csv    survival::lung imputed by mice (m = 5, pmm, seed 2016): the data as given
#                              (`imputation` 0, with its missing values) and the five completed data sets
#                              (1..5) stacked, as complete(imp, "long", include = TRUE); `dead` = status - 1
#   mice_nhanes_completed.csv  mice::nhanes imputed (m = 5, pmm, seed 1987), stacked the same way
#   mice_pool.csv              summary(pool(fit), type = "all", conf.int = TRUE) for each model:
#                              model, term, estimate, ubar, b, t, dfcom, df, riv, lambda, fmi,
#                              std_error, statistic, p_value, ci_lower, ci_upper (17 digits)
#   mice_fits.csv              the per-imputation estimates and standard errors behind them
#                              (model, imputation, term, estimate, std_error)
#   mice_d1.csv                multivariate Wald tests of a term, mice::D1(fit1, fit0) (mitml 0.4-4's D1 with
#                              Reiter's (2007) small-sample df from dfcom): model, term, statistic (F), df1,
#                              df2, p_value, riv; for glm and coxph with factor(ecog) (ph_ecog with 3, a single
#                              patient, merged into 2: 2 df) and age (1 df); coxph converged tightly (eps 1e-12)
# Models: logistic glm(dead ~ age + sex + ph_karno + wt_loss), converged tightly (glm.control(epsilon =
# 1e-14): glm's default stops ~1e-6 short in the variances) (dfcom = df.residual = n - p);
# Cox coxph(Surv(time, dead) ~ age + sex + ph_karno + wt_loss), Efron ties (dfcom = events - p);
# the logistic model again with dfcom = 20 given; linear lm(chl ~ age + bmi) on nhanes
# (dfcom = n - p) for fits made by other libraries (statsmodels OLS).
suppressMessages({library(mice); library(survival)})
out <- file.path("tests", "reference", "fixtures")
fmt <- function(x) ifelse(is.na(x), "NaN", sprintf("%.17g", x))
num <- function(df) { for (j in seq_along(df)) if (is.double(df[[j]])) df[[j]] <- fmt(df[[j]]); df }

lung0 <- survival::lung[, c("time", "status", "age", "sex", "ph.ecog", "ph.karno", "wt.loss", "meal.cal")]
names(lung0) <- gsub(".", "_", names(lung0), fixed = TRUE)
lung0$dead <- lung0$status - 1L
lung0$status <- NULL
imp_lung <- mice(lung0, m = 5, method = "pmm", seed = 2016, printFlag = FALSE)
long <- complete(imp_lung, "long", include = TRUE)
long$patient_id <- sprintf("L%03d", long$.id)
long$imputation <- long$.imp
long$.id <- NULL; long$.imp <- NULL
write.csv(num(long), file.path(out, "mice_lung_completed.csv"), row.names = FALSE)

imp_nh <- mice(nhanes, m = 5, method = "pmm", seed = 1987, printFlag = FALSE)
long <- complete(imp_nh, "long", include = TRUE)
long$patient_id <- sprintf("N%02d", long$.id)
long$imputation <- long$.imp
long$.id <- NULL; long$.imp <- NULL
write.csv(num(long), file.path(out, "mice_nhanes_completed.csv"), row.names = FALSE)

fits <- list(
  logistic = with(imp_lung, glm(dead ~ age + sex + ph_karno + wt_loss, family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100))),
  cox = with(imp_lung, coxph(Surv(time, dead) ~ age + sex + ph_karno + wt_loss, ties = "efron")),
  logistic_dfcom20 = with(imp_lung, glm(dead ~ age + sex + ph_karno + wt_loss, family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100))),
  linear = with(imp_nh, lm(chl ~ age + bmi))
)
rows <- list(); frows <- list()
for (name in names(fits)) {
  pooled <- if (name == "logistic_dfcom20") pool(fits[[name]], dfcom = 20) else pool(fits[[name]])
  s <- summary(pooled, type = "all", conf.int = TRUE, conf.level = 0.95)
  p <- pooled$pooled
  rows[[name]] <- data.frame(model = name, term = as.character(s$term), estimate = fmt(p$estimate), ubar = fmt(p$ubar),
                             b = fmt(p$b), t = fmt(p$t), dfcom = fmt(p$dfcom), df = fmt(p$df), riv = fmt(p$riv),
                             lambda = fmt(p$lambda), fmi = fmt(p$fmi), std_error = fmt(s$std.error),
                             statistic = fmt(s$statistic), p_value = fmt(s$p.value),
                             ci_lower = fmt(s[["2.5 %"]]), ci_upper = fmt(s[["97.5 %"]]))
  for (i in seq_along(fits[[name]]$analyses)) {
    f <- fits[[name]]$analyses[[i]]
    cf <- summary(f)$coefficients
    frows[[length(frows) + 1]] <- data.frame(model = name, imputation = i, term = rownames(cf),
                                             estimate = fmt(cf[, 1]), std_error = fmt(if (name == "cox") cf[, 3] else cf[, 2]))
  }
}
write.csv(do.call(rbind, rows), file.path(out, "mice_pool.csv"), row.names = FALSE)
write.csv(do.call(rbind, frows), file.path(out, "mice_fits.csv"), row.names = FALSE)
cat("mice", as.character(packageVersion("mice")), "survival", as.character(packageVersion("survival")), "\n")

# multivariate Wald tests (D1) of a term: the model with it against the model without it
d1rows <- list()
d1 <- function(label, term, fit1, fit0) {
  r <- D1(fit1, fit0)$result
  d1rows[[length(d1rows) + 1]] <<- data.frame(model = label, term = term, statistic = fmt(r[1, "F.value"]),
                                              df1 = fmt(r[1, "df1"]), df2 = fmt(r[1, "df2"]),
                                              p_value = fmt(r[1, "P(>F)"]), riv = fmt(r[1, "RIV"]))
}
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
cctl <- coxph.control(eps = 1e-12, iter.max = 50)
lg_full <- with(imp_lung, glm(dead ~ age + factor(pmin(ph_ecog, 2)) + wt_loss, family = binomial, control = ctl))
d1("logistic", "ecog", lg_full, with(imp_lung, glm(dead ~ age + wt_loss, family = binomial, control = ctl)))
d1("logistic", "age", lg_full,
   with(imp_lung, glm(dead ~ factor(pmin(ph_ecog, 2)) + wt_loss, family = binomial, control = ctl)))
cx_full <- with(imp_lung, coxph(Surv(time, dead) ~ age + factor(pmin(ph_ecog, 2)) + wt_loss, control = cctl))
d1("cox", "ecog", cx_full, with(imp_lung, coxph(Surv(time, dead) ~ age + wt_loss, control = cctl)))
d1("cox", "age", cx_full, with(imp_lung, coxph(Surv(time, dead) ~ factor(pmin(ph_ecog, 2)) + wt_loss, control = cctl)))
write.csv(do.call(rbind, d1rows), file.path(out, "mice_d1.csv"), row.names = FALSE)
cat("mitml", as.character(packageVersion("mitml")), "\n")
