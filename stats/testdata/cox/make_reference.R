# Reference values for stats/cox_test.go, computed with R 4.2.2 and survival 3.5-3.
# Run from this directory:  Rscript make_reference.R
# Every dataset is exported as CSV and read back, and R fits the read-back
# data, so that R and Beaver see the same decimal numbers.
# Output: reference.csv in long form: case,quantity,term,value where each
# value is printed with sprintf("%.15g"). The "call" quantity holds the exact
# R call of the case.
suppressMessages(library(survival))
stopifnot(packageVersion("survival") == "3.5.3")

cform <- function(x) sprintf("%.15g", x)
out <- list()
emit <- function(case, quantity, term, value) {
  out[[length(out) + 1]] <<- data.frame(case = case, quantity = quantity,
    term = term, value = value, stringsAsFactors = FALSE)
}
roundtrip <- function(df, file) {
  write.csv(df, file, row.names = FALSE, na = "NA")
  read.csv(file, stringsAsFactors = FALSE)
}
# byte-order (LC_COLLATE=C) levels, as Beaver sorts categorical levels
bytelev <- function(x) factor(x, levels = sort(unique(x), method = "radix"))

record <- function(case, call, fit, zph = TRUE) {
  emit(case, "call", "", deparse1(call))
  s <- summary(fit)
  cf <- s$coefficients
  ci <- s$conf.int
  beta <- coef(fit)
  emit(case, "coef", names(beta), cform(beta))
  emit(case, "se", names(beta), cform(sqrt(diag(if (is.null(fit$naive.var)) fit$var else fit$naive.var))))
  if (!is.null(fit$naive.var)) emit(case, "robust_se", names(beta), cform(sqrt(diag(fit$var))))
  emit(case, "z", names(beta), cform(cf[, "z"]))
  emit(case, "p", names(beta), cform(cf[, "Pr(>|z|)"]))
  emit(case, "hr", names(beta), cform(ci[, 1]))
  emit(case, "hr_lower", names(beta), cform(ci[, 3]))
  emit(case, "hr_upper", names(beta), cform(ci[, 4]))
  emit(case, "loglik_null", "", cform(fit$loglik[1]))
  emit(case, "loglik", "", cform(fit$loglik[2]))
  emit(case, "lr_chi2", "", cform(s$logtest["test"]))
  emit(case, "lr_p", "", cform(s$logtest["pvalue"]))
  emit(case, "df", "", cform(s$logtest["df"]))
  # summary() rounds the Wald statistic to 2 decimals: use fit$wald.test
  emit(case, "wald_chi2", "", cform(fit$wald.test))
  emit(case, "wald_p", "", cform(pchisq(fit$wald.test, s$logtest["df"], lower.tail = FALSE)))
  emit(case, "score_chi2", "", cform(fit$score))            # fit$score (model-based)
  emit(case, "score_p", "", cform(s$sctest["pvalue"]))
  if (!is.null(fit$rscore)) {                               # robust score test (summary's robscore)
    emit(case, "rscore_chi2", "", cform(fit$rscore))
    emit(case, "rscore_p", "", cform(s$robscore["pvalue"]))
  }
  emit(case, "iter", "", cform(fit$iter))
  emit(case, "n", "", cform(fit$n))
  emit(case, "events", "", cform(fit$nevent))
  if (zph) {
    z <- cox.zph(fit)   # transform = "km", terms = TRUE
    tb <- z$table
    emit(case, "zph_chi2", rownames(tb), cform(tb[, "chisq"]))
    emit(case, "zph_df", rownames(tb), cform(tb[, "df"]))
    emit(case, "zph_p", rownames(tb), cform(tb[, "p"]))
  }
}
run <- function(case, call, zph = TRUE) {
  fit <- eval(call)
  record(case, call, fit, zph)
}

# lung: status 1 = censored, 2 = dead; export a 0/1 "dead" column
l <- lung; l$dead <- as.integer(l$status == 2)
lung2 <- roundtrip(l, "lung.csv")
run("lung_efron", quote(coxph(Surv(time, dead) ~ age + sex + ph.ecog, data = lung2)))
run("lung_breslow", quote(coxph(Surv(time, dead) ~ age + sex + ph.ecog, data = lung2, ties = "breslow")))
run("lung_strata_sex", quote(coxph(Surv(time, dead) ~ age + ph.ecog + strata(sex), data = lung2)))
run("lung_strata_inst", quote(coxph(Surv(time, dead) ~ age + sex + strata(inst), data = lung2)))

vet <- roundtrip(veteran, "veteran.csv")
vet$celltype <- bytelev(vet$celltype)
run("veteran", quote(coxph(Surv(time, status) ~ trt + karno + age + celltype, data = vet)))
run("veteran_breslow", quote(coxph(Surv(time, status) ~ trt + karno + age + celltype, data = vet, ties = "breslow")))

ova <- roundtrip(ovarian, "ovarian.csv")
run("ovarian", quote(coxph(Surv(futime, fustat) ~ age + rx + ecog.ps, data = ova)))

p <- pbc[, c("id", "time", "status", "age", "edema", "bili", "albumin", "protime")]
p$dead <- as.integer(p$status == 2)
p$log_bili <- log(p$bili); p$log_albumin <- log(p$albumin); p$log_protime <- log(p$protime)
pbc2 <- roundtrip(p, "pbc.csv")
run("pbc", quote(coxph(Surv(time, dead) ~ age + edema + log_bili + log_albumin + log_protime, data = pbc2)))

