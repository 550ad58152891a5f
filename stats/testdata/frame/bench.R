# R's time to read a CSV shaped as BenchmarkReadCSV1M (stats/frame_test.go):
# 1,000,000 rows x 12 numeric columns written with six decimals.
# Run: Rscript bench.R > bench.out
set.seed(42)
path <- tempfile(fileext = ".csv")
d <- as.data.frame(matrix(round(rnorm(12e6) * 10, 6), ncol = 12))
names(d) <- paste0("x", 1:12)
write.csv(d, path, row.names = FALSE)
cat(sprintf("file: %.1f MB\n", file.size(path) / 1e6))
for (i in 1:3) {
  t <- system.time(r <- read.csv(path))
  cat(sprintf("read.csv run %d: %.3f s elapsed\n", i, t[["elapsed"]]))
}
unlink(path)
cat(R.version.string, "\n")
