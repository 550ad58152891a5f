package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var logisticCases = []glmCase{
	{"birthwt_logistic", "birthwt.csv", "low", []string{"age", "lwt", "race", "smoke", "ptl", "ht", "ui"}, []string{"race"}},
	{"infert_logistic", "infert.csv", "case", []string{"spontaneous", "induced", "education"}, []string{"education"}},
	{"mtcars_logistic", "mtcars.csv", "am", []string{"wt", "hp"}, nil},
	{"mtcars_na_logistic", "mtcars_na.csv", "am", []string{"wt", "hp", "cyl"}, []string{"cyl"}},
	// k is constant, al = wt + 2*hp: R's NA (aliased.R)
	{"mtcars_aliased_logistic", "mtcars_aliased.csv", "am", []string{"wt", "k", "hp", "al"}, nil},
}

func TestLogisticMatchesR(t *testing.T) {
	t.Parallel()
	for _, c := range logisticCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ref := readGLMRef(t, c.name)
			f, rows, d := loadGLMCase(t, c)
			y, err := f.Events(c.outcome, rows)
			require.NoError(t, err)
			res, err := Logistic(y, d, LogisticOptions{})
			require.NoError(t, err, ref.call)
			assert.Equal(t, "logistic", res.Model)
			assert.Equal(t, int(ref.fit["n"]), res.N, ref.call)
			assert.Equal(t, ref.dropped(), res.Dropped, "%s: terms R reports as NA", ref.call)
			assert.Len(t, res.Warnings, len(res.Dropped))
			assert.Equal(t, int(ref.fit["iterations"]), res.Iterations, "%s: iterations", ref.call)
			assertClose(t, ref.fit["deviance"], float64(res.Deviance), "%s: deviance", ref.call)
			assertClose(t, ref.fit["null_deviance"], float64(res.NullDeviance), "%s: null deviance", ref.call)
			assertClose(t, ref.fit["aic"], float64(res.AIC), "%s: aic", ref.call)
			require.Len(t, res.Coefficients, len(ref.terms))
			for j, co := range res.Coefficients {
				assert.Equal(t, ref.terms[j], co.Term)
				assertClose(t, ref.coef[j], float64(co.Coef), "%s: %s coef", ref.call, co.Term)
				assertClose(t, ref.se[j], float64(co.SE), "%s: %s se", ref.call, co.Term)
				assertClose(t, ref.stat[j], float64(co.Z), "%s: %s z", ref.call, co.Term)
				assertClose(t, ref.p[j], float64(co.P), "%s: %s p", ref.call, co.Term)
				assertClose(t, math.Exp(ref.coef[j]), float64(co.OR), "%s: %s or", ref.call, co.Term)
				assertClose(t, ref.lower[j], float64(co.ORLower), "%s: %s or_lower", ref.call, co.Term)
				assertClose(t, ref.upper[j], float64(co.ORUpper), "%s: %s or_upper", ref.call, co.Term)
			}
		})
	}
}

func TestLogisticErrors(t *testing.T) {
	t.Parallel()
	b := func(v ...int) []bool {
		out := make([]bool, len(v))
		for i, x := range v {
			out[i] = x == 1
		}
		return out
	}
	tests := []struct {
		name string
		y    []bool
		d    *Design
		want string
	}{
		{"perfect separation", b(0, 0, 0, 0, 0, 1, 1, 1, 1, 1),
			&Design{Names: []string{"x"}, N: 10, P: 1, X: []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
			`logistic: separation: fitted probabilities tend to 0 or 1 in 10 of 10 rows (R warns "fitted probabilities numerically 0 or 1 occurred" or reports a huge standard error); the outcome is perfectly predicted by "x"`},
		// exposed is 1 only in cases: quasi-complete separation, x is fine. R
		// (glm(y ~ x + exposed, binomial), testdata/glm/separation.R) converges in
		// 17 iterations without a warning: exposed 19.34, SE 3696.
		{"quasi-complete separation", b(0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1),
			&Design{Names: []string{"x", "exposed"}, N: 14, P: 2, X: []float64{
				1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 1, 1, 2, 0, 3, 1, 4, 0, 5, 1, 6, 0, 3, 0, 4, 0}},
			`logistic: separation: fitted probabilities tend to 0 or 1 in 3 of 14 rows (R warns "fitted probabilities numerically 0 or 1 occurred" or reports a huge standard error); the outcome is perfectly predicted by "exposed"`},
		{"all zero", b(0, 0, 0),
			&Design{Names: []string{"a"}, N: 3, P: 1, X: []float64{1, 2, 3}},
			"logistic: the outcome is 0 in all 3 rows; nothing to model"},
		{"all one", b(1, 1, 1),
			&Design{Names: []string{"a"}, N: 3, P: 1, X: []float64{1, 2, 3}},
			"logistic: the outcome is 1 in all 3 rows; nothing to model"},
		{"n = p", b(0, 1),
			&Design{Names: []string{"a"}, N: 2, P: 1, X: []float64{1, 2}},
			"logistic: 2 rows for 2 coefficients; need more rows than coefficients"},
		{"empty", nil, &Design{Names: []string{"a"}, P: 1}, "logistic: no rows"},
		{"nan", b(0, 1, 0), &Design{Names: []string{"a"}, N: 3, P: 1, X: []float64{1, math.NaN(), 3}},
			`logistic: column "a", row 2: NaN is not a finite number`},
		// issue 14 point 17: these gave "singular" or a non-finite fit
		{"huge", b(0, 1, 0, 1, 1), &Design{Names: []string{"a"}, N: 5, P: 1, X: []float64{1, 2, 3, 1e308, 2}},
			`logistic: column "a", row 4: 1e+308 is too large: values must be 0 or of magnitude 1e-100 to 1e+100; rescale the column`},
		{"subnormal", b(0, 1, 0, 1, 1), &Design{Names: []string{"a"}, N: 5, P: 1, X: []float64{0, 1e-320, 0, 2e-320, 0}},
			`logistic: column "a", row 2: 1e-320 is too small: values must be 0 or of magnitude 1e-100 to 1e+100 (subnormal and near-zero values lose precision); rescale the column`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Logistic(tt.y, tt.d, LogisticOptions{})
			assert.EqualError(t, err, tt.want)
		})
	}
	_, err := Logistic(b(0, 1, 0, 1, 1, 0, 0), &Design{Names: []string{"a"}, N: 7, P: 1, X: []float64{1, 2, 3, 4, 1, 2, 0}}, LogisticOptions{MaxIter: 1})
	assert.ErrorContains(t, err, "logistic: did not converge in 1 iterations")
	assert.Panics(t, func() {
		_, _ = Logistic(b(0, 1), &Design{Names: []string{"a"}, N: 3, P: 1, X: []float64{1, 2, 3}}, LogisticOptions{})
	})
}

