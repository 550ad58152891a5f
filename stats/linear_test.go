package stats

import (
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// glmCase is a model fitted on a dataset of testdata/glm; the reference
// values are <name>.coef.csv and <name>.fit.csv, written by
// testdata/glm/references.R, whose "call" row names the exact R call.
type glmCase struct {
	name, data, outcome string
	covariates, categ   []string
}

// glmRef is a case's reference: one row per term, and the fit summary.
type glmRef struct {
	terms                           []string
	coef, se, stat, p, lower, upper []float64
	fit                             map[string]float64
	call                            string
}

func readGLMRef(t *testing.T, name string) glmRef {
	t.Helper()
	read := func(file string) [][]string {
		fh, err := os.Open(filepath.Join("testdata", "glm", file))
		require.NoError(t, err)
		defer fh.Close()
		recs, err := csv.NewReader(fh).ReadAll()
		require.NoError(t, err)
		return recs[1:]
	}
	num := func(s string) float64 {
		if s == "NA" {
			return math.NaN()
		}
		v, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err)
		return v
	}
	var ref glmRef
	for _, r := range read(name + ".coef.csv") {
		ref.terms = append(ref.terms, r[0])
		ref.coef = append(ref.coef, num(r[1]))
		ref.se = append(ref.se, num(r[2]))
		ref.stat = append(ref.stat, num(r[3]))
		ref.p = append(ref.p, num(r[4]))
		ref.lower = append(ref.lower, num(r[5]))
		ref.upper = append(ref.upper, num(r[6]))
	}
	ref.fit = map[string]float64{}
	for _, r := range read(name + ".fit.csv") {
		if r[0] == "call" {
			ref.call = r[1]
			continue
		}
		ref.fit[r[0]] = num(r[1])
	}
	require.NotEmpty(t, ref.call)
	return ref
}

// loadGLMCase reads a case's dataset the way the CLI does: drop rows with a
// missing outcome or covariate, then build the design.
// dropped returns the terms whose coefficient R reports as NA.
func (r glmRef) dropped() []string {
	var out []string
	for j, c := range r.coef {
		if math.IsNaN(c) {
			out = append(out, r.terms[j])
		}
	}
	return out
}

func loadGLMCase(t *testing.T, c glmCase) (*Frame, []int, *Design) {
	t.Helper()
	f, err := ReadCSVFile(filepath.Join("testdata", "glm", c.data))
	require.NoError(t, err)
	rows, err := f.Complete(append([]string{c.outcome}, c.covariates...)...)
	require.NoError(t, err)
	d, err := f.Design(rows, c.covariates, c.categ)
	require.NoError(t, err)
	return f, rows, d
}

// closeTo reports whether got agrees with want to 1e-6 relative (1e-300
// absolute, for values that are zero).
func closeTo(got, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= 1e-6*math.Abs(want)+1e-300
}

func assertClose(t *testing.T, want, got float64, what string, args ...any) {
	t.Helper()
	if !closeTo(got, want) {
		t.Errorf("%s: got %.15g, want %.15g (R), relative error %.3g", fmt.Sprintf(what, args...), got, want, math.Abs(got-want)/math.Abs(want))
	}
}

var linearCases = []glmCase{
	{"stackloss_linear", "stackloss.csv", "stack.loss", []string{"Air.Flow", "Water.Temp", "Acid.Conc."}, nil},
	{"mtcars_linear", "mtcars.csv", "mpg", []string{"wt", "hp", "cyl"}, []string{"cyl"}},
	{"mtcars_na_linear", "mtcars_na.csv", "mpg", []string{"wt", "hp", "cyl"}, []string{"cyl"}},
	{"birthwt_linear", "birthwt.csv", "bwt", []string{"age", "lwt", "race", "smoke", "ht", "ui"}, []string{"race"}},
	// k is constant, al = wt + 2*hp: R's NA (aliased.R)
	{"mtcars_aliased_linear", "mtcars_aliased.csv", "mpg", []string{"wt", "k", "hp", "al"}, nil},
}

