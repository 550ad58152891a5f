package stats

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/stat/distuv"
)

// LinearCoef is one term of a linear regression, as in R's summary(lm(...))
// and confint(...).
type LinearCoef struct {
	Term  string `json:"term"`
	Coef  Float  `json:"coef"`
	SE    Float  `json:"se"`
	T     Float  `json:"t"`
	P     Float  `json:"p"`
	Lower Float  `json:"lower"` // 95% confidence limits, t-based
	Upper Float  `json:"upper"`
}

// LinearResult is a least-squares fit, the numbers of R's summary(lm(...)).
type LinearResult struct {
	Model        string       `json:"model"` // "linear"
	N            int          `json:"n"`     // rows used
	Coefficients []LinearCoef `json:"coefficients"`
	RSquared     Float        `json:"r_squared"`
	AdjRSquared  Float        `json:"adj_r_squared"`
	Sigma        Float        `json:"sigma"` // residual standard error
	DFResidual   int          `json:"df_residual"`
	Dropped      []string     `json:"dropped,omitempty"`  // terms left out (no variation, or aliased): coefficient NA, as lm
	Warnings     []string     `json:"warnings,omitempty"` // what the fit left out, in words
}

// qrTol is the tolerance of R's lm (dqrdc2): a column is aliased when its
// norm orthogonal to the columns before it is below qrTol times its norm.
const qrTol = 1e-7

// Linear fits y on an intercept and the columns of d by least squares, as R's
// lm: the solution comes from a Householder QR of [1 X y], computed over row
// blocks in parallel (TSQR). As lm, a column with no variation or one that is
// a linear combination of the intercept and the columns before it is left out
// (coefficient NA, named in Dropped and Warnings); n ≤ rank is an error.
func Linear(y []float64, d *Design) (*LinearResult, error) {
	checkDesign("Linear", len(y), d)
	n, p := d.N, d.P+1
	if n == 0 {
		return nil, errors.New("linear: no rows")
	}
	if err := checkValues("linear", y, d); err != nil {
		return nil, err
	}
	al := dropAliased(d, "lm", func(dd *Design) int {
		r, norms := tsqr(dd, y)
		k := dd.P + 2
		for j := range dd.P + 1 {
			if math.Abs(r[j*k+j]) < qrTol*norms[j] || norms[j] == 0 {
				return j - 1 // the intercept (0) is never aliased
			}
		}
		return -1
	})
	full := d
	d = al.d
	p = d.P + 1
	if n <= p {
		return nil, fmt.Errorf("linear: %d rows for %d coefficients; need more rows than coefficients", n, p)
	}
	terms := append([]string{"(Intercept)"}, d.Names...)

	r, norms := tsqr(d, y)
	k := p + 1
	for j := range p {
		if math.Abs(r[j*k+j]) < qrTol*norms[j] || norms[j] == 0 {
			return nil, fmt.Errorf("linear: singular design: term %q is a linear combination of the terms before it (R reports NA for it)", terms[j])
		}
	}
	rss := r[p*k+p] * r[p*k+p]
	rinv := triInverse(r, k, p)
	beta := make([]float64, p)
	for i := range p {
		var s float64
		for j := i; j < p; j++ {
			s += rinv[i*p+j] * r[j*k+p]
		}
		beta[i] = s
	}

	var ybar float64
	for _, v := range y {
		ybar += v
	}
	ybar /= float64(n)
	var tss float64
	for _, v := range y {
		tss += (v - ybar) * (v - ybar)
	}
	df := n - p
	resvar := rss / float64(df)
	mss := math.Max(tss-rss, 0)
	// R's summary.lm warns "essentially perfect fit" below this; we refuse.
	if resvar < (ybar*ybar+mss/float64(n-1))*1e-30 {
		return nil, errors.New("linear: essentially perfect fit (residuals are zero); standard errors would be meaningless")
	}
	sigma := math.Sqrt(resvar)
	tdist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}
	q := tdist.Quantile(0.975)
	res := &LinearResult{
		Model:        "linear",
		N:            n,
		Coefficients: make([]LinearCoef, p),
		RSquared:     Float(1 - rss/tss),
		AdjRSquared:  Float(1 - (rss/tss)*float64(n-1)/float64(df)),
		Sigma:        Float(sigma),
		DFResidual:   df,
	}
	if tss == 0 {
		res.RSquared, res.AdjRSquared = NA, NA
	}
	for j := range p {
		var s float64
		for l := j; l < p; l++ {
			s += rinv[j*p+l] * rinv[j*p+l]
		}
		se := sigma * math.Sqrt(s)
		t := beta[j] / se
		res.Coefficients[j] = LinearCoef{
			Term:  terms[j],
			Coef:  Float(beta[j]),
			SE:    Float(se),
			T:     Float(t),
			P:     Float(2 * tdist.CDF(-math.Abs(t))),
			Lower: Float(beta[j] - q*se),
			Upper: Float(beta[j] + q*se),
		}
	}
	if len(al.dropped) > 0 {
		coefs := make([]LinearCoef, full.P+1)
		coefs[0] = res.Coefficients[0]
		for j, name := range full.Names {
			coefs[j+1] = LinearCoef{Term: name, Coef: NA, SE: NA, T: NA, P: NA, Lower: NA, Upper: NA}
		}
		for k, j := range al.keep {
			coefs[j+1] = res.Coefficients[k+1]
		}
		res.Coefficients, res.Dropped, res.Warnings = coefs, al.dropped, al.warnings
	}
	return res, nil
}

