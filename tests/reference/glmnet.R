# Reference values for immune_correlates.fit_penalized: glmnet's elastic-net logistic and Cox fits.
#
# Run from the repository root:  Rscript tests/reference/glmnet.R
# R 4.2.2, glmnet 4.1-6 (Debian r-cran-glmnet), survival 3.5-3.  Every fit at given lambdas runs
# with thresh = 1e-20 and maxit = 1e7 so that the reference is converged; the logistic default path and
# cv.glmnet run with thresh = 1e-16, the elastic-net path of the wide data and the Cox path and cv.glmnet
# with thresh = 1e-12 (tighter, glmnet stops converging at the smallest lambdas of these paths; looser,
# its explained deviance at small lambdas is off by up to 6e-3 and its stopping rule fires elsewhere);
# the script records, for every solution, the largest violation of the optimality (KKT) conditions
# of glmnet's objective, in units of lambda (computed here from the data, independently of glmnet):
#   -loglik / sum(w) + lambda * sum_j vp_j (alpha |sd_j b_j| + (1 - alpha) / 2 (sd_j b_j)^2),
#   sd_j the weighted population SD, vp rescaled to sum to the number of columns, Breslow ties.
# Writes into tests/reference/fixtures/:
#   glmnet_data.csv    the datasets (dataset, row, y, time, status, weight, x01 ... x30)
#   glmnet.json        fits at given lambdas, default paths, cv.glmnet with fixed folds
suppressMessages({library(glmnet); library(survival); library(jsonlite)})
options(warn = 1)  # any convergence warning of glmnet is printed as it happens
out <- "tests/reference/fixtures"
set.seed(20240612)

make_x <- function(n, p, rho = 0.5) {
  S <- rho^abs(outer(1:p, 1:p, "-"))
  x <- matrix(rnorm(n * p), n, p) %*% chol(S)
  x[, 4] <- 50 + 100 * x[, 4]            # a column on another scale (cells/uL)
  x[, 5] <- as.numeric(x[, 5] > 0.3)     # a 0/1 covariate
  x
}
datasets <- list()
x <- make_x(34, 30)
eta <- -1.2 + 1.1 * x[, 1] - 0.9 * x[, 2] + 0.006 * (x[, 4] - 50)
datasets$logit34 <- list(x = x, y = rbinom(34, 1, plogis(eta)), w = sample(1:3, 34, TRUE))
xw <- make_x(30, 60)
datasets$wide <- list(x = xw, y = rbinom(30, 1, plogis(xw[, 1] - xw[, 2])), w = rep(1, 30))
xc <- make_x(34, 30)
tt <- rexp(34, exp(0.8 * xc[, 1] - 0.7 * xc[, 2] + 0.5 * xc[, 5]) / 12)
cens <- runif(34, 6, 40)
datasets$cox34 <- list(x = xc, time = pmax(0.5, round(pmin(tt, cens) * 2) / 2), status = as.numeric(tt <= cens),
                       w = sample(1:3, 34, TRUE))

rows <- list()
for (nm in names(datasets)) {
  d <- datasets[[nm]]
  n <- nrow(d$x)
  df <- data.frame(dataset = nm, row = seq_len(n),
                   y = if (is.null(d$y)) NA else d$y,
                   time = if (is.null(d$time)) NA else d$time,
                   status = if (is.null(d$status)) NA else d$status, weight = d$w)
  xx <- as.data.frame(d$x); names(xx) <- sprintf("x%02d", seq_len(ncol(d$x)))
  rows[[nm]] <- cbind(df, xx)
}
data_out <- do.call(function(...) rbind(...), lapply(rows, function(r) { r[setdiff(sprintf("x%02d", 1:60), names(r))] <- NA; r }))
write.csv(data_out, file.path(out, "glmnet_data.csv"), row.names = FALSE, na = "")

wsd <- function(x, w) { w <- w / sum(w); m <- colSums(x * w); sqrt(colSums(w * (sweep(x, 2, m))^2)) }

kkt_logistic <- function(x, y, w, b0, b, lambda, alpha, vp) {
  w <- w / sum(w); s <- wsd(x, w)
  pr <- plogis(b0 + drop(x %*% b))
  g <- colSums(x * (w * (y - pr))) / s                 # minus the loss gradient, per standardised unit
  pen <- lambda * vp * (alpha * sign(b) + (1 - alpha) * s * b)
  v <- ifelse(b != 0, abs(g - pen), pmax(abs(g) - lambda * alpha * vp, 0))
  c(max(v[s > 0]) / lambda, abs(sum(w * (y - pr))) / lambda)
}
kkt_cox <- function(x, time, status, w, b, lambda, alpha, vp) {
  w <- w / sum(w); s <- wsd(x, w)
  eta <- drop(x %*% b); r <- w * exp(eta)
  g <- rep(0, ncol(x))
  for (i in which(status == 1)) {
    risk <- time >= time[i]
    g <- g + w[i] * (x[i, ] - colSums(x[risk, , drop = FALSE] * r[risk]) / sum(r[risk]))
  }
  g <- g / s
  pen <- lambda * vp * (alpha * sign(b) + (1 - alpha) * s * b)
  v <- ifelse(b != 0, abs(g - pen), pmax(abs(g) - lambda * alpha * vp, 0))
  max(v[s > 0]) / lambda
}

