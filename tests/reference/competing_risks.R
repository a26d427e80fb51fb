# Reference values for immune_correlates.stats.survival.competing_risks and .fine_gray.
#
# Run from the repository root:  Rscript tests/reference/competing_risks.R
# Writes CSV fixtures (17 significant digits) into tests/reference/fixtures/:
#   cr_sim.csv           cmprsk's own example data (set.seed(2), times rounded to
#                        0.1 so that there are ties), groups a/b/c, 2 strata, causes 1/2
#   cr_mgus2.csv         survival::mgus2: time to progression (pcm, cause 1) or death
#                        without it (cause 2), months; many tied times
#   cr_cuminc.csv        cuminc() + timepoints(): data, group, cause, time, est, var
#   cr_gray.csv          cuminc()$Tests: data, group, strata, cause, stat, pv, df
#   cr_crr.csv           crr(): data, cause, model, term, coef, se, p, loglik, loglik_null,
#                        converged (gtol = 1e-10, far below crr's default 1e-6), and
#                        coef_polished = coef + solve(inf, score): one more Newton step
#                        from crr's own score and information.  Where crr stops with
#                        converged = FALSE (its step-halving cannot improve a pseudo
#                        log-likelihood already flat to rounding: mgus2, cause 1) its
#                        coef is off the optimum by about 1e-9; the polished value is not.
# cmprsk 2.2-11, survival 3.5-3, R 4.2.
suppressMessages({library(survival); library(cmprsk)})
out <- "tests/reference/fixtures"
w <- function(df, name) {
  for (j in seq_along(df)) if (is.numeric(df[[j]])) df[[j]] <- sprintf("%.17g", df[[j]])
  write.csv(df, file.path(out, name), row.names = FALSE, quote = TRUE)
}

set.seed(2)
sim <- data.frame(patient_id = sprintf("S%03d", 1:100), time = round(rexp(100), 1),
                  group = sample(c("a", "b", "c"), 100, replace = TRUE),
                  event = sample(0:2, 100, replace = TRUE), stratum = sample(1:2, 100, replace = TRUE),
                  x = round(rnorm(100), 2))
w(sim, "cr_sim.csv")

m <- survival::mgus2
mg <- data.frame(patient_id = sprintf("M%04d", m$id), time = ifelse(m$pstat == 1, m$ptime, m$futime),
                 event = ifelse(m$pstat == 1, 1L, 2L * m$death), age = m$age, sex = as.character(m$sex),
                 hgb = m$hgb, mspike = m$mspike)
w(mg, "cr_mgus2.csv")

tp <- c(-1, 0, 0.05, 0.1, 0.35, 0.5, 1, 1.5, 2, 2.9, 3.5, 10)
tp_m <- c(0, 1, 6, 12, 24, 60, 120, 240, 300, 424, 500)
ci_rows <- list()
add_ci <- function(fit, data, group_name, times) {
  fit <- fit[names(fit) != "Tests"]
  t <- timepoints(fit, times)
  for (k in rownames(t$est)) {
    parts <- strsplit(k, " ")[[1]]
    ci_rows[[length(ci_rows) + 1]] <<- data.frame(
      data = data, group_by = group_name, group = parts[1], cause = as.integer(parts[2]),
      time = as.numeric(colnames(t$est)), est = as.numeric(t$est[k, ]), var = as.numeric(t$var[k, ]))
  }
}
gray_rows <- list()
add_gray <- function(fit, data, group_name, strata_name) {
  tt <- fit$Tests
  gray_rows[[length(gray_rows) + 1]] <<- data.frame(
    data = data, group_by = group_name, strata = strata_name, cause = as.integer(rownames(tt)),
    stat = tt[, "stat"], pv = tt[, "pv"], df = tt[, "df"])
}

f <- cuminc(sim$time, sim$event)
add_ci(f, "sim", "none", tp)
f <- cuminc(sim$time, sim$event, sim$group)
add_ci(f, "sim", "group", tp)
add_gray(f, "sim", "group", "none")
f <- cuminc(sim$time, sim$event, sim$group, strata = sim$stratum)
add_gray(f, "sim", "group", "stratum")
f <- cuminc(sim$time, sim$event, sim$group, rho = 1)
add_gray(cuminc(sim$time, sim$event, sim$group, rho = 1), "sim", "group_rho1", "none")
f <- cuminc(mg$time, mg$event, mg$sex)
add_ci(f, "mgus2", "sex", tp_m)
add_gray(f, "mgus2", "sex", "none")
w(do.call(rbind, ci_rows), "cr_cuminc.csv")
w(do.call(rbind, gray_rows), "cr_gray.csv")

crr_rows <- list()
add_crr <- function(fit, data, cause, model) {
  s <- summary(fit)
  crr_rows[[length(crr_rows) + 1]] <<- data.frame(
    data = data, cause = cause, model = model, term = names(fit$coef), coef = unname(fit$coef),
    coef_polished = unname(fit$coef + solve(fit$inf, fit$score)),
    se = sqrt(diag(fit$var)), p = 2 * pnorm(-abs(fit$coef) / sqrt(diag(fit$var))),
    loglik = fit$loglik, loglik_null = fit$loglik.null, converged = fit$converged)
}
for (cause in 1:2) {
  add_crr(crr(sim$time, sim$event, cbind(x = sim$x), failcode = cause, gtol = 1e-10, maxiter = 100),
          "sim", cause, "x")
  X <- cbind(x = sim$x, groupb = as.numeric(sim$group == "b"), groupc = as.numeric(sim$group == "c"))
  add_crr(crr(sim$time, sim$event, X, failcode = cause, gtol = 1e-10, maxiter = 100), "sim", cause, "x+group")
}
cc <- mg[complete.cases(mg[, c("age", "sex", "hgb")]), ]
X <- cbind(age = cc$age, sexM = as.numeric(cc$sex == "M"), hgb = cc$hgb)
for (cause in 1:2) {
  add_crr(crr(cc$time, cc$event, X, failcode = cause, gtol = 1e-10, maxiter = 100), "mgus2", cause,
          "age+sex+hgb")
}
w(do.call(rbind, crr_rows), "cr_crr.csv")
