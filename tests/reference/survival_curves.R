# Reference values for immune_correlates.stats.survival.kaplan_meier and .logrank.
#
# Run from the repository root:  Rscript tests/reference/survival_curves.R
# Writes CSV fixtures (17 significant digits) into tests/reference/fixtures/:
#   km_lung.csv, km_ovarian.csv, km_flat.csv        datasets used by the tests
#   km_table_<data>_<conf>.csv                       survfit() curve (std.err on the
#                                                    cumulative-hazard scale, as survfit)
#   km_median_<data>_<conf>.csv                      summary(fit)$table: median, CI, rmean
#   km_at_<data>_<conf>.csv                          summary(fit, times=, extend=TRUE)
#   logrank_<case>.csv                               survdiff() O, E, chisq, p
#                                                    (strata_sex_old: strata(sex, age > 65))
#   logrank_trend.csv                                trend test from survdiff's O, E, var
# survival 3.5-3, R 4.2.
suppressMessages(library(survival))
out <- "tests/reference/fixtures"
w <- function(df, name) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- sprintf("%.17g", df[[j]])
  write.csv(df, file.path(out, name), row.names = FALSE, quote = TRUE)
}

lung_df <- data.frame(patient_id = sprintf("L%03d", seq_len(nrow(lung))),
                      time = lung$time, event = lung$status - 1L,
                      sex = lung$sex, ph_ecog = lung$ph.ecog, age = lung$age)
ovarian_df <- data.frame(patient_id = sprintf("O%02d", seq_len(nrow(ovarian))),
                         time = ovarian$futime, event = ovarian$fustat, rx = ovarian$rx,
                         age = ovarian$age)
# Flat segments at S = 0.5: group A crosses 0.5 on an interval (median is the
# midpoint 3), group B stays at 0.5 to the end of follow-up (median is 2).
flat_df <- data.frame(patient_id = sprintf("F%02d", 1:10),
                      time = c(1, 2, 4, 5, 1, 2, 3, 4, 6, 7),
                      event = c(1, 1, 1, 1, 1, 1, 1, 0, 0, 0),
                      grp = c(rep("A", 4), rep("B", 6)))
w(lung_df, "km_lung.csv"); w(ovarian_df, "km_ovarian.csv"); w(flat_df, "km_flat.csv")

curve_table <- function(fit) {
  strata <- if (is.null(fit$strata)) rep("all", length(fit$time)) else
    rep(sub("^[^=]*=", "", names(fit$strata)), fit$strata)
  data.frame(group = strata, time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
             n_censor = fit$n.censor, survival = fit$surv, std_err = fit$std.err,
             ci_lower = fit$lower, ci_upper = fit$upper)
}
median_table <- function(fit) {
  tab <- summary(fit, rmean = "individual")$table
  if (is.null(dim(tab))) tab <- t(as.matrix(tab))
  grp <- if (is.null(fit$strata)) "all" else sub("^[^=]*=", "", names(fit$strata))
  data.frame(group = grp, median = tab[, "median"], ci_lower = tab[, grep("LCL$", colnames(tab))],
             ci_upper = tab[, grep("UCL$", colnames(tab))], rmean = tab[, "rmean"], se_rmean = tab[, "se(rmean)"])
}
at_table <- function(fit, times) {
  s <- summary(fit, times = times, extend = TRUE)
  grp <- if (is.null(s$strata)) rep("all", length(s$time)) else sub("^[^=]*=", "", as.character(s$strata))
  data.frame(group = grp, time = s$time, n_risk = s$n.risk, survival = s$surv,
             ci_lower = s$lower, ci_upper = s$upper)
}
cases <- list(
  lung_all = list(f = Surv(time, event) ~ 1, d = lung_df, times = c(0, 5, 100, 365.25, 700, 1100)),
  lung_sex = list(f = Surv(time, event) ~ sex, d = lung_df, times = c(0, 5, 100, 365.25, 700, 1100)),
  ovarian_rx = list(f = Surv(time, event) ~ rx, d = ovarian_df, times = c(0, 59, 365, 1000, 1300)),
  ovarian_all = list(f = Surv(time, event) ~ 1, d = ovarian_df, times = c(0, 59, 365, 1000, 1300)),
  flat_grp = list(f = Surv(time, event) ~ grp, d = flat_df, times = c(0.5, 2, 3, 6.5, 9))
)
for (nm in names(cases)) for (ct in c("log", "log-log", "plain")) {
  cs <- cases[[nm]]
  fit <- survfit(cs$f, data = cs$d, conf.type = ct)
  tag <- paste0(nm, "_", gsub("-", "", ct))
  w(curve_table(fit), paste0("km_table_", tag, ".csv"))
  w(median_table(fit), paste0("km_median_", tag, ".csv"))
  w(at_table(fit, cs$times), paste0("km_at_", tag, ".csv"))
}
fit90 <- survfit(Surv(time, event) ~ sex, data = lung_df, conf.int = 0.9)
w(curve_table(fit90), "km_table_lung_sex_log_90.csv")
w(median_table(fit90), "km_median_lung_sex_log_90.csv")

