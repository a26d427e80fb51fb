# Reference values for linear mixed models (ic.fit_mixed): lme4 estimates,
# lmerTest Satterthwaite t- and F-tests, pbkrtest/lmerTest Kenward-Roger.
#
# Run from the repository root:  Rscript tests/reference/mixed.R
# Writes tests/reference/fixtures/mixed_data_*.csv (the data sets, 17
# significant digits) and tests/reference/fixtures/mixed_reference.csv (one row
# per case, quantity and term).  Versions used: R 4.2.2, lme4 1.1-31,
# lmerTest 3.1-3, pbkrtest 0.5.2, numDeriv 2016.8-1.1, minqa (Debian packages).
#
# The reference is at the optimum.  lme4's default optimiser stops when the
# deviance no longer changes at its tolerance, which can leave theta ~1e-5 short
# of the optimum; every fit here uses `polished`: bobyqa with rhoend = 1e-10,
# then Newton steps on theta with numDeriv's gradient (Richardson extrapolation
# from a 1% step, so that the deviance's rounding error does not swamp it) and
# Hessian of the profiled (RE)ML deviance while the gradient keeps shrinking.  The largest
# remaining absolute gradient component is written out (quantity "max_grad").
# lmerTest then computes its Satterthwaite quantities (numerical Hessian in
# (theta, sigma) and Jacobian of vcov(beta), numDeriv) on the polished fit.
#
# Data: lme4's sleepstudy, Pastes, Penicillin and Dyestuff2; datasets'
# ChickWeight (diets 1-3, relabelled A-C; chicks lost during follow-up make
# it unbalanced); a copy of sleepstudy with 15 visits removed and 6 reaction
# times missing (set.seed(24)).  Factor levels sort in code-point order, as
# the package's (R's C locale).

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(pbkrtest)
  library(numDeriv)
})
out_dir <- file.path("tests", "reference", "fixtures")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
fmt <- function(x) ifelse(is.finite(x), sprintf("%.17g", x), ifelse(is.na(x), "NaN", ifelse(x > 0, "inf", "-inf")))

write_data <- function(df, name) {
  for (j in seq_along(df)) {
    if (is.double(df[[j]])) df[[j]] <- ifelse(is.na(df[[j]]), "", sprintf("%.17g", df[[j]]))
    if (is.factor(df[[j]])) df[[j]] <- as.character(df[[j]])
  }
  write.csv(df, file.path(out_dir, paste0("mixed_data_", name, ".csv")), row.names = FALSE, quote = TRUE, na = "")
}

polished <- function(fn, par, lower, upper, control) {
  r <- minqa::bobyqa(par, fn, lower = lower, upper = upper,
                     control = list(rhobeg = 0.2, rhoend = 1e-10, maxfun = 1e5))
  th <- r$par
  grad <- function(x) numDeriv::grad(fn, x, method.args = list(d = 0.01, r = 6))
  free <- !(is.finite(lower) & th <= lower + 1e-8)
  g <- grad(th)
  for (it in seq_len(20)) {
    if (!any(free)) break
    H <- numDeriv::hessian(fn, th)[free, free, drop = FALSE]
    step <- tryCatch(solve(H, g[free]), error = function(e) rep(0, sum(free)))
    th2 <- th
    th2[free] <- th[free] - step
    th2 <- pmax(th2, lower)
    g2 <- grad(th2)
    # near the optimum the deviance changes below its rounding error: judge a step by the gradient
    if (!(max(abs(g2[free])) < max(abs(g[free])))) break
    th <- th2
    g <- g2
  }
  list(par = th, fval = fn(th), feval = r$feval, conv = 0, message = "bobyqa + Newton polish")
}
ctrl <- lmerControl(optimizer = polished, check.conv.singular = "ignore")

rows <- list()
add <- function(case, quantity, value, term = names(value)) {
  if (length(value) == 0) return(invisible())
  if (is.null(term)) term <- rep("", length(value))
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, term = term,
                                          value = fmt(unname(as.numeric(value))), stringsAsFactors = FALSE)
}

col <- function(tab, name) setNames(tab[, name], rownames(tab))  # keeps the name of a one-row table

