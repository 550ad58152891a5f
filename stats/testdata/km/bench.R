# Times survival::survfit on the shape of BenchmarkKM1M / BenchmarkKM1MGroups
# (stats/km_test.go): 1,000,000 rows, integer times floor(500·Exp(1)) capped
# at 1999 (many ties), ~30% events, three groups.  R 4.2.2, survival 3.5-3.
# Run:  Rscript bench.R   (output in bench.txt)
library(survival)
set.seed(42)
n <- 1e6
d <- data.frame(time = pmin(floor(rexp(n) * 500), 1999), status = as.integer(runif(n) < 0.3),
                g = sample(c("a", "b", "c"), n, replace = TRUE))
best <- function(expr, reps = 5) {
  e <- substitute(expr)
  min(replicate(reps, system.time(eval(e, parent.frame()))[["elapsed"]]))
}
one <- best(survfit(Surv(time, status) ~ 1, data = d))
grp <- best(survfit(Surv(time, status) ~ g, data = d))
sm <- best(summary(survfit(Surv(time, status) ~ 1, data = d), censored = TRUE))
cat(sprintf("survfit(Surv(time, status) ~ 1, data = d): %.3f s (best of 5)\n", one))
cat(sprintf("survfit(Surv(time, status) ~ g, data = d): %.3f s (best of 5)\n", grp))
cat(sprintf("summary(survfit(Surv(time, status) ~ 1, data = d), censored = TRUE): %.3f s (best of 5)\n", sm))
lr <- best(survdiff(Surv(time, status) ~ g, data = d), reps = 3)
cat(sprintf("survdiff(Surv(time, status) ~ g, data = d): %.3f s (best of 3)\n", lr))