col <- roundtrip(colon[, c("id", "rx", "sex", "age", "nodes", "status", "time", "etype")], "colon.csv")
col$rx <- bytelev(col$rx)
colon_death <- subset(col, etype == 2)
run("colon_death", quote(coxph(Surv(time, status) ~ rx + sex + age + nodes, data = colon_death)))
run("colon_cluster", quote(coxph(Surv(time, status) ~ rx + sex + age + nodes + strata(etype), data = col, cluster = id)))

hrt <- roundtrip(heart, "heart.csv")
run("heart", quote(coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data = hrt)))
run("heart_breslow", quote(coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data = hrt, ties = "breslow")))
run("heart_strata", quote(coxph(Surv(start, stop, event) ~ age + year + transplant + strata(surgery), data = hrt)))

cg <- roundtrip(cgd[, c("id", "tstart", "tstop", "status", "treat", "sex", "age")], "cgd.csv")
cg$treat <- bytelev(cg$treat); cg$sex <- bytelev(cg$sex)
run("cgd", quote(coxph(Surv(tstart, tstop, status) ~ treat + sex + age, data = cg, cluster = id)))

rt <- roundtrip(rats, "rats.csv")
run("rats", quote(coxph(Surv(time, status) ~ rx, data = rt, cluster = litter)))

# cox.zph's other time transforms
local({
  f <- coxph(Surv(time, dead) ~ age + sex + ph.ecog, data = lung2)
  for (tr in c("rank", "identity", "log"))
    emit("lung_efron", paste0("zph_", tr, "_chi2"), rownames(cox.zph(f, transform = tr)$table),
         cform(cox.zph(f, transform = tr)$table[, "chisq"]))
  f <- coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data = hrt)
  emit("heart", "zph_rank_chi2", rownames(cox.zph(f, transform = "rank")$table),
       cform(cox.zph(f, transform = "rank")$table[, "chisq"]))
})

# not converged: iter.max = 2 (R warns "Ran out of iterations and did not converge")
run("lung_iter2", quote(suppressWarnings(coxph(Surv(time, dead) ~ age + sex + ph.ecog, data = lung2, iter.max = 2))), zph = FALSE)
# survival 3.5-3's coxfit6 inverts the information matrix without decomposing
# it first when it runs out of iterations, so fit$var above is not the inverse
# information; Beaver reports the inverse information at the final beta, which
# is what this refit from init = coef(fit) with iter.max = 0 gives:
local({
  f <- suppressWarnings(coxph(Surv(time, dead) ~ age + sex + ph.ecog, data = lung2, iter.max = 2))
  g <- coxph(Surv(time, dead) ~ age + sex + ph.ecog, data = lung2, init = coef(f), iter.max = 0)
  emit("lung_iter2", "se_info", names(coef(f)), cform(sqrt(diag(g$var))))
})
run("heart_iter2", quote(suppressWarnings(coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data = hrt, iter.max = 2))), zph = FALSE)

# small designed cases
tied <- roundtrip(data.frame(time = rep(5, 10), status = c(1,1,0,1,0,1,1,0,1,0),
  x = c(0.5, 1.2, -0.3, 2.0, 0.1, -1.1, 0.7, 1.5, -0.4, 0.9)), "tied.csv")
run("tied_efron", quote(coxph(Surv(time, status) ~ x, data = tied)), zph = FALSE)
run("tied_breslow", quote(coxph(Surv(time, status) ~ x, data = tied, ties = "breslow")), zph = FALSE)
single <- roundtrip(data.frame(time = c(2, 3, 4, 5, 6, 7), status = c(0, 0, 1, 0, 0, 0),
  x = c(1.0, 0.2, 0.6, 1.4, -0.5, 0.3)), "single.csv")
run("single_event", quote(coxph(Surv(time, status) ~ x, data = single)), zph = FALSE)
sep <- roundtrip(data.frame(time = 1:10, status = c(1,1,1,0,1,0,1,0,0,1),
  g = c(1,1,1,1,1,0,1,0,0,1), x = c(0.3,-0.2,1.1,0.5,-0.7,0.9,0.1,-1.3,0.4,0.8)), "separation.csv")
w <- NULL
fit <- withCallingHandlers(coxph(Surv(time, status) ~ x + g, data = sep),
  warning = function(m) { w <<- conditionMessage(m); invokeRestart("muffleWarning") })
emit("separation", "call", "", "coxph(Surv(time, status) ~ x + g, data = sep)")
emit("separation", "warning", "", w)
emit("separation", "coef", names(coef(fit)), cform(coef(fit)))
sing <- roundtrip(data.frame(time = c(3, 5, 2, 8, 6, 4, 9, 1), status = c(1,0,1,1,0,1,1,1),
  a = c(1, 2, 3, 4, 5, 6, 7, 8), b = c(2, 1, 0, 2, 1, 3, 0, 1)), "singular.csv")
sing$c <- sing$a + sing$b
write.csv(sing, "singular.csv", row.names = FALSE)
fit <- coxph(Surv(time, status) ~ a + b + c, data = sing)
emit("singular", "call", "", "coxph(Surv(time, status) ~ a + b + c, data = sing)")
emit("singular", "coef", names(coef(fit)), cform(coef(fit)))

res <- do.call(rbind, out)
write.csv(res, "reference.csv", row.names = FALSE)
cat(nrow(res), "values written\n")
