# R's time for the shape of BenchmarkCoxEfron1M (stats/cox_bench_test.go):
# 1,000,000 rows, 10 standard-normal covariates, integer times 1..1000,
# about 30% events. R 4.2.2, survival 3.5-3. Run: Rscript bench.R
suppressMessages(library(survival))
set.seed(1)
n <- 1e6; p <- 10
x <- matrix(rnorm(n * p), n, p)
beta <- 0.1 * ((0:(p - 1)) %% 3 - 1)
eta <- drop(x %*% beta)
tev <- rexp(n) / exp(eta) * 1500
tcens <- runif(n) * 1300
tt <- pmin(tev, tcens)
time <- pmin(1000, ceiling(tt))
status <- as.integer(tev <= tcens & tt <= 1000)
cat("events:", mean(status), " distinct times:", length(unique(time)), "\n")
for (ties in c("efron", "breslow")) {
  st <- system.time(fit <- coxph(Surv(time, status) ~ x, ties = ties))
  cat(ties, ": coxph elapsed", st[["elapsed"]], "s, user", st[["user.self"]], "s, system", st[["sys.self"]], "s, iter", fit$iter, "\n")
}
