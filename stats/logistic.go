package stats

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/gonum/stat/distuv"
)

// LogisticOptions tunes the IRLS iterations; the zero value means R's
// glm.control() defaults.
type LogisticOptions struct {
	MaxIter int     // iterations allowed; 0 means 25
	Epsilon float64 // convergence when |dev - devold|/(|dev| + 0.1) < Epsilon; 0 means 1e-8
}

// WithDefaults returns o with zero fields set to R's defaults.
func (o LogisticOptions) WithDefaults() LogisticOptions {
	if o.MaxIter <= 0 {
		o.MaxIter = 25
	}
	if o.Epsilon <= 0 {
		o.Epsilon = 1e-8
	}
	return o
}

// LogisticCoef is one term of a logistic regression, as in R's
// summary(glm(...)) and exp(confint.default(...)).
type LogisticCoef struct {
	Term    string `json:"term"`
	Coef    Float  `json:"coef"`
	SE      Float  `json:"se"`
	Z       Float  `json:"z"`
	P       Float  `json:"p"`
	OR      Float  `json:"or"`
	ORLower Float  `json:"or_lower"` // Wald 95% confidence limits of the odds ratio
	ORUpper Float  `json:"or_upper"`
}

// LogisticResult is a binomial GLM with logit link, the numbers of R's
// glm(..., family = binomial).
type LogisticResult struct {
	Model        string         `json:"model"` // "logistic"
	N            int            `json:"n"`     // rows used
	Coefficients []LogisticCoef `json:"coefficients"`
	Deviance     Float          `json:"deviance"`
	NullDeviance Float          `json:"null_deviance"`
	AIC          Float          `json:"aic"`
	Iterations   int            `json:"iterations"`
	Dropped      []string       `json:"dropped,omitempty"`  // terms left out (no variation, or aliased): coefficient NA, as glm
	Warnings     []string       `json:"warnings,omitempty"` // what the fit left out, in words
}

// cholTol is the smallest Cholesky pivot of X'WX, relative to its diagonal
// element (1 - R² of the column on those before it), below which the design
// is taken as singular. It is looser than R's QR tolerance (1e-7 on the norm,
// 1e-14 here) because X'WX is accumulated in floating point.
const cholTol = 1e-10

// Logistic fits a logistic regression of y on an intercept and the columns
// of d by iteratively reweighted least squares exactly as R's glm.fit
// (starting values (y+0.5)/2, the same convergence test and iteration count),
// with X'WX accumulated over row blocks in parallel. As glm, a column with
// no variation or one that is a linear combination of the intercept and the
// columns before it is left out (coefficient NA, named in Dropped and
// Warnings). A constant outcome, separation (fitted probabilities of 0 or 1)
// and non-convergence are errors.
func Logistic(y []bool, d *Design, opts LogisticOptions) (*LogisticResult, error) {
	checkDesign("Logistic", len(y), d)
	opts = opts.WithDefaults()
	n, p := d.N, d.P+1
	if n == 0 {
		return nil, errors.New("logistic: no rows")
	}
	if err := checkValues("logistic", nil, d); err != nil {
		return nil, err
	}
	var n1 int
	for _, v := range y {
		if v {
			n1++
		}
	}
	if n1 == 0 || n1 == n {
		v := 0
		if n1 == n {
			v = 1
		}
		return nil, fmt.Errorf("logistic: the outcome is %d in all %d rows; nothing to model", v, n)
	}
	al := dropAliased(d, "glm", func(dd *Design) int {
		_, bad := cholesky(newIRLS(y, dd).pass(nil).a, dd.P+1)
		return bad - 1 // the intercept (0) is never aliased
	})
	full := d
	d = al.d
	p = d.P + 1
	if n <= p {
		return nil, fmt.Errorf("logistic: %d rows for %d coefficients; need more rows than coefficients", n, p)
	}
	terms := append([]string{"(Intercept)"}, d.Names...)

	ws := newIRLS(y, d)
	cur := ws.pass(nil)
	devold := cur.dev
	beta := make([]float64, p)
	var (
		conv bool
		iter int
		last *irlsPass // the pass whose weights gave beta
		next *irlsPass
	)
	for iter = 1; iter <= opts.MaxIter; iter++ {
		l, bad := cholesky(cur.a, p)
		if bad >= 0 {
			return nil, fmt.Errorf("logistic: singular design: term %q is a linear combination of the terms before it (R reports NA for it)", terms[bad])
		}
		cholSolve(l, p, cur.b, beta)
		last = cur
		next = ws.pass(beta)
		if math.Abs(next.dev-devold)/(math.Abs(next.dev)+0.1) < opts.Epsilon {
			conv = true
			break
		}
		devold = next.dev
		cur = next
	}
	if iter > opts.MaxIter {
		iter = opts.MaxIter
	}
	// R warns when a fitted probability is within 10ε of 0 or 1. Under
	// quasi-complete separation it may instead stop with probabilities a
	// few ε away and a huge standard error; so when any probability is
	// within nearTol of 0 or 1, take a few more steps and look for
	// coefficients that keep moving.
	if next.boundary > 0 || next.near > 0 {
		if named := ws.diverging(next, beta, terms); len(named) > 0 || next.boundary > 0 {
			return nil, separationError(max(next.boundary, next.near), n, named)
		}
	}
	if !conv {
		return nil, fmt.Errorf("logistic: did not converge in %d iterations (deviance %.6g)", opts.MaxIter, next.dev)
	}

	// Covariance as R's summary.glm: from the weights of the last solve.
	l, bad := cholesky(last.a, p)
	if bad >= 0 {
		return nil, fmt.Errorf("logistic: singular design: term %q is a linear combination of the terms before it (R reports NA for it)", terms[bad])
	}
	cov := cholInverse(l, p)
	mean := float64(n1) / float64(n)
	nulldev := -2 * (float64(n1)*math.Log(mean) + float64(n-n1)*math.Log(1-mean))
	q := distuv.UnitNormal.Quantile(0.975)
	res := &LogisticResult{
		Model:        "logistic",
		N:            n,
		Coefficients: make([]LogisticCoef, p),
		Deviance:     Float(next.dev),
		NullDeviance: Float(nulldev),
		AIC:          Float(next.dev + 2*float64(p)),
		Iterations:   iter,
	}
	for j := range p {
		se := math.Sqrt(cov[j*p+j])
		z := beta[j] / se
		res.Coefficients[j] = LogisticCoef{
			Term:    terms[j],
			Coef:    Float(beta[j]),
			SE:      Float(se),
			Z:       Float(z),
			P:       Float(2 * distuv.UnitNormal.CDF(-math.Abs(z))),
			OR:      Float(math.Exp(beta[j])),
			ORLower: Float(math.Exp(beta[j] - q*se)),
			ORUpper: Float(math.Exp(beta[j] + q*se)),
		}
	}
	if len(al.dropped) > 0 {
		coefs := make([]LogisticCoef, full.P+1)
		coefs[0] = res.Coefficients[0]
		for j, name := range full.Names {
			coefs[j+1] = LogisticCoef{Term: name, Coef: NA, SE: NA, Z: NA, P: NA, OR: NA, ORLower: NA, ORUpper: NA}
		}
		for k, j := range al.keep {
			coefs[j+1] = res.Coefficients[k+1]
		}
		res.Coefficients, res.Dropped, res.Warnings = coefs, al.dropped, al.warnings
	}
	return res, nil
}

