# Reference values for the dropped-column cases of stats/cox_test.go (issue 14,
# point 14): coxph gives coefficient NA for a covariate with no variation or one
# that is a linear combination of those before it, and fits the rest; cox.zph
# leaves such terms out. R 4.2.2, survival 3.5-3.
# Run from this directory:  Rscript make_dropped.R
# Writes lung_dropped.csv (lung.csv with k = 3 and al = age + 2*sex) and
# dropped_reference.csv in the long form of reference.csv
# (case,quantity,term,value; the "call" quantity is the exact R call).
suppressMessages(library(survival))
cat(R.version.string, "survival", format(packageVersion("survival")), "\n")
cform <- function(x) ifelse(is.na(x), "NA", sprintf("%.15g", x))
out <- list()
emit <- function(case, quantity, term, value) {
  out[[length(out) + 1]] <<- data.frame(case = case, quantity = quantity,
    term = term, value = value, stringsAsFactors = FALSE)
}
l <- read.csv("lung.csv")
l$k <- 3
l$al <- l$age + 2 * l$sex
write.csv(l, "lung_dropped.csv", row.names = FALSE, na = "NA")
ld <- read.csv("lung_dropped.csv")

record <- function(case, call) {
  fit <- eval(call)
  emit(case, "call", "", deparse1(call))
  s <- summary(fit)
  b <- coef(fit)
  ok <- !is.na(b)
  full <- function(v) { if (length(v) == length(b)) return(v); r <- rep(NA_real_, length(b)); r[ok] <- v; r }
  cf <- s$coefficients; ci <- s$conf.int   # summary.coxph keeps the NA rows
  emit(case, "coef", names(b), cform(b))
  emit(case, "se", names(b), cform(full(sqrt(diag(fit$var))[ok])))
  emit(case, "z", names(b), cform(full(cf[, "z"])))
  emit(case, "p", names(b), cform(full(cf[, "Pr(>|z|)"])))
  emit(case, "hr", names(b), cform(full(ci[, 1])))
  emit(case, "hr_lower", names(b), cform(full(ci[, 3])))
  emit(case, "hr_upper", names(b), cform(full(ci[, 4])))
  emit(case, "loglik_null", "", cform(fit$loglik[1]))
  emit(case, "loglik", "", cform(fit$loglik[2]))
  emit(case, "lr_chi2", "", cform(s$logtest["test"]))
  emit(case, "lr_p", "", cform(s$logtest["pvalue"]))
  emit(case, "df", "", cform(s$logtest["df"]))
  emit(case, "wald_chi2", "", cform(fit$wald.test))
  emit(case, "wald_p", "", cform(pchisq(fit$wald.test, s$logtest["df"], lower.tail = FALSE)))
  emit(case, "score_chi2", "", cform(fit$score))
  emit(case, "score_p", "", cform(s$sctest["pvalue"]))
  emit(case, "iter", "", cform(fit$iter))
  emit(case, "n", "", cform(fit$n))
  emit(case, "events", "", cform(fit$nevent))
  tb <- cox.zph(fit)$table   # NA terms are left out
  emit(case, "zph_chi2", rownames(tb), cform(tb[, "chisq"]))
  emit(case, "zph_df", rownames(tb), cform(tb[, "df"]))
  emit(case, "zph_p", rownames(tb), cform(tb[, "p"]))
}
record("lung_constant", quote(coxph(Surv(time, dead) ~ age + k + sex + ph.ecog, data = ld)))
record("lung_aliased", quote(coxph(Surv(time, dead) ~ age + sex + al + ph.ecog, data = ld)))
record("lung_aliased_strata", quote(coxph(Surv(time, dead) ~ age + k + al + ph.ecog + sex + strata(inst), data = ld)))
res <- do.call(rbind, out)
write.csv(res, "dropped_reference.csv", row.names = FALSE)
cat(nrow(res), "values written\n")
