# Reference values for immune_correlates.stats.regression.logistic and .separation.
#
# Run from the repository root:  Rscript tests/reference/logistic.R
# Writes tests/reference/fixtures/logistic_*.csv (data sets and results, 17
# significant digits).  Needs R >= 4.2 with brglm2 (0.9) and boot.
#
# What comes from where
# * ML: stats::glm(family = binomial) -- estimates, SEs, Wald p, logLik,
#   confint.default; the model LR test against the intercept-only glm.
# * ML profile-likelihood intervals / LR p-values: constrained glm fits with
#   the coefficient moved into an offset; interval ends by uniroot (tol 1e-10).
# * Firth estimates and SEs: brglm2 (method = "brglmFit", type = "AS_mean",
#   which for the logit link is Firth's (1993) penalized likelihood).
# * Firth penalized log-likelihood, profile penalized-likelihood intervals and
#   LR p-values: logistf is not installed, so they are computed here from the
#   definition (Heinze & Schemper 2002, logistf's convention):
#     pl(b) = sum y*eta - log(1 + exp(eta)) + 0.5 * log det(X' W X),
#   W = diag(p (1 - p)) of the FULL design; the constrained maximum with b_k
#   fixed is found by optim (BFGS, analytic gradient = the modified score
#   X'(y - p + h (1/2 - p)) restricted to the free coefficients) started at
#   the Firth estimate and polished by Newton steps using the free block of
#   the Fisher information; the ends of {b: 2 (pl_max - pl_k(b)) <= chi2_1}
#   by uniroot (tol 1e-10).  The null model keeps the full-model penalty with
#   every slope fixed at 0, as logistf does.
# * Separation: detectseparation is not installed; the linear programmes of
#   Konis (2007) are solved with boot::simplex (an independent simplex code),
#   and, as a second opinion, the standard errors of glm fits stopped after
#   1..25 iterations are compared (detectseparation's check_infinite_estimates:
#   infinite estimates have SE ratios that keep growing).

suppressPackageStartupMessages({
  library(brglm2)
  library(boot)
})
out_dir <- file.path("tests", "reference", "fixtures")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
fmt <- function(x) ifelse(is.finite(x), sprintf("%.17g", x), ifelse(is.na(x), "NaN", ifelse(x > 0, "inf", "-inf")))
write_data <- function(df, name) {
  df <- cbind(patient_id = sprintf("P%03d", seq_len(nrow(df))), df)
  for (j in seq_along(df)) if (is.double(df[[j]])) df[[j]] <- sprintf("%.17g", df[[j]])
  write.csv(df, file.path(out_dir, paste0("logistic_", name, ".csv")), row.names = FALSE, quote = FALSE)
}
results <- list()
add <- function(case, term, quantity, value) {
  results[[length(results) + 1]] <<- data.frame(case = case, term = term, quantity = quantity,
                                                value = fmt(value), stringsAsFactors = FALSE)
}

# ---------------------------------------------------------------- data sets
infert_d <- infert[, c("case", "spontaneous", "induced", "age")]
endo <- brglm2::endometrial[, c("HG", "NV", "PI", "EH")]
set.seed(20240611)
n <- 30
syn <- data.frame(x1 = round(rnorm(n, 2, 1.5), 3), x2 = rbinom(n, 1, 0.4))
syn$y <- rbinom(n, 1, plogis(-0.5 + 0.6 * syn$x1 - 0.8 * syn$x2))
syn <- syn[, c("y", "x1", "x2")]
write_data(infert_d, "infert")
write_data(endo, "endometrial")
write_data(syn, "synthetic")

models <- list(
  infert = list(data = infert_d, f = case ~ spontaneous + induced + age),
  synthetic = list(data = syn, f = y ~ x1 + x2),
  endometrial = list(data = endo, f = HG ~ NV + PI + EH)
)

auc <- function(p, y) {  # Mann-Whitney form of the C statistic
  r <- rank(p); n1 <- sum(y == 1); n0 <- sum(y == 0)
  (sum(r[y == 1]) - n1 * (n1 + 1) / 2) / (n1 * n0)
}

