# What R does on the designed separation cases of stats/logistic_test.go
# (TestLogisticErrors); Beaver refuses both. Run: Rscript separation.R > separation.out 2>&1
show <- function(fit) {
  print(summary(fit)$coefficients, digits = 15)
  cat("iter", fit$iter, "converged", fit$converged, "min/max fitted", sprintf("%.15g", range(fitted(fit))), "\n")
}
warn <- function(expr) withCallingHandlers(expr, warning = function(w) {
  cat("warning:", conditionMessage(w), "\n"); invokeRestart("muffleWarning") })
# Quasi-complete separation: exposed = 1 only among cases.
y <- c(0,0,0,0,0,0,1,1,1,1,1,1,0,1)
x <- c(1,2,3,4,5,6,1,2,3,4,5,6,3,4)
exposed <- c(0,0,0,0,0,0,1,0,1,0,1,0,0,0)
show(warn(glm(y ~ x + exposed, family = binomial)))
# Perfect separation: y = x > 5.
x <- 1:10
y <- as.numeric(x > 5)
show(warn(glm(y ~ x, family = binomial)))
# Singular design: b = 2a.
a <- c(1, 2, 3, 1, 5, 4); b <- 2 * a; y <- c(0, 1, 0, 1, 1, 0)
print(coef(glm(y ~ a + b, family = binomial)))
print(coef(lm(c(1, 2, 3, 5, 4) ~ c(1, 2, 3, 4, 5) + c(2, 4, 6, 8, 10) + c(0, 1, 0, 1, 0))))
