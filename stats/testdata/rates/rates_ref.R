# Reference values for stats/rates_test.go.  R 4.2.2, epitools 0.5-10.1.
# Run from this directory:  Rscript rates_ref.R
library(epitools)
f17 <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))

## 1. Exact Poisson (Garwood) intervals: epitools::pois.exact finds the limits
## with uniroot (default tolerance ~1e-4), so the closed form with qchisq is
## written too; Beaver is compared with qchisq at 1e-9 and with pois.exact
## at the tolerance of its root finder.
x <- c(0, 1, 2, 5, 10, 41, 15, 100, 1234)
pt <- c(100, 250, 1000, 1234.5, 19017, 28010, 19017, 5e5, 3e6)
out <- NULL
for (cl in c(0.95, 0.90)) {
  pe <- pois.exact(x, pt, conf.level = cl)
  a <- 1 - cl
  lo <- ifelse(x == 0, 0, qchisq(a / 2, 2 * x) / 2) / pt
  up <- qchisq(1 - a / 2, 2 * x + 2) / 2 / pt
  out <- rbind(out, data.frame(x = x, pt = f17(pt), conf_level = cl, rate = f17(x / pt),
    lower = f17(lo), upper = f17(up), poisexact_lower = f17(pe$lower), poisexact_upper = f17(pe$upper),
    call = sprintf("pois.exact(%s, %s, conf.level=%s); qchisq(alpha/2, 2x)/2/pt, qchisq(1-alpha/2, 2x+2)/2/pt", x, pt, cl)))
}
write.csv(out, "pois_exact.csv", row.names = FALSE)

## 2. Direct standardization: the example of ?ageadjust.direct (Fleiss 1981,
## p. 249; Fay & Feuer 1997, Table 1): births by birth order (group) and
## mother's age (stratum), the average population as standard.
population <- c(230061, 329449, 114920, 39487, 14208, 3052,
  72202, 326701, 208667, 83228, 28466, 5375, 15050, 175702,
  207081, 117300, 45026, 9140, 2293, 68800, 132424, 98301,
  46075, 10550)
count <- c(107, 141, 60, 40, 39, 25, 25, 182, 148, 76,
  45, 39, 7, 147, 224, 187, 134, 75, 1, 72, 231, 323, 333,
  231)
ages <- c("Under 20", "20-24", "25-29", "30-34", "35-39", "40 and over")
orders <- c("1", "2", "3", "4+")
pop <- matrix(population, 6, 4, dimnames = list(ages, orders))
cnt <- matrix(count, 6, 4, dimnames = list(ages, orders))
standard <- apply(pop, 1, mean)
write.csv(data.frame(order = rep(orders, each = 6), age = rep(ages, 4), births = count, population = population),
  "fleiss.csv", row.names = FALSE)
write.csv(data.frame(stratum = ages, population = f17(standard)), "fleiss_standard.csv", row.names = FALSE, quote = FALSE)

adj <- NULL
for (g in orders) {
  r <- ageadjust.direct(cnt[, g], pop[, g], stdpop = standard)
  adj <- rbind(adj, data.frame(case = "fleiss", group = g, crude = f17(r[["crude.rate"]]), adjusted = f17(r[["adj.rate"]]),
    lower = f17(r[["lci"]]), upper = f17(r[["uci"]]),
    call = sprintf("ageadjust.direct(cnt[,'%s'], pop[,'%s'], stdpop=apply(pop, 1, mean))", g, g)))
}
r <- ageadjust.direct(cnt[, "2"], pop[, "2"], stdpop = standard, conf.level = 0.9)
adj <- rbind(adj, data.frame(case = "fleiss90", group = "2", crude = f17(r[["crude.rate"]]), adjusted = f17(r[["adj.rate"]]),
  lower = f17(r[["lci"]]), upper = f17(r[["uci"]]),
  call = "ageadjust.direct(cnt[,'2'], pop[,'2'], stdpop=apply(pop, 1, mean), conf.level=0.9)"))

## 3. A designed case with zero-event strata: group "a" has no events in
## stratum "old"; group "b" has no events at all (epitools returns NaN for
## its lower limit: dsr = 0 and dsr.var = 0 give a gamma of shape 0/0).
zc <- data.frame(group = c("a", "a", "a", "b", "b", "b"), stratum = c("young", "mid", "old", "young", "mid", "old"),
  events = c(3, 7, 0, 0, 0, 0), persontime = c(1200, 800, 150, 900, 400, 60))
zstd <- c(young = 5000, mid = 3000, old = 2000)
write.csv(zc, "zero.csv", row.names = FALSE)
write.csv(data.frame(stratum = names(zstd), population = zstd), "zero_standard.csv", row.names = FALSE, quote = FALSE)
for (g in c("a", "b")) {
  s <- zc[zc$group == g, ]
  r <- ageadjust.direct(s$events, s$persontime, stdpop = zstd[s$stratum])
  adj <- rbind(adj, data.frame(case = "zero", group = g, crude = f17(r[["crude.rate"]]), adjusted = f17(r[["adj.rate"]]),
    lower = f17(r[["lci"]]), upper = f17(r[["uci"]]),
    call = sprintf("ageadjust.direct(c(%s), c(%s), stdpop=c(5000, 3000, 2000))",
      paste(s$events, collapse = ", "), paste(s$persontime, collapse = ", "))))
}
write.csv(adj, "ageadjust.csv", row.names = FALSE)

## 4. Rate ratios, Wald interval, first group as reference: Rothman 1998,
## p. 238 (?rateratio): breast cancer and person-years, unexposed vs exposed;
## and the Fleiss crude rates by birth order.
rr <- NULL
w <- rateratio(c(15, 41), c(19017, 28010), method = "wald")$measure
rr <- rbind(rr, data.frame(case = "rothman", group = c("unexposed", "exposed"), estimate = f17(w[, 1]), lower = f17(w[, 2]),
  upper = f17(w[, 3]), call = "rateratio(c(15, 41), c(19017, 28010), method='wald')$measure"))
w <- rateratio(colSums(cnt), colSums(pop), method = "wald")$measure
rr <- rbind(rr, data.frame(case = "fleiss", group = orders, estimate = f17(w[, 1]), lower = f17(w[, 2]),
  upper = f17(w[, 3]), call = "rateratio(colSums(cnt), colSums(pop), method='wald')$measure"))
w <- rateratio(c(15, 41), c(19017, 28010), method = "wald", conf.level = 0.9)$measure
rr <- rbind(rr, data.frame(case = "rothman90", group = c("unexposed", "exposed"), estimate = f17(w[, 1]), lower = f17(w[, 2]),
  upper = f17(w[, 3]), call = "rateratio(c(15, 41), c(19017, 28010), method='wald', conf.level=0.9)$measure"))
write.csv(rr, "rateratio.csv", row.names = FALSE)