// TestLogisticParallel checks that the parallel accumulation finds the
// generating coefficients and agrees with a serial pass.
func TestLogisticParallel(t *testing.T) {
	t.Parallel()
	d, y := logisticData(100_000, 3, 5)
	res, err := Logistic(y, d, LogisticOptions{})
	require.NoError(t, err)
	want := []float64{-1, 0.5, -0.5, 0.5}
	for j, c := range res.Coefficients {
		assert.InDelta(t, want[j], float64(c.Coef), 4*float64(c.SE), c.Term)
	}
	ws := newIRLS(y, d)
	ws.workers = 1
	serial := ws.pass([]float64{0.1, 0.2, 0.3, 0.4})
	ws.workers = 2
	par := ws.pass([]float64{0.1, 0.2, 0.3, 0.4})
	assert.InDelta(t, serial.dev, par.dev, 1e-8*serial.dev)
	for i := range serial.a {
		assert.InDelta(t, serial.a[i], par.a[i], 1e-8*(1+math.Abs(serial.a[i])))
	}
}

func FuzzLogistic(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, uint8(1))
	f.Add([]byte{0, 0, 1, 0, 0, 1, 1, 1}, uint8(0))
	f.Add([]byte{1, 200, 0, 100, 1, 3, 0, 9, 1, 250, 0, 7}, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, pp uint8) {
		p := int(pp%3) + 1
		n := len(data) / (p + 1)
		d := &Design{N: n, P: p, X: make([]float64, n*p)}
		for j := range p {
			d.Names = append(d.Names, fmt.Sprint("x", j))
		}
		y := make([]bool, n)
		for i := range n {
			y[i] = data[i*(p+1)]%2 == 1
			for j := range p {
				d.X[i*p+j] = float64(int8(data[i*(p+1)+j+1]))
			}
		}
		res, err := Logistic(y, d, LogisticOptions{})
		if err != nil {
			return
		}
		for _, c := range res.Coefficients {
			if slices.Contains(res.Dropped, c.Term) {
				require.True(t, c.Coef.IsNA(), "dropped term %s: %+v", c.Term, c)
				continue
			}
			for _, v := range []Float{c.Coef, c.SE, c.Z, c.P} {
				require.False(t, v.IsNA(), "term %s: %+v", c.Term, c)
			}
		}
		require.False(t, res.Deviance.IsNA())
	})
}

// logisticData generates n rows of p standard normal covariates and a
// Bernoulli outcome with logit -1 + 0.5 x1 - 0.5 x2 + ..., seeded.
func logisticData(n, p int, seed uint64) (*Design, []bool) {
	rng := rand.New(rand.NewPCG(seed, 4))
	d := &Design{N: n, P: p, X: make([]float64, n*p)}
	for j := range p {
		d.Names = append(d.Names, fmt.Sprint("x", j+1))
	}
	y := make([]bool, n)
	for i := range n {
		eta := -1.0
		for j := range p {
			v := rng.NormFloat64()
			d.X[i*p+j] = v
			if j%2 == 0 {
				eta += 0.5 * v
			} else {
				eta -= 0.5 * v
			}
		}
		y[i] = rng.Float64() < 1/(1+math.Exp(-eta))
	}
	return d, y
}

// BenchmarkLogistic1M fits 1,000,000 rows × 10 covariates.
func BenchmarkLogistic1M(b *testing.B) {
	d, y := logisticData(1_000_000, 10, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Logistic(y, d, LogisticOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