# ------------------------------------------------- penalized likelihood in R
pen_loglik <- function(b, X, y, firth = TRUE) {
  eta <- drop(X %*% b); p <- plogis(eta)
  ll <- sum(y * eta - log1p(exp(eta)))
  if (!firth) return(ll)
  ll + 0.5 * as.numeric(determinant(crossprod(X, X * (p * (1 - p))), logarithm = TRUE)$modulus)
}
mod_score <- function(b, X, y, firth = TRUE) {
  p <- plogis(drop(X %*% b))
  r <- y - p
  if (firth) {
    XW <- X * sqrt(p * (1 - p))
    h <- rowSums((XW %*% solve(crossprod(XW))) * XW)
    r <- r + h * (0.5 - p)
  }
  drop(crossprod(X, r))
}
constrained_max <- function(X, y, k, value, start, firth = TRUE) {
  # maximise pl over b[-k] with b[k] fixed; k may be a vector of indices
  free <- setdiff(seq_len(ncol(X)), k)
  full <- function(bf) { b <- start; b[k] <- value; b[free] <- bf; b }
  fn <- function(bf) -pen_loglik(full(bf), X, y, firth)
  gr <- function(bf) -mod_score(full(bf), X, y, firth)[free]
  bf <- start[free]
  if (length(free)) {
    bf <- optim(bf, fn, gr, method = "BFGS", control = list(reltol = 1e-14, maxit = 1000))$par
    for (it in 1:200) {  # polish: Newton with the free block of the Fisher information
      b <- full(bf); p <- plogis(drop(X %*% b))
      I <- crossprod(X, X * (p * (1 - p)))
      step <- drop(solve(I[free, free, drop = FALSE], mod_score(b, X, y, firth)[free]))
      bf <- bf + step
      if (max(abs(step)) < 1e-13) break
    }
  }
  list(beta = full(bf), llf = pen_loglik(full(bf), X, y, firth))
}
profile_ci <- function(X, y, beta, llf, se, k, alpha, firth) {
  target <- qchisq(1 - alpha, 1) / 2
  gap <- function(v) llf - constrained_max(X, y, k, v, beta, firth)$llf - target
  ends <- c(NA, NA)
  for (s in c(-1, 1)) {
    inner <- beta[k]; w <- se
    repeat {
      outer <- beta[k] + s * w
      if (gap(outer) > 0) break
      inner <- outer; w <- 2 * w
      if (w > 1e4) { outer <- NA; break }
    }
    ends[(s + 3) / 2] <- if (is.na(outer)) s * Inf else
      uniroot(gap, sort(c(inner, outer)), tol = 1e-10)$root
  }
  ends
}

for (name in names(models)) {
  m <- models[[name]]
  d <- m$data
  X <- model.matrix(m$f, d); y <- d[[all.vars(m$f)[1]]]
  terms <- c("Intercept", colnames(X)[-1])
  for (firth in c(FALSE, TRUE)) {
    case <- paste0(name, if (firth) "_firth" else "_ml")
    if (!firth && name == "endometrial") next  # separated: ML estimates are infinite
    if (!firth) {
      fit <- glm(m$f, family = binomial, data = d, control = glm.control(epsilon = 1e-14, maxit = 100))
      s <- summary(fit)$coefficients
      beta <- coef(fit); se <- s[, 2]
      add(case, terms, "estimate", beta); add(case, terms, "std_error", se)
      add(case, terms, "wald_p", s[, 4])
      ci <- confint.default(fit); add(case, terms, "wald_lower", ci[, 1]); add(case, terms, "wald_upper", ci[, 2])
      ci90 <- confint.default(fit, level = 0.9); add(case, terms, "wald90_lower", ci90[, 1]); add(case, terms, "wald90_upper", ci90[, 2])
      llf <- as.numeric(logLik(fit))
      null <- glm(update(m$f, . ~ 1), family = binomial, data = d, control = glm.control(epsilon = 1e-14))
      llf_null <- as.numeric(logLik(null))
      prob <- fitted(fit)
    } else {
      fit <- glm(m$f, family = binomial, data = d, method = "brglmFit", type = "AS_mean",
                 epsilon = 1e-14, maxit = 200)
      beta <- coef(fit); se <- sqrt(diag(vcov(fit)))
      add(case, terms, "estimate", beta); add(case, terms, "std_error", se)
      add(case, terms, "wald_p", 2 * pnorm(-abs(beta / se)))
      llf <- pen_loglik(beta, X, y, TRUE)
      llf_null <- constrained_max(X, y, seq_len(ncol(X))[-1], 0, beta, TRUE)$llf
      prob <- fitted(fit)
    }
    add(case, "model", "llf", llf); add(case, "model", "llf_null", llf_null)
    add(case, "model", "lr_statistic", 2 * (llf - llf_null))
    add(case, "model", "lr_pvalue", pchisq(2 * (llf - llf_null), ncol(X) - 1, lower.tail = FALSE))
    add(case, "model", "auc", auc(prob, y))
    add(case, "model", "nobs", length(y)); add(case, "model", "n_events", sum(y))
    add(case, paste0("fitted_", seq_along(prob)), "fitted", prob)
    for (k in seq_len(ncol(X))) {
      c0 <- constrained_max(X, y, k, 0, beta, firth)$llf
      add(case, terms[k], "lr_p", pchisq(2 * (llf - c0), 1, lower.tail = FALSE))
      for (alpha in c(0.05, 0.1)) {
        e <- profile_ci(X, y, beta, llf, se[k], k, alpha, firth)
        tag <- if (alpha == 0.05) "profile" else "profile90"
        add(case, terms[k], paste0(tag, "_lower"), e[1]); add(case, terms[k], paste0(tag, "_upper"), e[2])
      }
    }
  }
}
# profile intervals of a single coefficient take a few seconds each; the
# whole script runs in well under a minute.

