# Profile-likelihood confidence intervals of Cox coefficients, the reference
# of stats/cox_profile_test.go (issue 15, point 7). R 4.2.2, survival 3.5-3.
# Run from this directory:  Rscript make_profile.R > make_profile.out 2>&1
#
# survival has no profile confint for coxph, so the profile is computed
# directly: for coefficient k held at b, the other coefficients are maximized
# by coxph with b * x_k as an offset (eps = 1e-13, toler.chol = 1e-14, iter.max = 100), and the
# limits are the two roots of  l_p(b) = l_max - qchisq(0.95, 1) / 2  found by
# uniroot(tol = 1e-11) between the estimate and estimate -/+ 6 se.
# Categorical terms enter as their model-matrix columns (levels in byte order).
# Output: profile_reference.csv (case,quantity,term,value), the "call" being
# the fit whose coefficients are profiled; quantities lower, upper (of the
# coefficient) and hr_lower, hr_upper (exp of them), one per term in order.
suppressMessages(library(survival))
cat(R.version.string, "survival", format(packageVersion("survival")), "\n")
cform <- function(x) ifelse(is.na(x), "NA", sprintf("%.15g", x))
out <- list()
emit <- function(case, quantity, term, value) {
  out[[length(out) + 1]] <<- data.frame(case = case, quantity = quantity,
    term = term, value = value, stringsAsFactors = FALSE)
}
ctl <- coxph.control(eps = 1e-13, toler.chol = 1e-14, iter.max = 100)
crit <- qchisq(0.95, 1) / 2

profile_case <- function(case, surv, data, cols, strata = NULL, ties = "efron") {
  rhs <- c(cols, strata)
  call <- sprintf("coxph(%s ~ %s, data = data, ties = \"%s\")", surv, paste(rhs, collapse = " + "), ties)
  fit <- coxph(as.formula(paste(surv, "~", paste(rhs, collapse = " + "))), data = data, ties = ties, control = ctl)
  emit(case, "call", "", call)
  lmax <- fit$loglik[2]
  b <- coef(fit); se <- sqrt(diag(fit$var))
  prof <- function(k, val) {
    data$.off <- val * data[[cols[k]]]
    f <- as.formula(paste(surv, "~", paste(c(cols[-k], "offset(.off)", strata), collapse = " + ")))
    g <- coxph(f, data = data, ties = ties, control = ctl)
    tail(g$loglik, 1) - (lmax - crit)
  }
  lo <- hi <- numeric(length(cols))
  for (k in seq_along(cols)) {
    lo[k] <- uniroot(function(v) prof(k, v), c(b[k] - 6 * se[k], b[k]), tol = 1e-11)$root
    hi[k] <- uniroot(function(v) prof(k, v), c(b[k], b[k] + 6 * se[k]), tol = 1e-11)$root
  }
  emit(case, "coef", cols, cform(b))
  emit(case, "lower", cols, cform(lo))
  emit(case, "upper", cols, cform(hi))
  emit(case, "hr_lower", cols, cform(exp(lo)))
  emit(case, "hr_upper", cols, cform(exp(hi)))
  emit(case, "loglik", "", cform(lmax))
  print(case); print(cbind(coef = b, lower = lo, upper = hi))
}

lung2 <- read.csv("lung.csv")
lung2 <- lung2[complete.cases(lung2[, c("time", "dead", "age", "sex", "ph.ecog")]), ]
profile_case("lung_efron", "Surv(time, dead)", lung2, c("age", "sex", "ph.ecog"))
profile_case("lung_breslow", "Surv(time, dead)", lung2, c("age", "sex", "ph.ecog"), ties = "breslow")
profile_case("lung_strata_sex", "Surv(time, dead)", lung2, c("age", "ph.ecog"), strata = "strata(sex)")

vet <- read.csv("veteran.csv")
vet$celltype <- factor(vet$celltype, levels = sort(unique(vet$celltype), method = "radix"))
mm <- model.matrix(~ celltype, vet)[, -1]
colnames(mm) <- make.names(colnames(mm))
vet <- cbind(vet, mm)
profile_case("veteran", "Surv(time, status)", vet, c("trt", "karno", "age", colnames(mm)))

hrt <- read.csv("heart.csv")
profile_case("heart", "Surv(start, stop, event)", hrt, c("age", "year", "surgery", "transplant"))

res <- do.call(rbind, out)
write.csv(res, "profile_reference.csv", row.names = FALSE)
cat(nrow(res), "values written\n")
