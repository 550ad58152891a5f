# What R does on two separated data sets of stats/cox_errors_test.go (issue 14,
# point 15). R 4.2.2, survival 3.5-3. Run from this directory:
#   Rscript make_separation.R > make_separation.out 2>&1
# separation_collapse.csv and separation_noconv.csv (made with a seeded Go RNG:
# x = -time + U(0, 0.1), so that at almost every event time the subject who dies
# has the largest x among those at risk) give a coefficient of x that runs off
# to infinity. R either zeroes the collapsed information and reports NA, or runs
# out of iterations and warns that a coefficient may be infinite.
# Output: separation_reference.csv (case,quantity,term,value).
suppressMessages(library(survival))
cat(R.version.string, "survival", format(packageVersion("survival")), "\n")
cform <- function(x) ifelse(is.na(x), "NA", sprintf("%.15g", x))
out <- list()
emit <- function(case, quantity, term, value) {
  out[[length(out) + 1]] <<- data.frame(case = case, quantity = quantity,
    term = term, value = value, stringsAsFactors = FALSE)
}
for (case in c("separation_collapse", "separation_noconv")) {
  d <- read.csv(paste0(case, ".csv"))
  w <- character(0)
  call <- quote(coxph(Surv(time, status) ~ x, data = d))
  fit <- withCallingHandlers(eval(call),
    warning = function(m) { w <<- c(w, conditionMessage(m)); invokeRestart("muffleWarning") })
  emit(case, "call", "", deparse1(call))
  emit(case, "warning", "", paste(w, collapse = " | "))
  emit(case, "coef", names(coef(fit)), cform(coef(fit)))
  emit(case, "iter", "", cform(fit$iter))
  print(case); print(coef(fit)); print(w)
}
# far from 0 the risk scores exceed 1e150: the information must not lose
# den^2 to overflow (Beaver's engine did, and took 0.002-wide steps)
d <- read.csv("separation_noconv.csv")
for (ties in c("efron", "breslow")) {
  call <- substitute(coxph(Surv(time, status) ~ x, data = d, ties = T, init = 2.541852847990159, iter.max = 0), list(T = ties))
  f <- eval(call)
  emit(paste0("separation_noconv_init_", ties), "call", "", deparse1(call))
  emit(paste0("separation_noconv_init_", ties), "loglik", "", cform(f$loglik[2]))
  emit(paste0("separation_noconv_init_", ties), "info", "x", cform(1 / f$var))
}
# the robust variance there (score residuals), clusters of 4 consecutive rows
d$id <- (seq_len(nrow(d)) - 1) %/% 4
for (ties in c("efron", "breslow")) {
  call <- substitute(coxph(Surv(time, status) ~ x, data = d, ties = T, init = 2.541852847990159, iter.max = 0, cluster = id), list(T = ties))
  f <- eval(call)
  emit(paste0("separation_noconv_robust_", ties), "call", "", deparse1(call))
  emit(paste0("separation_noconv_robust_", ties), "robust_var", "x", cform(f$var))
}
call <- quote(coxph(Surv(time, status) ~ x, data = d, iter.max = 10))
f <- suppressWarnings(eval(call))
emit("separation_noconv_iter10", "call", "", deparse1(call))
emit("separation_noconv_iter10", "coef", "x", cform(coef(f)))
emit("separation_noconv_iter10", "loglik", "", cform(f$loglik[2]))
res <- do.call(rbind, out)
write.csv(res, "separation_reference.csv", row.names = FALSE)
