# R's time on data shaped as BenchmarkLogistic1M / BenchmarkLinear1M
# (stats/logistic_test.go, stats/linear_test.go): 1,000,000 rows, 10 standard
# normal covariates, logit -1 + 0.5 x1 - 0.5 x2 + ..., linear 1 + 0.5 x1 - ... + N(0,1).
# Run: Rscript bench.R > bench.out
set.seed(1)
n <- 1e6; p <- 10
X <- matrix(rnorm(n * p), n, p)
b <- rep(c(0.5, -0.5), length.out = p)
d <- data.frame(X)
d$low <- rbinom(n, 1, plogis(-1 + X %*% b))
d$y <- drop(1 + X %*% b + rnorm(n))
f <- as.formula(paste("low ~", paste(names(d)[1:p], collapse = " + ")))
g <- as.formula(paste("y ~", paste(names(d)[1:p], collapse = " + ")))
for (i in 1:3) {
  tg <- system.time(fit <- glm(f, family = binomial, data = d))
  cat(sprintf("glm(binomial) run %d: %.3f s elapsed, %d iterations\n", i, tg[["elapsed"]], fit$iter))
}
for (i in 1:3) {
  tl <- system.time(s <- summary(lm(g, data = d)))
  cat(sprintf("summary(lm) run %d: %.3f s elapsed\n", i, tl[["elapsed"]]))
}
cat(R.version.string, "\n")
