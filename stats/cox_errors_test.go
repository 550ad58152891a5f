package stats

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCoxDegenerateData(t *testing.T) {
	t.Parallel()
	refs := loadCoxRefs(t)
	// R: coxph(Surv(time, status) ~ x + g, data = sep) warns "Loglik converged
	// before variable 2; coefficient may be infinite" (testdata/cox/reference.csv).
	require.Contains(t, refs["separation"].text["warning"], "variable  2")
	// R: coxph(Surv(time, status) ~ a + b + c, data = sing) gives coefficient NA for c.
	require.True(t, math.IsNaN(refs["singular"].vec["coef"][2]))

	sep := loadCoxData(t, coxSpec{csv: "separation.csv", time: "time", event: "status", covariates: []string{"x", "g"}})
	sing := loadCoxData(t, coxSpec{csv: "singular.csv", time: "time", event: "status", covariates: []string{"a", "b", "c"}})
	base := CoxData{Stop: []float64{1, 2, 3, 4}, Event: []bool{true, false, true, true}, X: []float64{1, 2, 3, 5}, P: 1, Names: []string{"x"}}
	with := func(f func(d *CoxData)) CoxData {
		d := base
		d.Stop = append([]float64(nil), base.Stop...)
		d.Event = append([]bool(nil), base.Event...)
		d.X = append([]float64(nil), base.X...)
		f(&d)
		return d
	}
	cases := []struct {
		name string
		data CoxData
		want string
		row  int // 1-based row named by a *CoxRowError, 0 if none
	}{
		{"separation", sep, `cox: newton-raphson: monotone likelihood (separation): the coefficient of "g" diverges to infinity (log-likelihood converged before it;`, 0},
		{"no events", with(func(d *CoxData) { d.Event = make([]bool, 4) }), "no events", 0},
		{"constant covariate", with(func(d *CoxData) { d.X = []float64{2, 2, 2, 2} }), `cox: design: no covariate varies among the 4 rows used ("x": it has no variation (all values are 2))`, 0},
		{"negative time", with(func(d *CoxData) { d.Stop[2] = -1 }), "negative time", 3},
		{"NaN time", with(func(d *CoxData) { d.Stop[1] = math.NaN() }), "not a finite number", 2},
		{"stop before start", with(func(d *CoxData) { d.Start = []float64{0, 0, 3, 1} }), "stop time 3 is not after start time 3", 3},
		{"negative start", with(func(d *CoxData) { d.Start = []float64{0, -1, 0, 0} }), "negative start time", 2},
		{"infinite covariate", with(func(d *CoxData) { d.X[3] = math.Inf(1) }), `covariate "x": +Inf is not a finite number`, 4},
		// issue 14 point 17: 1e308 gave "log-likelihood at beta = 0 is not finite", 1e-320 "singular"
		{"huge covariate", with(func(d *CoxData) { d.X[1] = 1e308 }), `covariate "x": 1e+308 is too large: values must be 0 or of magnitude 1e-100 to 1e+100; rescale the column`, 2},
		{"subnormal covariate", with(func(d *CoxData) { d.X = []float64{0, 1e-320, 0, 3e-320} }), `covariate "x": 1e-320 is too small`, 2},
		{"empty", CoxData{P: 1}, "no rows", 0},
		{"no covariates", CoxData{Stop: []float64{1}, Event: []bool{true}}, "no covariates", 0},
	}
	t.Run("singular", func(t *testing.T) {
		// c = a + b: R's coefficient NA, the rest fitted
		fit, err := Cox(sing, CoxOptions{})
		require.NoError(t, err)
		assert.Equal(t, []string{"c"}, fit.Dropped)
		assert.True(t, fit.Coefficients[2].Coef.IsNA())
		for k, want := range refs["singular"].vec["coef"] {
			assertRel(t, want, fit.Coef[k], 1e-6, refs["singular"].call)
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fit, err := Cox(c.data, CoxOptions{})
			require.Error(t, err)
			assert.Nil(t, fit)
			assert.Contains(t, err.Error(), c.want)
			var re *CoxRowError
			if c.row > 0 {
				require.True(t, errors.As(err, &re), "want a row error, got %v", err)
				assert.Equal(t, c.row, re.Row+1)
			} else {
				assert.False(t, errors.As(err, &re))
			}
		})
	}
}