func TestLinearMatchesR(t *testing.T) {
	t.Parallel()
	for _, c := range linearCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ref := readGLMRef(t, c.name)
			f, rows, d := loadGLMCase(t, c)
			y, err := f.Floats(c.outcome, rows)
			require.NoError(t, err)
			res, err := Linear(y, d)
			require.NoError(t, err, ref.call)
			assert.Equal(t, "linear", res.Model)
			assert.Equal(t, int(ref.fit["n"]), res.N, ref.call)
			assert.Equal(t, ref.dropped(), res.Dropped, "%s: terms R reports as NA", ref.call)
			assert.Len(t, res.Warnings, len(res.Dropped))
			assert.Equal(t, int(ref.fit["df_residual"]), res.DFResidual, ref.call)
			assertClose(t, ref.fit["r_squared"], float64(res.RSquared), "%s: r_squared", ref.call)
			assertClose(t, ref.fit["adj_r_squared"], float64(res.AdjRSquared), "%s: adj_r_squared", ref.call)
			assertClose(t, ref.fit["sigma"], float64(res.Sigma), "%s: sigma", ref.call)
			require.Len(t, res.Coefficients, len(ref.terms))
			for j, co := range res.Coefficients {
				assert.Equal(t, ref.terms[j], co.Term)
				assertClose(t, ref.coef[j], float64(co.Coef), "%s: %s coef", ref.call, co.Term)
				assertClose(t, ref.se[j], float64(co.SE), "%s: %s se", ref.call, co.Term)
				assertClose(t, ref.stat[j], float64(co.T), "%s: %s t", ref.call, co.Term)
				assertClose(t, ref.p[j], float64(co.P), "%s: %s p", ref.call, co.Term)
				assertClose(t, ref.lower[j], float64(co.Lower), "%s: %s lower", ref.call, co.Term)
				assertClose(t, ref.upper[j], float64(co.Upper), "%s: %s upper", ref.call, co.Term)
			}
		})
	}
}

// TestLinearBlocks checks that the blocked, parallel QR agrees with itself
// unblocked: the same data fitted whole and with rows in another order.
func TestLinearBlocks(t *testing.T) {
	t.Parallel()
	d, y := linearData(50_000, 4, 7)
	a, err := Linear(y, d)
	require.NoError(t, err)
	// Reverse the rows: a different blocking of the same least-squares problem.
	rd := &Design{Names: d.Names, N: d.N, P: d.P, X: make([]float64, len(d.X))}
	ry := make([]float64, len(y))
	for i := range d.N {
		copy(rd.X[(d.N-1-i)*d.P:], d.X[i*d.P:(i+1)*d.P])
		ry[d.N-1-i] = y[i]
	}
	b, err := Linear(ry, rd)
	require.NoError(t, err)
	for j := range a.Coefficients {
		assert.InDelta(t, float64(a.Coefficients[j].Coef), float64(b.Coefficients[j].Coef), 1e-10)
		assert.InDelta(t, float64(a.Coefficients[j].SE), float64(b.Coefficients[j].SE), 1e-10)
	}
	// True coefficients are 1, 0.5, -0.5, ... with noise sd 1: the fit finds them.
	assert.InDelta(t, 1, float64(a.Coefficients[0].Coef), 0.05)
	assert.InDelta(t, 0.5, float64(a.Coefficients[1].Coef), 0.05)
}

func TestLinearErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		y    []float64
		d    *Design
		want string
	}{
		{"n = p", []float64{1, 2},
			&Design{Names: []string{"a"}, N: 2, P: 1, X: []float64{1, 2}},
			"linear: 2 rows for 2 coefficients; need more rows than coefficients"},
		{"empty", nil, &Design{Names: []string{"a"}, P: 1}, "linear: no rows"},
		{"perfect fit", []float64{3, 5, 7, 9},
			&Design{Names: []string{"a"}, N: 4, P: 1, X: []float64{1, 2, 3, 4}},
			"linear: essentially perfect fit (residuals are zero); standard errors would be meaningless"},
		{"nan outcome", []float64{1, math.NaN(), 3, 4},
			&Design{Names: []string{"a"}, N: 4, P: 1, X: []float64{1, 2, 3, 5}},
			`linear: column "outcome", row 2: NaN is not a finite number`},
		{"inf covariate", []float64{1, 2, 3, 4},
			&Design{Names: []string{"a", "b"}, N: 4, P: 2, X: []float64{1, 2, 3, 5, 1, math.Inf(1), 0, 0}},
			`linear: column "b", row 3: +Inf is not a finite number`},
		// issue 14 point 17: these gave "singular" or a non-finite fit
		{"huge covariate", []float64{1, 2, 3, 4, 5},
			&Design{Names: []string{"a"}, N: 5, P: 1, X: []float64{1, 2, 1e308, 5, 3}},
			`linear: column "a", row 3: 1e+308 is too large: values must be 0 or of magnitude 1e-100 to 1e+100; rescale the column`},
		{"subnormal covariate", []float64{1, 2, 3, 4, 5},
			&Design{Names: []string{"a"}, N: 5, P: 1, X: []float64{1e-320, 2e-320, 0, 5e-320, 3e-320}},
			`linear: column "a", row 1: 1e-320 is too small: values must be 0 or of magnitude 1e-100 to 1e+100 (subnormal and near-zero values lose precision); rescale the column`},
		{"huge outcome", []float64{1, 2, -1e200, 4, 5},
			&Design{Names: []string{"a"}, N: 5, P: 1, X: []float64{1, 2, 3, 5, 3}},
			`linear: column "outcome", row 3: -1e+200 is too large`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Linear(tt.y, tt.d)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.PanicsWithValue(t, "stats: Linear: outcome has 3 rows, design is 2×1 with 2 values and 1 names", func() {
		_, _ = Linear([]float64{1, 2, 3}, &Design{Names: []string{"a"}, N: 2, P: 1, X: []float64{1, 2}})
	})
}

func FuzzLinear(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint8(2))
	f.Add([]byte{0, 0, 0, 0, 0, 0}, uint8(1))
	f.Add([]byte{255, 0, 255, 0, 1, 1, 1, 1}, uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, pp uint8) {
		p := int(pp%4) + 1
		n := len(data) / (p + 1)
		d := &Design{N: n, P: p, X: make([]float64, n*p)}
		for j := range p {
			d.Names = append(d.Names, fmt.Sprint("x", j))
		}
		y := make([]float64, n)
		for i := range n {
			y[i] = float64(data[i*(p+1)]) - 100
			for j := range p {
				d.X[i*p+j] = float64(int8(data[i*(p+1)+j+1]))
			}
		}
		res, err := Linear(y, d)
		if err != nil {
			return
		}
		for _, c := range res.Coefficients {
			if slices.Contains(res.Dropped, c.Term) {
				require.True(t, c.Coef.IsNA(), "dropped term %s: %+v", c.Term, c)
				continue
			}
			for _, v := range []Float{c.Coef, c.SE, c.T, c.P, c.Lower, c.Upper} {
				require.False(t, v.IsNA(), "term %s: %+v", c.Term, c)
			}
		}
	})
}

// linearData generates n rows of p standard normal covariates and
// y = 1 + 0.5 x1 - 0.5 x2 + ... + N(0,1), seeded.
func linearData(n, p int, seed uint64) (*Design, []float64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	d := &Design{N: n, P: p, X: make([]float64, n*p)}
	for j := range p {
		d.Names = append(d.Names, fmt.Sprint("x", j+1))
	}
	y := make([]float64, n)
	for i := range n {
		eta := 1.0
		for j := range p {
			v := rng.NormFloat64()
			d.X[i*p+j] = v
			if j%2 == 0 {
				eta += 0.5 * v
			} else {
				eta -= 0.5 * v
			}
		}
		y[i] = eta + rng.NormFloat64()
	}
	return d, y
}

// BenchmarkLinear1M fits 1,000,000 rows × 10 covariates.
func BenchmarkLinear1M(b *testing.B) {
	d, y := linearData(1_000_000, 10, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Linear(y, d); err != nil {
			b.Fatal(err)
		}
	}
}
