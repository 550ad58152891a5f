package stats

import "testing"

// benchCox fits a seeded simulated data set of n rows and p covariates
// (integer times 1..1000, about 30% events); see coxSim. R's time on the same
// shape is measured by testdata/cox/bench.R (docs/benchmarks.md).
func benchCox(b *testing.B, n, p int, ties string) {
	d := coxSim(n, p, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Cox(d, CoxOptions{Ties: ties}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCoxEfron10k(b *testing.B)   { benchCox(b, 10_000, 10, "efron") }
func BenchmarkCoxEfron1M(b *testing.B)    { benchCox(b, 1_000_000, 10, "efron") }
func BenchmarkCoxBreslow1M(b *testing.B)  { benchCox(b, 1_000_000, 10, "breslow") }
func BenchmarkCoxZPHEfron1M(b *testing.B) { benchZPH(b, 1_000_000, 10) }

// benchZPH times cox.zph on a fit of the benchmark data.
func benchZPH(b *testing.B, n, p int) {
	d := coxSim(n, p, 1)
	fit, err := Cox(d, CoxOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := CoxZPH(d, fit, "km"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCoxProfile100k times a fit with profile-likelihood intervals
// (CoxOptions.CI = "profile") on 100,000 rows and 10 covariates.
func BenchmarkCoxProfile100k(b *testing.B) {
	d := coxSim(100_000, 10, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Cox(d, CoxOptions{CI: "profile"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCoxWald100k is BenchmarkCoxProfile100k's Wald counterpart.
func BenchmarkCoxWald100k(b *testing.B) { benchCox(b, 100_000, 10, "efron") }