# --------------------------------------------------------------- separation
konis <- function(X, y) {
  # b = b_plus - b_minus with 0 <= b_plus, b_minus <= 1 (simplex needs x >= 0);
  # every constraint is written as A1 x <= b1 with b1 >= 0, so the origin is
  # feasible and boot::simplex needs no phase 1
  X <- sweep(X, 2, pmax(apply(abs(X), 2, max), 1e-300), "/")
  A <- X * ifelse(y == 1, 1, -1)          # want A b >= 0
  p <- ncol(A); n <- nrow(A)
  A1 <- rbind(diag(2 * p), -cbind(A, -A)); b1 <- c(rep(1, 2 * p), rep(0, n))
  lp <- function(a, maxi) {
    r <- simplex(c(a, -a), A1 = A1, b1 = b1, maxi = maxi)
    stopifnot(r$solved == 1)
    r$value
  }
  total <- lp(colSums(A), TRUE)
  dirs <- rep(0, p)
  complete <- FALSE
  if (total > 1e-7) {
    for (k in seq_len(p)) {
      e <- replace(rep(0, p), k, 1)
      up <- lp(e, TRUE); down <- lp(e, FALSE)
      dirs[k] <- if (up > 1e-7 && down < -1e-7) NaN else if (up > 1e-7) Inf else if (down < -1e-7) -Inf else 0
    }
    # complete separation: max t subject to A b >= t, 0 <= t <= 1
    r <- simplex(c(rep(0, 2 * p), 1), A1 = rbind(diag(2 * p + 1), cbind(-A, A, 1)),
                 b1 = c(rep(1, 2 * p + 1), rep(0, n)), maxi = TRUE)
    stopifnot(r$solved == 1)
    complete <- r$value > 1e-7
  }
  list(separated = total > 1e-7, complete = complete, directions = dirs)
}
se_ratio <- function(f, d) {
  se <- function(it) suppressWarnings(sqrt(diag(vcov(glm(f, binomial, d, control = glm.control(maxit = it, epsilon = 1e-300))))))
  se(25) / se(1)
}
sep_cases <- list(
  endometrial = list(data = endo, f = HG ~ NV + PI + EH),
  infert = list(data = infert_d, f = case ~ spontaneous + induced + age),
  complete = list(data = data.frame(y = c(0, 0, 0, 0, 1, 1, 1, 1), x = c(1.0, 2.5, 3, 4, 5.5, 6, 7, 9.5)), f = y ~ x),
  quasi1d = list(data = data.frame(y = c(0, 0, 0, 1, 0, 1, 1, 1, 1), x = c(1, 2, 3, 4, 4, 5, 6, 7, 8)), f = y ~ x),
  # z = 1 only among responders (like NV in endometrial), x overlapping
  quasi = list(data = data.frame(y = c(0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1),
                                 x = c(1.2, 0.4, 2.2, 3.1, 2.8, 0.9, 1.7, 2.5, 3.3, 0.8, 2.1, 1.5),
                                 z = c(0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1)), f = y ~ x + z)
)
write_data(sep_cases$complete$data, "sep_complete")
write_data(sep_cases$quasi1d$data, "sep_quasi1d")
write_data(sep_cases$quasi$data, "sep_quasi")
for (name in names(sep_cases)) {
  m <- sep_cases[[name]]
  X <- model.matrix(m$f, m$data); y <- m$data[[all.vars(m$f)[1]]]
  terms <- c("Intercept", colnames(X)[-1])
  k <- konis(X, y)
  add(paste0("sep_", name), terms, "direction", k$directions)
  add(paste0("sep_", name), "model", "separated", as.numeric(k$separated))
  add(paste0("sep_", name), "model", "complete", as.numeric(k$complete))
  add(paste0("sep_", name), terms, "se_ratio_25", se_ratio(m$f, m$data))
}

res <- do.call(rbind, results)
write.csv(res, file.path(out_dir, "logistic_reference.csv"), row.names = FALSE, quote = FALSE)
cat("wrote", nrow(res), "reference values\n")