// checkDesign panics when the outcome and the design disagree in size.
func checkDesign(fn string, ny int, d *Design) {
	if d == nil {
		panic("stats: " + fn + ": nil design")
	}
	if ny != d.N || len(d.X) != d.N*d.P || len(d.Names) != d.P {
		panic(fmt.Sprintf("stats: %s: outcome has %d rows, design is %d×%d with %d values and %d names", fn, ny, d.N, d.P, len(d.X), len(d.Names)))
	}
}

// tsqrBlock is the number of rows a worker stacks under its running R.
const tsqrBlock = 1024

// tsqr returns the k×k upper-triangular R (row-major, k = P+2) of the QR
// decomposition of [1 X y], and the Euclidean norm of each column of [1 X].
// Each worker reduces its rows block by block into a running R; the
// workers' Rs are stacked and reduced once more.
func tsqr(d *Design, y []float64) (r, norms []float64) {
	n, p := d.N, d.P+1
	k := p + 1
	workers := runtime.GOMAXPROCS(0)
	if n < 4*tsqrBlock {
		workers = 1
	}
	rs := make([][]float64, workers)
	ss := make([][]float64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := k + tsqrBlock
			a := make([]float64, m*k) // column-major, leading dimension m
			sq := make([]float64, p)
			for b0 := lo; b0 < hi; b0 += tsqrBlock {
				b1 := min(b0+tsqrBlock, hi)
				rows := k + b1 - b0
				// Rows k.. hold the block; rows 0..k-1 keep the running R.
				for i := b0; i < b1; i++ {
					at := k + i - b0
					a[at] = 1
					xi := d.X[i*d.P : (i+1)*d.P]
					for j, v := range xi {
						a[(j+1)*m+at] = v
						sq[j+1] += v * v
					}
					a[p*m+at] = y[i]
				}
				householder(a, m, rows, k)
				for j := range k { // clear below the diagonal of R
					for i := j + 1; i < k; i++ {
						a[j*m+i] = 0
					}
				}
			}
			sq[0] = float64(hi - lo)
			r := make([]float64, k*k)
			for i := range k {
				for j := i; j < k; j++ {
					r[i*k+j] = a[j*m+i]
				}
			}
			rs[w], ss[w] = r, sq
		}()
	}
	wg.Wait()
	norms = make([]float64, p)
	for _, sq := range ss {
		for j, v := range sq {
			norms[j] += v
		}
	}
	for j := range norms {
		norms[j] = math.Sqrt(norms[j])
	}
	if workers == 1 {
		return rs[0], norms
	}
	m := workers * k
	a := make([]float64, m*k)
	for w, rw := range rs {
		for i := range k {
			for j := range k {
				a[j*m+w*k+i] = rw[i*k+j]
			}
		}
	}
	householder(a, m, m, k)
	r = make([]float64, k*k)
	for i := range k {
		for j := i; j < k; j++ {
			r[i*k+j] = a[j*m+i]
		}
	}
	return r, norms
}

// householder reduces the first rows×k part of the column-major matrix a
// (leading dimension lda) to upper-triangular form in place; the diagonal
// and above hold R, below the diagonal is scratch.
func householder(a []float64, lda, rows, k int) {
	for j := range min(k, rows) {
		col := a[j*lda+j : j*lda+rows]
		var nrm2 float64
		for _, v := range col {
			nrm2 += v * v
		}
		if nrm2 == 0 {
			continue
		}
		nrm := math.Sqrt(nrm2)
		alpha := -math.Copysign(nrm, col[0])
		col[0] -= alpha                                // v = x - alpha e1, stored in col
		vv := 2 * nrm * (nrm + math.Abs(col[0]+alpha)) // ‖v‖² = 2‖x‖(‖x‖ + |x1|)
		for c := j + 1; c < k; c++ {
			cc := a[c*lda+j : c*lda+rows]
			var s float64
			for i, v := range col {
				s += v * cc[i]
			}
			f := 2 * s / vv
			for i, v := range col {
				cc[i] -= f * v
			}
		}
		col[0] = alpha
	}
}

// triInverse returns the inverse of the leading p×p block of the
// upper-triangular row-major r (leading dimension k), as a p×p row-major
// upper-triangular matrix.
func triInverse(r []float64, k, p int) []float64 {
	inv := make([]float64, p*p)
	for j := p - 1; j >= 0; j-- {
		inv[j*p+j] = 1 / r[j*k+j]
		for i := j - 1; i >= 0; i-- {
			var s float64
			for l := i + 1; l <= j; l++ {
				s += r[i*k+l] * inv[l*p+j]
			}
			inv[i*p+j] = -s / r[i*k+i]
		}
	}
	return inv
}