# ---- log-rank (survdiff) ---------------------------------------------------
lr <- function(sd, name) {
  obs <- if (is.matrix(sd$obs)) rowSums(sd$obs) else sd$obs
  ex <- if (is.matrix(sd$exp)) rowSums(sd$exp) else sd$exp
  df <- sum(ex > 0) - 1
  grp <- sub("^[^=]*=", "", names(sd$n))
  w(data.frame(group = grp, n = as.numeric(sd$n), observed = obs, expected = ex,
               chisq = sd$chisq, df = df, p = pchisq(sd$chisq, df, lower.tail = FALSE)), name)
  sd
}
lr(survdiff(Surv(time, event) ~ sex, data = lung_df), "logrank_lung_sex.csv")
sde <- lr(survdiff(Surv(time, event) ~ ph_ecog, data = lung_df), "logrank_lung_ecog.csv")
sds <- lr(survdiff(Surv(time, event) ~ ph_ecog + strata(sex), data = lung_df), "logrank_lung_ecog_strata_sex.csv")
lung_old <- transform(lung_df, old = as.integer(age > 65))
lr(survdiff(Surv(time, event) ~ ph_ecog + strata(sex, old), data = lung_old), "logrank_lung_ecog_strata_sex_old.csv")
lr(survdiff(Surv(time, event) ~ sex, data = lung_df, rho = 1), "logrank_lung_sex_rho1.csv")
lr(survdiff(Surv(time, event) ~ rx, data = ovarian_df), "logrank_ovarian_rx.csv")

# Trend test from the definition: chi2 = (s'(O-E))^2 / (s' V s), 1 df,
# with V survdiff's variance matrix of O - E.
trend <- function(sd, s) {
  obs <- if (is.matrix(sd$obs)) rowSums(sd$obs) else sd$obs
  ex <- if (is.matrix(sd$exp)) rowSums(sd$exp) else sd$exp
  u <- sum(s * (obs - ex)); v <- drop(t(s) %*% sd$var %*% s)
  c(statistic = u^2 / v, p = pchisq(u^2 / v, 1, lower.tail = FALSE), u = u, v = v)
}
tr <- rbind(ecog_1k = trend(sde, 1:4), ecog_scores = trend(sde, c(0, 1, 2, 5)),
            ecog_strata_1k = trend(sds, 1:4))
w(data.frame(case = rownames(tr), tr), "logrank_trend.csv")

# Hazard ratio of each ECOG group against ECOG 0 (immune_correlates.stats.survival.hazard_ratios):
# coxph(Surv(time, event) ~ factor(ph_ecog)), Efron ties, Wald intervals and p-values.
hr_fit <- coxph(Surv(time, event) ~ factor(ph_ecog), data = lung_df)
hr_ci <- exp(confint(hr_fit))
w(data.frame(group = sub("^factor\\(ph_ecog\\)", "", names(coef(hr_fit))), hazard_ratio = exp(coef(hr_fit)),
             ci_lower = hr_ci[, 1], ci_upper = hr_ci[, 2],
             p_value = summary(hr_fit)$coefficients[, "Pr(>|z|)"], n = hr_fit$n, n_events = hr_fit$nevent),
  "hr_lung_ecog.csv")