// separationError reports separation of the outcome by the named terms.
func separationError(rows, n int, named []string) error {
	msg := fmt.Sprintf("logistic: separation: fitted probabilities tend to 0 or 1 in %d of %d rows (R warns \"fitted probabilities numerically 0 or 1 occurred\" or reports a huge standard error)", rows, n)
	if len(named) == 0 {
		return errors.New(msg)
	}
	for i, t := range named {
		named[i] = strconv.Quote(t)
	}
	return fmt.Errorf("%s; the outcome is perfectly predicted by %s", msg, strings.Join(named, ", "))
}

// Separation probe: probeSteps more IRLS steps from the final fit; a term
// whose coefficient moves the linear predictor by more than probeMove over
// its range is diverging. In a fit that has converged the steps are tiny.
const (
	probeSteps = 3
	probeMove  = 0.5
	nearTol    = 1e-6
)

// diverging continues IRLS from pass at for probeSteps steps and returns the
// covariate terms whose coefficients keep moving.
func (s *irls) diverging(at *irlsPass, beta []float64, terms []string) []string {
	p, P := s.p, s.d.P
	b := append([]float64(nil), beta...)
	cur := at
	for range probeSteps {
		l, bad := cholesky(cur.a, p)
		if bad >= 0 {
			break
		}
		cholSolve(l, p, cur.b, b)
		cur = s.pass(b)
	}
	var named []string
	for j := range P {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range s.d.N {
			v := s.d.X[i*P+j]
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if math.Abs(b[j+1]-beta[j+1])*(hi-lo) > probeMove {
			named = append(named, terms[j+1])
		}
	}
	return named
}

// irls holds what every pass over the rows needs.
type irls struct {
	y       []bool
	d       *Design
	p       int
	workers int
}

// irlsPass is one pass over the rows at given coefficients: the deviance,
// the upper triangle of X'WX (p×p row-major) and X'Wz for the next solve, and
// how many fitted probabilities are within 10ε of 0 or 1.
type irlsPass struct {
	dev      float64
	a, b     []float64
	boundary int // fitted probabilities within 10ε of 0 or 1 (R's warning)
	near     int // fitted probabilities within nearTol of 0 or 1
}

func newIRLS(y []bool, d *Design) *irls {
	w := runtime.GOMAXPROCS(0)
	if d.N < 1<<14 {
		w = 1
	}
	return &irls{y: y, d: d, p: d.P + 1, workers: w}
}

// Thresholds of R's C_logit_linkinv and C_logit_mu_eta.
const (
	logitThresh = 30.0
	dblEps      = 2.220446049250313e-16
)

// pass evaluates the fit at beta, or at R's starting values
// mustart = (y+0.5)/2 when beta is nil.
func (s *irls) pass(beta []float64) *irlsPass {
	parts := make([]*irlsPass, s.workers)
	var wg sync.WaitGroup
	for w := range s.workers {
		lo, hi := s.d.N*w/s.workers, s.d.N*(w+1)/s.workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[w] = s.block(beta, lo, hi)
		}()
	}
	wg.Wait()
	out := parts[0]
	for _, q := range parts[1:] {
		out.dev += q.dev
		out.boundary += q.boundary
		out.near += q.near
		for i, v := range q.a {
			out.a[i] += v
		}
		for i, v := range q.b {
			out.b[i] += v
		}
	}
	return out
}

