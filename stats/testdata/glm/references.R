# Reference values for stats/linear_test.go and stats/logistic_test.go.
# Run from this directory:  Rscript references.R
# R 4.2.2, MASS (birthwt). Writes each dataset as <data>.csv and, for each case,
# <case>.coef.csv (term, coef, se, stat, p, lower, upper) and <case>.fit.csv (name, value),
# all numbers with 15 significant digits. Categorical variables are factors whose
# levels are in byte order (R with LC_COLLATE=C), the order Beaver's Design uses.
suppressMessages(library(MASS))
f15 <- function(x) ifelse(is.na(x), "NA", sprintf("%.15g", x))

# Beaver's term names: "(Intercept)", numeric column name, or "column=level".
beaver_terms <- function(fit) {
  mm <- model.matrix(fit)
  asg <- attr(mm, "assign")
  labs <- attr(terms(fit), "term.labels")
  fac <- names(attr(mm, "contrasts"))
  sapply(seq_along(asg), function(k) {
    if (asg[k] == 0) return("(Intercept)")
    v <- labs[asg[k]]
    if (v %in% fac) paste0(v, "=", substring(colnames(mm)[k], nchar(v) + 1)) else v
  })
}

write_coef <- function(case, terms, est, se, stat, p, lower, upper) {
  d <- data.frame(term = terms, coef = f15(est), se = f15(se), stat = f15(stat), p = f15(p),
                  lower = f15(lower), upper = f15(upper))
  write.csv(d, paste0(case, ".coef.csv"), row.names = FALSE)
}
write_fit <- function(case, call, values) {
  d <- data.frame(name = c("call", names(values)), value = c(call, sapply(values, f15)))
  write.csv(d, paste0(case, ".fit.csv"), row.names = FALSE)
}

lm_case <- function(case, call, data) {
  fit <- eval(parse(text = call))
  s <- summary(fit)
  co <- s$coefficients
  ci <- confint(fit)
  write_coef(case, beaver_terms(fit), co[, 1], co[, 2], co[, 3], co[, 4], ci[, 1], ci[, 2])
  write_fit(case, call, c(n = nobs(fit), r_squared = s$r.squared, adj_r_squared = s$adj.r.squared,
                          sigma = s$sigma, df_residual = fit$df.residual))
}
glm_case <- function(case, call, data) {
  fit <- eval(parse(text = call))
  stopifnot(fit$converged)
  co <- summary(fit)$coefficients
  ci <- exp(confint.default(fit))
  write_coef(case, beaver_terms(fit), co[, 1], co[, 2], co[, 3], co[, 4], ci[, 1], ci[, 2])
  write_fit(case, call, c(n = nobs(fit), deviance = fit$deviance, null_deviance = fit$null.deviance,
                          aic = fit$aic, iterations = fit$iter))
}
byte_factor <- function(x) { x <- as.character(x); factor(x, levels = sort(unique(x), method = "radix")) }

# Datasets, exported as CSV.
bw <- MASS::birthwt
write.csv(bw, "birthwt.csv", row.names = FALSE)
inf <- datasets::infert
write.csv(inf, "infert.csv", row.names = FALSE)
sl <- datasets::stackloss
write.csv(sl, "stackloss.csv", row.names = FALSE)
mt <- datasets::mtcars
write.csv(mt, "mtcars.csv", row.names = FALSE)
# mtcars with missing values in the outcome and in covariates (NA and empty fields).
mtna <- mt
mtna$mpg[c(3, 17)] <- NA
mtna$wt[c(5, 17, 30)] <- NA
mtna$am[c(8)] <- NA
mtna$hp[c(11)] <- NA
write.csv(mtna, "mtcars_na.csv", row.names = FALSE, na = "NA")

bw$race <- byte_factor(bw$race)
inf$education <- byte_factor(inf$education)
mt$cyl <- byte_factor(mt$cyl)
mtna$cyl <- byte_factor(mtna$cyl)

glm_case("birthwt_logistic", "glm(low ~ age + lwt + race + smoke + ptl + ht + ui, family = binomial, data = data)", bw)
glm_case("infert_logistic", "glm(case ~ spontaneous + induced + education, family = binomial, data = data)", inf)
glm_case("mtcars_logistic", "glm(am ~ wt + hp, family = binomial, data = data)", mt)
glm_case("mtcars_na_logistic", "glm(am ~ wt + hp + cyl, family = binomial, data = data)", mtna)
lm_case("stackloss_linear", "lm(stack.loss ~ Air.Flow + Water.Temp + Acid.Conc., data = data)", sl)
lm_case("mtcars_linear", "lm(mpg ~ wt + hp + cyl, data = data)", mt)
lm_case("mtcars_na_linear", "lm(mpg ~ wt + hp + cyl, data = data)", mtna)
lm_case("birthwt_linear", "lm(bwt ~ age + lwt + race + smoke + ht + ui, data = data)", bw)