// TestCoxSeparationNamed checks that a coefficient running off to infinity
// is named (issue 14, point 15), whether the information collapses (R: NA
// without a warning) or the fit runs out of iterations (R: "one or more
// coefficients may be infinite"; Beaver returned converged:false with no
// warning), and that a fit only slow to converge is not taken for one.
func TestCoxSeparationNamed(t *testing.T) {
	t.Parallel()
	refs := loadCoxRefs(t)
	// R: coxph(Surv(time, status) ~ x, data = d) (testdata/cox/make_separation.R)
	require.True(t, math.IsNaN(refs["separation_collapse"].vec["coef"][0]))
	require.Contains(t, refs["separation_noconv"].text["warning"], "one or more coefficients may be infinite")
	for _, c := range []struct {
		name      string
		converged bool
	}{{"separation_collapse", false}, {"separation_noconv", false}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := loadCoxData(t, coxSpec{csv: c.name + ".csv", time: "time", event: "status", covariates: []string{"x"}})
			for _, cp := range []bool{false, true} {
				if cp { // the same data as counting-process intervals (0, time]
					d.Start = make([]float64, len(d.Stop))
				}
				fit, err := Cox(d, CoxOptions{})
				require.Error(t, err, "counting process %v: %+v", cp, fit)
				var se *CoxSeparationError
				require.True(t, errors.As(err, &se), "%v", err)
				assert.Equal(t, []string{"x"}, se.Terms)
				assert.Contains(t, err.Error(), `the coefficient of "x" diverges to infinity`)
			}
		})
	}
	// lung with iter.max = 2 runs out of iterations without diverging
	fit, err := Cox(loadCoxData(t, coxCases["lung_iter2"]), CoxOptions{MaxIter: 2})
	require.NoError(t, err)
	assert.False(t, fit.Converged)
}

// TestCoxEngineLargeRiskScores checks the information where risk scores
// exceed 1e150 (x·beta up to 400): den² overflowed, the a a'/den² term
// vanished and the information came out 33,000 times too large, so that
// Newton-Raphson crawled in steps of 0.002 (coefficient 2.54 after 10
// iterations where R reaches 3.44).
func TestCoxEngineLargeRiskScores(t *testing.T) {
	t.Parallel()
	refs := loadCoxRefs(t)
	d := loadCoxData(t, coxSpec{csv: "separation_noconv.csv", time: "time", event: "status", covariates: []string{"x"}})
	pr, err := prepCox(d)
	require.NoError(t, err)
	for _, ties := range []string{"efron", "breslow"} {
		// R: coxph(Surv(time, status) ~ x, data = d, ties = ties, init = 2.54185284799016, iter.max = 0)
		ref := refs["separation_noconv_init_"+ties]
		eng := newCoxEngine(pr.x, pr.n, 1, nil, d.Stop, d.Event, pr.strata, pr.nstrat, ties == "efron")
		u, imat := make([]float64, 1), make([]float64, 1)
		ll := eng.eval([]float64{2.541852847990159 / pr.scale[0]}, u, imat)
		assertRel(t, ref.scalar["loglik"], ll, 1e-9, ref.call+" loglik")
		assertRel(t, ref.vec["info"][0], imat[0]/(pr.scale[0]*pr.scale[0]), 1e-6, ref.call+" 1/var")
	}
	// the cluster-robust variance there (score residuals, same overflow):
	// R: coxph(..., init = 2.54185284799016, iter.max = 0, cluster = id), id = (row - 1) %/% 4
	for _, ties := range []string{"efron", "breslow"} {
		ref := refs["separation_noconv_robust_"+ties]
		dc := d
		dc.Cluster = make([]string, len(d.Stop))
		for i := range dc.Cluster {
			dc.Cluster[i] = fmt.Sprint(i / 4)
		}
		prc, err := prepCox(dc)
		require.NoError(t, err)
		eng := newCoxEngine(prc.x, prc.n, 1, nil, dc.Stop, dc.Event, prc.strata, prc.nstrat, ties == "efron")
		beta := []float64{2.541852847990159}
		u, imat := make([]float64, 1), make([]float64, 1)
		eng.eval([]float64{beta[0] / prc.scale[0]}, u, imat)
		naive := []float64{prc.scale[0] * prc.scale[0] / imat[0]}
		robust, _, err := coxRobust(eng, prc, dc, beta, naive)
		require.NoError(t, err)
		assertRel(t, ref.vec["robust_var"][0], robust[0], 1e-6, ref.call+" robust var")
	}
	// R: coxph(Surv(time, status) ~ x, data = d, iter.max = 10)
	ref := refs["separation_noconv_iter10"]
	eng := newCoxEngine(pr.x, pr.n, 1, nil, d.Stop, d.Event, pr.strata, pr.nstrat, true)
	st, err := coxNewtonRaphson(eng, 1, []float64{0}, 10, 1e-9, false)
	require.NoError(t, err)
	assertRel(t, ref.vec["coef"][0], st.beta[0]*pr.scale[0], 1e-6, ref.call+" coef")
	assertRel(t, ref.scalar["loglik"], st.ll, 1e-9, ref.call+" loglik")
}

