# Reference values for the aliased-column cases of stats/linear_test.go and
# stats/logistic_test.go (issue 14, point 14): R gives NA for a column with no
# variation or one that is a linear combination of those before it, and fits
# the rest. R 4.2.2. Run from this directory:  Rscript aliased.R
# Writes mtcars_aliased.csv (mtcars with k = 1 and al = wt + 2*hp) and the
# <case>.coef.csv / <case>.fit.csv files in the format of references.R; the
# NA coefficients are written as NA in every column.
f15 <- function(x) ifelse(is.na(x), "NA", sprintf("%.15g", x))
mt <- datasets::mtcars[, c("mpg", "am", "wt", "hp")]
mt$k <- 1
mt$al <- mt$wt + 2 * mt$hp
write.csv(mt, "mtcars_aliased.csv", row.names = FALSE)
data <- read.csv("mtcars_aliased.csv")

write_case <- function(case, call, fit, stat_col, ci, extra) {
  b <- coef(fit)
  co <- summary(fit)$coefficients   # rows of the non-NA coefficients only
  col <- function(j) { v <- rep(NA_real_, length(b)); v[!is.na(b)] <- co[, j]; v }
  lo <- rep(NA_real_, length(b)); hi <- lo
  lo[!is.na(b)] <- ci[!is.na(b), 1]; hi[!is.na(b)] <- ci[!is.na(b), 2]
  d <- data.frame(term = names(b), coef = f15(b), se = f15(col(2)), stat = f15(col(3)),
                  p = f15(col(4)), lower = f15(lo), upper = f15(hi))
  write.csv(d, paste0(case, ".coef.csv"), row.names = FALSE)
  f <- data.frame(name = c("call", names(extra)), value = c(call, sapply(extra, f15)))
  write.csv(f, paste0(case, ".fit.csv"), row.names = FALSE)
}

call <- "glm(am ~ wt + k + hp + al, family = binomial, data = data)"
fit <- eval(parse(text = call))
stopifnot(fit$converged)
write_case("mtcars_aliased_logistic", call, fit, 3, exp(confint.default(fit)),
  c(n = nobs(fit), deviance = fit$deviance, null_deviance = fit$null.deviance,
    aic = fit$aic, iterations = fit$iter, rank = fit$rank))

call <- "lm(mpg ~ wt + k + hp + al, data = data)"
fit <- eval(parse(text = call))
s <- summary(fit)
write_case("mtcars_aliased_linear", call, fit, 3, confint(fit),
  c(n = nobs(fit), r_squared = s$r.squared, adj_r_squared = s$adj.r.squared,
    sigma = s$sigma, df_residual = fit$df.residual, rank = fit$rank))
cat(R.version.string, "\n")