fits <- list()
add_fit <- function(name, d, family, alpha, lambda, weights = NULL, pf = NULL) {
  p <- ncol(d$x)
  vp <- if (is.null(pf)) rep(1, p) else pf * p / sum(pf)
  w <- if (is.null(weights)) rep(1, nrow(d$x)) else weights
  args <- list(x = d$x, alpha = alpha, lambda = lambda, maxit = 1e7,
               thresh = if (family == "binomial") 1e-20 else 1e-20, weights = w)
  if (!is.null(pf)) args$penalty.factor <- pf
  if (family == "binomial") {
    f <- do.call(glmnet, c(args, list(y = d$y, family = "binomial")))
    kkt <- sapply(seq_along(lambda), function(k)
      kkt_logistic(d$x, d$y, w, f$a0[k], as.numeric(f$beta[, k]), lambda[k], alpha, vp))
  } else {
    f <- do.call(glmnet, c(args, list(y = Surv(d$time, d$status), family = "cox")))
    kkt <- sapply(seq_along(lambda), function(k)
      kkt_cox(d$x, d$time, d$status, w, as.numeric(f$beta[, k]), lambda[k], alpha, vp))
  }
  fits[[name]] <<- list(family = family, alpha = alpha, lambda = lambda, weighted = !is.null(weights),
                        penalty_factor = if (is.null(pf)) NULL else pf,
                        a0 = if (family == "binomial") as.numeric(f$a0) else NULL,
                        beta = unname(as.matrix(f$beta)), dev_ratio = f$dev.ratio, kkt = unname(kkt))
}
lam_max <- function(d, family, alpha) max(glmnet(d$x, if (family == "binomial") d$y else Surv(d$time, d$status),
                                                  family = family, alpha = alpha)$lambda)
dl <- datasets$logit34; dw <- datasets$wide; dc <- datasets$cox34
for (a in c(1, 0.5, 0.05)) {
  lm <- lam_max(dl, "binomial", a)
  add_fit(sprintf("logit34_alpha%s", a), dl, "binomial", a, lm * c(0.9, 0.5, 0.2, 0.08, 0.03))
}
lm <- lam_max(dl, "binomial", 1)
add_fit("logit34_weights", dl, "binomial", 0.7, lm * c(0.6, 0.25, 0.1), weights = dl$w)
add_fit("logit34_unpenalised", dl, "binomial", 1, lm * c(0.6, 0.25, 0.1), pf = c(0, 0, rep(1, 28)))
add_fit("wide_lasso", dw, "binomial", 1, lam_max(dw, "binomial", 1) * c(0.7, 0.3, 0.12))
for (a in c(1, 0.5)) {
  lm <- lam_max(dc, "cox", a)
  add_fit(sprintf("cox34_alpha%s", a), dc, "cox", a, lm * c(0.9, 0.5, 0.25, 0.12, 0.06))
}
lm <- lam_max(dc, "cox", 1)
add_fit("cox34_weights", dc, "cox", 0.8, lm * c(0.6, 0.3, 0.15), weights = dc$w)
add_fit("cox34_unpenalised", dc, "cox", 1, lm * c(0.6, 0.3, 0.15), pf = c(0, rep(1, 29)))

paths <- list()
pl <- glmnet(dl$x, dl$y, family = "binomial", thresh = 1e-16, maxit = 1e7)
paths$logit34 <- list(family = "binomial", alpha = 1, lambda = pl$lambda, dev_ratio = pl$dev.ratio, df = pl$df)
pw <- glmnet(dw$x, dw$y, family = "binomial", alpha = 0.5, thresh = 1e-12, maxit = 1e7)
paths$wide <- list(family = "binomial", alpha = 0.5, lambda = pw$lambda, dev_ratio = pw$dev.ratio, df = pw$df)
pc <- glmnet(dc$x, Surv(dc$time, dc$status), family = "cox", thresh = 1e-12, maxit = 1e7)
paths$cox34 <- list(family = "cox", alpha = 1, lambda = pc$lambda, dev_ratio = pc$dev.ratio, df = pc$df)

cvs <- list()
fold_l <- rep(1:5, length.out = 34)
cl <- cv.glmnet(dl$x, dl$y, family = "binomial", foldid = fold_l, thresh = 1e-16, maxit = 1e7)
cvs$logit34 <- list(family = "binomial", foldid = fold_l, lambda = cl$lambda, cvm = cl$cvm, cvsd = cl$cvsd,
                    lambda_min = cl$lambda.min, lambda_1se = cl$lambda.1se)
fold_c <- rep(1:5, length.out = 34)
cc <- cv.glmnet(dc$x, Surv(dc$time, dc$status), family = "cox", foldid = fold_c, thresh = 1e-12, maxit = 1e7)
cvs$cox34 <- list(family = "cox", foldid = fold_c, lambda = cc$lambda, cvm = cc$cvm, cvsd = cc$cvsd,
                  lambda_min = cc$lambda.min, lambda_1se = cc$lambda.1se)

writeLines(toJSON(list(versions = list(R = R.version.string, glmnet = as.character(packageVersion("glmnet"))),
                       fits = fits, paths = paths, cv = cvs), digits = NA, auto_unbox = TRUE, null = "null"),
           file.path(out, "glmnet.json"))
cat("largest KKT violation (units of lambda):", max(unlist(lapply(fits, function(f) f$kkt))), "\n")