// TestCoxLevelLimit checks that a categorical term with more than
// CoxMaxLevels levels is refused before fitting (issue 14, point 16: a
// 1,500-level term ran 52 s and did not converge), and that one with
// CoxMaxLevels levels is fitted.
func TestCoxLevelLimit(t *testing.T) {
	t.Parallel()
	build := func(levels int) CoxData {
		n, p := 4*levels, levels-1
		d := CoxData{P: p, X: make([]float64, n*p)}
		for i := 0; i < n; i++ {
			l := i % levels
			d.Stop = append(d.Stop, float64(1+(i*7919)%97))
			d.Event = append(d.Event, i%4 != 3)
			if l > 0 {
				d.X[i*p+l-1] = 1
			}
		}
		for l := 1; l < levels; l++ {
			d.Names = append(d.Names, fmt.Sprintf("site=%d", l))
			d.Terms = append(d.Terms, "site")
		}
		return d
	}
	_, err := Cox(build(CoxMaxLevels+1), CoxOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `cox: design: categorical term "site" has 101 levels; a Cox model takes at most 100`)
	_, err = Cox(build(CoxMaxLevels), CoxOptions{})
	var se *CoxSeparationError
	if err != nil && !errors.As(err, &se) {
		t.Fatalf("100 levels: %v", err)
	}
}

// TestCoxStageErrors checks that a failed fit says which stage failed
// (issue 16) and keeps its cause reachable with errors.As / errors.Is.
func TestCoxStageErrors(t *testing.T) {
	t.Parallel()
	base := CoxData{Stop: []float64{1, 2, 3, 4}, Event: []bool{true, false, true, true}, X: []float64{1, 2, 3, 5}, P: 1, Names: []string{"x"}}
	sep := loadCoxData(t, coxSpec{csv: "separation.csv", time: "time", event: "status", covariates: []string{"x", "g"}})
	one := loadCoxData(t, coxCases["lung_efron"])
	one.Cluster = make([]string, len(one.Stop)) // a single cluster
	noEvents := base
	noEvents.Event = make([]bool, 4)
	negative := base
	negative.Stop = []float64{1, -2, 3, 4}
	constant := base
	constant.X = []float64{7, 7, 7, 7}
	cases := []struct {
		name, stage string
		data        CoxData
		opts        CoxOptions
		cause       any // a pointer to the cause's type for errors.As, or an error for errors.Is
	}{
		{"bad ties", "options", base, CoxOptions{Ties: "exact"}, nil},
		{"no events", "data", noEvents, CoxOptions{}, ErrCoxNoEvents},
		{"negative time", "data", negative, CoxOptions{}, new(*CoxRowError)},
		{"nothing varies", "design", constant, CoxOptions{}, nil},
		{"separation", "newton-raphson", sep, CoxOptions{}, new(*CoxSeparationError)},
		{"one cluster", "variance", one, CoxOptions{}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Cox(c.data, c.opts)
			require.Error(t, err)
			var se *CoxStageError
			require.True(t, errors.As(err, &se), "%v", err)
			assert.Equal(t, c.stage, se.Stage)
			assert.Regexp(t, "^cox: "+c.stage+": ", err.Error())
			switch cause := c.cause.(type) {
			case error:
				assert.ErrorIs(t, err, cause)
			case nil:
			default:
				assert.True(t, errors.As(err, cause), "cause %T of %v", cause, err)
			}
		})
	}
}

func TestCoxMisusePanics(t *testing.T) {
	t.Parallel()
	cases := map[string]CoxData{
		"events":  {Stop: []float64{1, 2}, Event: []bool{true}, X: []float64{1, 2}, P: 1},
		"X":       {Stop: []float64{1, 2}, Event: []bool{true, false}, X: []float64{1}, P: 1},
		"start":   {Start: []float64{0}, Stop: []float64{1, 2}, Event: []bool{true, false}, X: []float64{1, 2}, P: 1},
		"strata":  {Stop: []float64{1, 2}, Event: []bool{true, false}, X: []float64{1, 2}, P: 1, Strata: []string{"a"}},
		"cluster": {Stop: []float64{1, 2}, Event: []bool{true, false}, X: []float64{1, 2}, P: 1, Cluster: []string{"a"}},
		"names":   {Stop: []float64{1, 2}, Event: []bool{true, false}, X: []float64{1, 2}, P: 1, Names: []string{"a", "b"}},
	}
	for name, d := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			assert.PanicsWithValue(t, panicMessage(t, d), func() { _, _ = Cox(d, CoxOptions{}) })
		})
	}
}

