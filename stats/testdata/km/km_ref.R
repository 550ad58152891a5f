# Reference values for stats/km_test.go and stats/logrank_test.go.
# R 4.2.2, survival 3.5-3.  Run from this directory:  Rscript km_ref.R
# Writes the datasets (lung.csv, veteran.csv, ovarian.csv, aml.csv, plateau.csv,
# plateauend.csv, notreached.csv) and the references km_steps.csv, km_table.csv, logrank.csv.
library(survival)
f17 <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))

lung2 <- data.frame(time = lung$time, status = as.integer(lung$status == 2), sex = lung$sex, ph.ecog = lung$ph.ecog)
vet <- data.frame(time = veteran$time, status = veteran$status, celltype = as.character(veteran$celltype), trt = veteran$trt)
ova <- data.frame(futime = ovarian$futime, fustat = ovarian$fustat, rx = ovarian$rx)
aml2 <- data.frame(time = aml$time, status = aml$status, x = as.character(aml$x))
# S(t) is exactly 0.5 on a plateau (t in [4, 10)), then falls: median is (4+10)/2 = 7.
# (S = 5/6 * 4/5 * 3/4 * 2/3 in floating point, equal to 0.5 within R's tolerance.)
plateau <- data.frame(time = c(1, 2, 3, 4, 5, 6, 10, 12), status = c(1, 1, 1, 1, 0, 0, 1, 0))
# S(t) is exactly 0.5 from t=2 to the end: median is 2 (no later drop).
plateauend <- data.frame(time = c(1, 2, 3, 4), status = c(1, 1, 0, 0))
# S(t) never falls to 0.5: median (and its upper limit) not reached.
notreached <- data.frame(time = c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), status = c(1, 0, 1, 0, 0, 0, 0, 1, 0, 0))
write.csv(lung2, "lung.csv", row.names = FALSE, na = "NA")
write.csv(vet, "veteran.csv", row.names = FALSE)
write.csv(ova, "ovarian.csv", row.names = FALSE)
write.csv(aml2, "aml.csv", row.names = FALSE)
write.csv(plateau, "plateau.csv", row.names = FALSE)
write.csv(plateauend, "plateauend.csv", row.names = FALSE)
write.csv(notreached, "notreached.csv", row.names = FALSE)

# Each case: a name, the data, the time/status/group columns, conf.type, conf.int.
cases <- list(
  list("lung_log", lung2, "time", "status", NULL, "log", 0.95),
  list("lung_loglog", lung2, "time", "status", NULL, "log-log", 0.95),
  list("lung_plain", lung2, "time", "status", NULL, "plain", 0.95),
  list("lung_sex_log", lung2, "time", "status", "sex", "log", 0.95),
  list("lung_sex_loglog", lung2, "time", "status", "sex", "log-log", 0.95),
  list("lung_sex_plain", lung2, "time", "status", "sex", "plain", 0.95),
  list("veteran_celltype_log", vet, "time", "status", "celltype", "log", 0.95),
  list("veteran_loglog90", vet, "time", "status", NULL, "log-log", 0.90),
  list("veteran_plain", vet, "time", "status", NULL, "plain", 0.95),
  list("veteran_trt_loglog", vet, "time", "status", "trt", "log-log", 0.95),
  list("ovarian_rx_plain", ova, "futime", "fustat", "rx", "plain", 0.95),
  list("ovarian_rx_log", ova, "futime", "fustat", "rx", "log", 0.95),
  list("ovarian_rx_loglog", ova, "futime", "fustat", "rx", "log-log", 0.95),
  list("ovarian_log", ova, "futime", "fustat", NULL, "log", 0.95),
  list("aml_log", aml2, "time", "status", NULL, "log", 0.95),
  list("aml_x_log", aml2, "time", "status", "x", "log", 0.95),
  list("aml_x_loglog", aml2, "time", "status", "x", "log-log", 0.95),
  list("aml_x_plain", aml2, "time", "status", "x", "plain", 0.95),
  list("plateau_log", plateau, "time", "status", NULL, "log", 0.95),
  list("plateau_plain", plateau, "time", "status", NULL, "plain", 0.95),
  list("plateauend_log", plateauend, "time", "status", NULL, "log", 0.95),
  list("notreached_log", notreached, "time", "status", NULL, "log", 0.95)
)

steps <- NULL
tab <- NULL
for (cs in cases) {
  name <- cs[[1]]; d <- cs[[2]]; tcol <- cs[[3]]; ecol <- cs[[4]]; g <- cs[[5]]
  fml <- if (is.null(g)) as.formula(sprintf("Surv(%s, %s) ~ 1", tcol, ecol)) else
    as.formula(sprintf("Surv(%s, %s) ~ %s", tcol, ecol, g))
  fit <- survfit(fml, data = d, conf.type = cs[[6]], conf.int = cs[[7]])
  s <- summary(fit, censored = TRUE)
  grp <- if (is.null(g)) rep("", length(s$time)) else sub("^[^=]*=", "", as.character(s$strata))
  call <- sprintf("summary(survfit(%s, data=%s, conf.type='%s', conf.int=%s), censored=TRUE)",
                  deparse(fml), sub("_.*", "", name), cs[[6]], cs[[7]])
  steps <- rbind(steps, data.frame(case = name, group = grp, time = f17(s$time), n_risk = s$n.risk,
    n_event = s$n.event, n_censor = s$n.censor, surv = f17(s$surv), std_err = f17(s$std.err),
    lower = f17(s$lower), upper = f17(s$upper)))
  tb <- summary(fit)$table
  if (is.null(dim(tb))) tb <- matrix(tb, nrow = 1, dimnames = list("", names(tb)))
  tgrp <- if (is.null(g)) "" else sub("^[^=]*=", "", rownames(tb))
  tab <- rbind(tab, data.frame(case = name, group = tgrp, n = tb[, "records"], events = tb[, "events"],
    median = f17(tb[, "median"]), median_lower = f17(tb[, 8]), median_upper = f17(tb[, 9]), call = call))
}
write.csv(steps, "km_steps.csv", row.names = FALSE, quote = TRUE)
write.csv(tab, "km_table.csv", row.names = FALSE, quote = TRUE)

lr <- function(name, fml, d) {
  sd <- survdiff(fml, data = d)
  data.frame(case = name, call = paste0("survdiff(", deparse(fml), ", data=", name, ")"),
             chi2 = f17(sd$chisq), df = length(sd$n) - 1, p = f17(pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE)))
}
lung_ecog <- lung2[!is.na(lung2$ph.ecog), ]
logrank <- rbind(
  lr("lung", Surv(time, status) ~ sex, lung2),
  lr("veteran", Surv(time, status) ~ celltype, vet),
  lr("veteran", Surv(time, status) ~ trt + strata(celltype), vet),
  lr("aml", Surv(time, status) ~ x, aml2),
  lr("ovarian", Surv(futime, fustat) ~ rx, ova),
  lr("lung_ecog", Surv(time, status) ~ sex + strata(ph.ecog), lung_ecog)
)
write.csv(logrank, "logrank.csv", row.names = FALSE, quote = TRUE)