fit_case <- function(case, formula, data, reml = TRUE, kr = reml) {
  fit <- lmerTest::lmer(formula, data = data, REML = reml, control = ctrl)
  devfun <- as.function(fit)
  th <- getME(fit, "theta")
  lower <- getME(fit, "lower")
  free <- !(is.finite(lower) & th <= lower + 1e-8)
  add(case, "max_grad", max(c(0, abs(numDeriv::grad(devfun, th, method.args = list(d = 0.01, r = 6))[free]))))
  add(case, "theta", th, paste0("theta", seq_along(th)))
  add(case, "sigma", sigma(fit), "")
  add(case, "llf", as.numeric(logLik(fit)), "")
  add(case, "aic", AIC(fit), "")
  add(case, "nobs", nobs(fit), "")
  ng <- ngrps(fit)
  add(case, "n_groups", ng, names(ng))
  vc <- as.data.frame(VarCorr(fit))
  vterm <- ifelse(is.na(vc$var1), "", vc$var1)
  vterm2 <- ifelse(is.na(vc$var2), "", vc$var2)
  key <- paste(vc$grp, vterm, vterm2, sep = "|")
  add(case, "vc_variance", vc$vcov, key)
  add(case, "vc_sdcor", vc$sdcor, key)
  add(case, "singular", as.numeric(isSingular(fit)), "")
  s <- summary(fit, ddf = "Satterthwaite")$coefficients
  add(case, "estimate", col(s, "Estimate"))
  add(case, "std_error", col(s, "Std. Error"))
  add(case, "df", col(s, "df"))
  add(case, "statistic", col(s, "t value"))
  add(case, "p_value", col(s, "Pr(>|t|)"))
  a <- anova(fit, ddf = "Satterthwaite", type = 3)
  add(case, "anova_num_df", a[, "NumDF"], rownames(a))
  add(case, "anova_den_df", a[, "DenDF"], rownames(a))
  add(case, "anova_statistic", a[, "F value"], rownames(a))
  add(case, "anova_p_value", a[, "Pr(>F)"], rownames(a))
  if (kr) {
    k <- summary(fit, ddf = "Kenward-Roger")$coefficients
    add(case, "kr_std_error", col(k, "Std. Error"))
    add(case, "kr_df", col(k, "df"))
    add(case, "kr_statistic", col(k, "t value"))
    add(case, "kr_p_value", col(k, "Pr(>|t|)"))
    v <- as.matrix(pbkrtest::vcovAdj(fit))
    add(case, "kr_vcov_diag", diag(v), rownames(v))
    a <- anova(fit, ddf = "Kenward-Roger", type = 3)
    add(case, "kr_anova_num_df", a[, "NumDF"], rownames(a))
    add(case, "kr_anova_den_df", a[, "DenDF"], rownames(a))
    add(case, "kr_anova_statistic", a[, "F value"], rownames(a))
    add(case, "kr_anova_p_value", a[, "Pr(>F)"], rownames(a))
  }
  invisible(fit)
}

# ---- data ------------------------------------------------------------------------------------------
sleep <- data.frame(patient_id = paste0("S", sleepstudy$Subject), Subject = paste0("S", sleepstudy$Subject),
                    Days = as.double(sleepstudy$Days), Reaction = sleepstudy$Reaction)
write_data(sleep, "sleepstudy")

set.seed(24)
gone <- sort(sample(nrow(sleep), 15))
sleep_miss <- sleep[-gone, ]
sleep_miss$Reaction[sort(sample(nrow(sleep_miss), 6))] <- NA
write_data(sleep_miss, "sleepstudy_missing")

cw <- subset(as.data.frame(ChickWeight), Diet %in% c("1", "2", "3"))
chick <- data.frame(patient_id = paste0("C", as.character(cw$Chick)), Chick = paste0("C", as.character(cw$Chick)),
                    Time = as.double(cw$Time), Diet = c("1" = "A", "2" = "B", "3" = "C")[as.character(cw$Diet)],
                    weight = as.double(cw$weight))
write_data(chick, "chick")

pastes <- data.frame(patient_id = as.character(Pastes$sample), batch = as.character(Pastes$batch),
                     cask = as.character(Pastes$cask), strength = Pastes$strength)
write_data(pastes, "pastes")
pen <- data.frame(patient_id = paste0(Penicillin$plate, Penicillin$sample), plate = as.character(Penicillin$plate),
                  sample = as.character(Penicillin$sample), diameter = as.double(Penicillin$diameter))
write_data(pen, "penicillin")
dye2 <- data.frame(patient_id = paste0("D", seq_len(nrow(Dyestuff2))), Batch = as.character(Dyestuff2$Batch),
                   Yield = Dyestuff2$Yield)
write_data(dye2, "dyestuff2")

# factors as the package codes them: levels in code-point order
chick$Diet <- factor(chick$Diet, levels = sort(unique(chick$Diet), method = "radix"))

# ---- fits ------------------------------------------------------------------------------------------
fit_case("ri", Reaction ~ Days + (1 | Subject), sleep)
fit_case("slopes", Reaction ~ Days + (Days | Subject), sleep)
fit_case("slopes_ml", Reaction ~ Days + (Days | Subject), sleep, reml = FALSE)
fit_case("uncorr", Reaction ~ Days + (Days || Subject), sleep)
fit_case("slope_only", Reaction ~ Days + (0 + Days | Subject), sleep)
fit_case("missing", Reaction ~ Days + (Days | Subject), sleep_miss)
fit_case("diet", weight ~ Time * Diet + (Time | Chick), chick)
fit_case("diet_ml", weight ~ Time * Diet + (1 | Chick), chick, reml = FALSE)
fit_case("diet_only", weight ~ Diet + (1 | Chick), chick)
fit_case("nested", strength ~ 1 + (1 | batch/cask), pastes)
fit_case("crossed", diameter ~ 1 + (1 | plate) + (1 | sample), pen)
fit_case("singular", Yield ~ 1 + (1 | Batch), dye2)

res <- do.call(rbind, rows)
write.csv(res, file.path(out_dir, "mixed_reference.csv"), row.names = FALSE, quote = TRUE)
cat("wrote", nrow(res), "reference values\n")
print(res[res$quantity == "max_grad", ])