// panicMessage returns the value Cox panics with, checking its prefix.
func panicMessage(t *testing.T, d CoxData) (msg any) {
	t.Helper()
	defer func() {
		msg = recover()
		s, ok := msg.(string)
		require.True(t, ok, "panic value %v", msg)
		require.Regexp(t, "^stats: cox: ", s)
	}()
	_, _ = Cox(d, CoxOptions{})
	return nil
}

func TestCoxOptionsValidate(t *testing.T) {
	t.Parallel()
	d := CoxData{Stop: []float64{1, 2, 3}, Event: []bool{true, true, false}, X: []float64{1, 0, 2}, P: 1}
	for _, o := range []CoxOptions{{Ties: "exact"}, {MaxIter: -1}, {Eps: -1}, {ConfLevel: 1.5}} {
		_, err := Cox(d, o)
		assert.Error(t, err, "%+v", o)
	}
}

func TestCoxCholeskyInverse(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	const p = 5
	a := make([]float64, p*p)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	m := make([]float64, p*p) // A A' + I is positive definite
	for i := 0; i < p; i++ {
		for j := 0; j < p; j++ {
			for k := 0; k < p; k++ {
				m[i*p+j] += a[i*p+k] * a[j*p+k]
			}
		}
		m[i*p+i]++
	}
	inv := append([]float64(nil), m...)
	require.Equal(t, p, coxCholesky(inv, p, coxCholTol))
	coxCholInverse(inv, p)
	for i := 0; i < p; i++ {
		for j := 0; j < p; j++ {
			s := 0.0
			for k := 0; k < p; k++ {
				s += m[i*p+k] * inv[k*p+j]
			}
			want := 0.0
			if i == j {
				want = 1
			}
			assert.InDelta(t, want, s, 1e-10, "(M M⁻¹)[%d,%d]", i, j)
		}
	}
}

// TestCoxRowOrderInvariant checks that permuting rows (and splitting the
// work in several parts) does not change the fit beyond rounding.
func TestCoxRowOrderInvariant(t *testing.T) {
	t.Parallel()
	d := coxSim(120000, 3, 7)
	fit, err := Cox(d, CoxOptions{})
	require.NoError(t, err)
	perm := rand.New(rand.NewPCG(3, 4)).Perm(len(d.Stop))
	e := CoxData{P: d.P, Stop: make([]float64, len(perm)), Event: make([]bool, len(perm)), X: make([]float64, len(d.X))}
	for i, k := range perm {
		e.Stop[i], e.Event[i] = d.Stop[k], d.Event[k]
		copy(e.X[i*d.P:(i+1)*d.P], d.X[k*d.P:(k+1)*d.P])
	}
	fit2, err := Cox(e, CoxOptions{})
	require.NoError(t, err)
	for k := range fit.Coef {
		assertRel(t, fit.Coef[k], fit2.Coef[k], 1e-9, "coef")
		assertRel(t, fit.Var[k*d.P+k], fit2.Var[k*d.P+k], 1e-9, "var")
	}
	assertRel(t, float64(fit.Loglik), float64(fit2.Loglik), 1e-12, "loglik")
}

// coxSim makes n rows with p standard-normal covariates, integer times
// 1..1000 (many ties) and about 30% events, from a seeded RNG.
func coxSim(n, p int, seed uint64) CoxData {
	rng := rand.New(rand.NewPCG(seed, 99))
	d := CoxData{Stop: make([]float64, n), Event: make([]bool, n), X: make([]float64, n*p), P: p}
	for i := 0; i < n; i++ {
		eta := 0.0
		for j := 0; j < p; j++ {
			v := rng.NormFloat64()
			d.X[i*p+j] = v
			eta += 0.1 * float64(j%3-1) * v
		}
		tev := rng.ExpFloat64() / math.Exp(eta) * 1500
		tcens := rng.Float64() * 1300
		tt := math.Min(tev, tcens)
		d.Stop[i] = math.Min(1000, math.Ceil(tt))
		d.Event[i] = tev <= tcens && tt <= 1000
	}
	return d
}