// block is pass over rows [lo, hi).
func (s *irls) block(beta []float64, lo, hi int) *irlsPass {
	p, P := s.p, s.d.P
	r := &irlsPass{a: make([]float64, p*p), b: make([]float64, p)}
	a, b := r.a, r.b
	etaStart := math.Log(0.75 / (1 - 0.75))
	for i := lo; i < hi; i++ {
		xi := s.d.X[i*P : (i+1)*P : (i+1)*P]
		yi := 0.0
		if s.y[i] {
			yi = 1
		}
		var eta float64
		if beta == nil {
			eta = -etaStart
			if s.y[i] {
				eta = etaStart
			}
		} else {
			eta = beta[0]
			for j, v := range xi {
				eta += beta[j+1] * v
			}
		}
		var mu, mueta float64
		if eta < -logitThresh || eta > logitThresh {
			t := dblEps
			if eta > 0 {
				t = 1 / dblEps
			}
			mu, mueta = t/(1+t), dblEps
		} else {
			e := math.Exp(eta)
			mu, mueta = e/(1+e), e/((1+e)*(1+e))
		}
		if s.y[i] {
			r.dev -= 2 * math.Log(mu)
		} else {
			r.dev -= 2 * math.Log(1-mu)
		}
		if mu < nearTol || mu > 1-nearTol {
			r.near++
			if mu < 10*dblEps || mu > 1-10*dblEps {
				r.boundary++
			}
		}
		z := eta + (yi-mu)/mueta
		w := mueta * mueta / (mu * (1 - mu))
		wz := w * z
		// Intercept row of X'WX, then the covariate rows (upper triangle).
		a[0] += w
		b[0] += wz
		for j, v := range xi {
			a[j+1] += w * v
			b[j+1] += wz * v
		}
		for j, v := range xi {
			wv := w * v
			row := a[(j+1)*p+j+1 : (j+1)*p+p]
			for k, u := range xi[j:] {
				row[k] += wv * u
			}
		}
	}
	return r
}

// cholesky factors the symmetric positive definite p×p matrix whose upper
// triangle is in a (row-major) as L Lᵀ, returning L (row-major, lower). It
// returns the index of the first column whose pivot is below cholTol times
// its diagonal element (or -1 when none is).
func cholesky(a []float64, p int) ([]float64, int) {
	l := make([]float64, p*p)
	for j := range p {
		s := a[j*p+j]
		for k := range j {
			s -= l[j*p+k] * l[j*p+k]
		}
		if !(s > cholTol*a[j*p+j]) || a[j*p+j] <= 0 {
			return nil, j
		}
		ljj := math.Sqrt(s)
		l[j*p+j] = ljj
		for i := j + 1; i < p; i++ {
			s := a[j*p+i] // upper triangle: a[j][i] = a[i][j]
			for k := range j {
				s -= l[i*p+k] * l[j*p+k]
			}
			l[i*p+j] = s / ljj
		}
	}
	return l, -1
}

// cholSolve solves L Lᵀ x = b.
func cholSolve(l []float64, p int, b, x []float64) {
	for i := range p {
		s := b[i]
		for k := range i {
			s -= l[i*p+k] * x[k]
		}
		x[i] = s / l[i*p+i]
	}
	for i := p - 1; i >= 0; i-- {
		s := x[i]
		for k := i + 1; k < p; k++ {
			s -= l[k*p+i] * x[k]
		}
		x[i] = s / l[i*p+i]
	}
}

// cholInverse returns (L Lᵀ)⁻¹ as a full p×p row-major matrix.
func cholInverse(l []float64, p int) []float64 {
	inv := make([]float64, p*p)
	col := make([]float64, p)
	e := make([]float64, p)
	for j := range p {
		clear(e)
		e[j] = 1
		cholSolve(l, p, e, col)
		for i := range p {
			inv[i*p+j] = col[i]
		}
	}
	return inv
}
