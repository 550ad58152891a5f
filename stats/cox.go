package stats

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"
)

// CoxData is the input of a Cox proportional-hazards fit: one row per
// subject (right-censored data) or per interval (counting-process data).
type CoxData struct {
	Start   []float64 // nil for right-censored data; else counting-process (start, stop]
	Stop    []float64 // event or censoring time
	Event   []bool    // true when the row ends with the event
	X       []float64 // covariates, row-major n×P
	P       int       // number of covariates (columns of X)
	Names   []string  // column names; nil gives x1, x2, ...
	Terms   []string  // term of each column (a categorical variable spans several columns); nil: one term per column
	Strata  []string  // stratum of each row; nil: one stratum
	Cluster []string  // cluster of each row; nil: no robust variance
}

// CoxOptions tunes a Cox fit; the zero value means R's defaults.
type CoxOptions struct {
	Ties      string  // "efron" (default) or "breslow"
	MaxIter   int     // Newton-Raphson iterations, default 20 (coxph.control iter.max)
	Eps       float64 // convergence on the relative change in log-likelihood, default 1e-9
	ConfLevel float64 // hazard-ratio interval level, default 0.95
	CI        string  // hazard-ratio interval: "wald" (default, summary.coxph's) or "profile" (profile likelihood)
}

// WithDefaults returns o with zero fields replaced by coxph's defaults.
func (o CoxOptions) WithDefaults() CoxOptions {
	if o.Ties == "" {
		o.Ties = "efron"
	}
	if o.MaxIter == 0 {
		o.MaxIter = 20
	}
	if o.Eps == 0 {
		o.Eps = 1e-9
	}
	if o.ConfLevel == 0 {
		o.ConfLevel = 0.95
	}
	if o.CI == "" {
		o.CI = "wald"
	}
	return o
}

// validate reports an option outside its range.
func (o CoxOptions) validate() error {
	if o.Ties != "efron" && o.Ties != "breslow" {
		return fmt.Errorf("cox: ties %q: want efron or breslow", o.Ties)
	}
	if o.MaxIter < 1 {
		return fmt.Errorf("cox: max iterations %d: want at least 1", o.MaxIter)
	}
	if !(o.Eps > 0) {
		return fmt.Errorf("cox: eps %g: want a positive number", o.Eps)
	}
	if o.CI != "wald" && o.CI != "profile" {
		return fmt.Errorf("cox: ci %q: want wald or profile", o.CI)
	}
	if !(o.ConfLevel > 0 && o.ConfLevel < 1) {
		return fmt.Errorf("cox: confidence level %g: want a number in (0, 1)", o.ConfLevel)
	}
	return nil
}

// CoxTerm is one coefficient of a Cox fit, as in summary.coxph.
type CoxTerm struct {
	Term     string `json:"term"`
	Coef     Float  `json:"coef"`
	SE       Float  `json:"se"`        // model-based, sqrt(diag(fit$naive.var)) with a cluster, else sqrt(diag(fit$var))
	RobustSE Float  `json:"robust_se"` // sqrt(diag(fit$var)) with a cluster; null without
	Z        Float  `json:"z"`         // coef / (robust_se when clustered, else se)
	P        Float  `json:"p"`
	HR       Float  `json:"hr"`
	HRLower  Float  `json:"hr_lower"`
	HRUpper  Float  `json:"hr_upper"`
}

// CoxResult is a fitted Cox model. Its JSON encoding is the output of
// `beaver stats cox`.
type CoxResult struct {
	Model           string     `json:"model"` // "cox"
	N               int        `json:"n"`     // rows (intervals) used
	Events          int        `json:"events"`
	Ties            string     `json:"ties"`
	CI              string     `json:"ci,omitempty"` // "profile" when hr_lower/hr_upper are profile-likelihood limits; absent for Wald
	Coefficients    []CoxTerm  `json:"coefficients"`
	LoglikNull      Float      `json:"loglik_null"`                 // fit$loglik[1]
	Loglik          Float      `json:"loglik"`                      // fit$loglik[2]
	LRTest          Test       `json:"lr_test"`                     // summary(fit)$logtest
	WaldTest        Test       `json:"wald_test"`                   // fit$wald.test (unrounded; summary rounds it to 2 decimals), robust variance with a cluster
	ScoreTest       Test       `json:"score_test"`                  // fit$score: the model-based score test, also with a cluster (summary's "Score (logrank) test")
	Iterations      int        `json:"iterations"`                  // fit$iter
	RobustScoreTest *Test      `json:"robust_score_test,omitempty"` // fit$rscore with a cluster (summary's "Robust" score test); absent without
	Converged       bool       `json:"converged"`
	Dropped         []string   `json:"dropped,omitempty"`  // covariate columns left out (no variation, or aliased): coefficient NA, as coxph
	Warnings        []string   `json:"warnings,omitempty"` // what the fit left out or could not do, in words
	ZPH             *ZPHResult `json:"zph,omitempty"`      // cox.zph(fit), when asked for

	Coef     []float64 `json:"-"` // coefficients
	Var      []float64 `json:"-"` // fit$var, row-major P×P: robust with a cluster, else model-based
	NaiveVar []float64 `json:"-"` // fit$naive.var (model-based) with a cluster, else nil
	Efron    bool      `json:"-"` // ties handled by Efron's method
}

// CoxRowError reports invalid data in one row (0-based index into the
// slices of CoxData), so that a caller can name the line of its input.
type CoxRowError struct {
	Row   int
	Field string // "start", "stop" or the covariate's name
	Msg   string
}

func (e *CoxRowError) Error() string { return fmt.Sprintf("cox: row %d: %s", e.Row+1, e.Msg) }

// ErrCoxNoEvents is returned when no row has an event.
var ErrCoxNoEvents = errors.New("cox: no events: a Cox model needs at least one event")

// CoxMaxLevels is the most levels a categorical term (a term spanning
// several columns of CoxData.X, one per non-reference level) may have in a
// Cox fit. Each level is a coefficient: the information matrix grows as its
// square and the fit's time with it (a 1,500-level term took 52 s and did
// not converge), and levels with few events make estimates that mean
// little. A term with more levels is better merged or used as a stratum.
const CoxMaxLevels = 100

// coxCheckLevels refuses a categorical term with more than CoxMaxLevels
// levels.
func coxCheckLevels(terms []string) error {
	cols := map[string]int{}
	var order []string
	for _, t := range terms {
		if cols[t] == 0 {
			order = append(order, t)
		}
		cols[t]++
	}
	for _, t := range order {
		if levels := cols[t] + 1; cols[t] > 1 && levels > CoxMaxLevels {
			return fmt.Errorf("cox: categorical term %q has %d levels; a Cox model takes at most %d (each level is a coefficient): merge rare levels, or make it a stratum (a separate baseline hazard per level)", t, levels, CoxMaxLevels)
		}
	}
	return nil
}

// coxPrep holds validated, recoded data shared by Cox and CoxZPH.
type coxPrep struct {
	n, p     int
	names    []string
	terms    []string
	strata   []int
	nstrat   int
	cluster  []int
	ncl      int
	events   int
	means    []float64
	scale    []float64
	x        []float64 // centered and scaled copy
	constant []bool    // per column: no variation among the rows
}

// subset returns pr restricted to the columns cols (in order).
func (pr *coxPrep) subset(cols []int) *coxPrep {
	if len(cols) == pr.p {
		return pr
	}
	q := len(cols)
	s := *pr
	s.p = q
	s.names, s.terms = make([]string, q), make([]string, q)
	s.means, s.scale, s.constant = make([]float64, q), make([]float64, q), make([]bool, q)
	for k, j := range cols {
		s.names[k], s.terms[k] = pr.names[j], pr.terms[j]
		s.means[k], s.scale[k], s.constant[k] = pr.means[j], pr.scale[j], pr.constant[j]
	}
	s.x = make([]float64, pr.n*q)
	for i := 0; i < pr.n; i++ {
		row, out := pr.x[i*pr.p:(i+1)*pr.p], s.x[i*q:(i+1)*q]
		for k, j := range cols {
			out[k] = row[j]
		}
	}
	return &s
}

// checkCoxData panics on misuse (inconsistent lengths) and returns an
// error for invalid values.
func prepCox(d CoxData) (*coxPrep, error) {
	n := len(d.Stop)
	if d.P < 0 {
		panic("stats: cox: negative P")
	}
	if len(d.Event) != n {
		panic(fmt.Sprintf("stats: cox: %d stop times but %d events", n, len(d.Event)))
	}
	if d.Start != nil && len(d.Start) != n {
		panic(fmt.Sprintf("stats: cox: %d stop times but %d start times", n, len(d.Start)))
	}
	if len(d.X) != n*d.P {
		panic(fmt.Sprintf("stats: cox: X has %d values, want n*P = %d*%d", len(d.X), n, d.P))
	}
	if d.Names != nil && len(d.Names) != d.P {
		panic(fmt.Sprintf("stats: cox: %d names for %d columns", len(d.Names), d.P))
	}
	if d.Terms != nil && len(d.Terms) != d.P {
		panic(fmt.Sprintf("stats: cox: %d terms for %d columns", len(d.Terms), d.P))
	}
	if d.Strata != nil && len(d.Strata) != n {
		panic(fmt.Sprintf("stats: cox: %d rows but %d strata", n, len(d.Strata)))
	}
	if d.Cluster != nil && len(d.Cluster) != n {
		panic(fmt.Sprintf("stats: cox: %d rows but %d clusters", n, len(d.Cluster)))
	}
	pr := &coxPrep{n: n, p: d.P}
	pr.names = d.Names
	if pr.names == nil {
		pr.names = make([]string, d.P)
		for j := range pr.names {
			pr.names[j] = fmt.Sprintf("x%d", j+1)
		}
	}
	pr.terms = d.Terms
	if pr.terms == nil {
		pr.terms = pr.names
	}
	if n == 0 {
		return nil, errors.New("cox: no rows to fit")
	}
	if d.P == 0 {
		return nil, errors.New("cox: no covariates to fit")
	}
	for i := 0; i < n; i++ {
		t := d.Stop[i]
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, &CoxRowError{i, "stop", fmt.Sprintf("time %v is not a finite number", t)}
		}
		if t < 0 {
			return nil, &CoxRowError{i, "stop", fmt.Sprintf("negative time %v", t)}
		}
		if d.Start != nil {
			s := d.Start[i]
			if math.IsNaN(s) || math.IsInf(s, 0) {
				return nil, &CoxRowError{i, "start", fmt.Sprintf("start time %v is not a finite number", s)}
			}
			if s < 0 {
				return nil, &CoxRowError{i, "start", fmt.Sprintf("negative start time %v", s)}
			}
			if t <= s {
				return nil, &CoxRowError{i, "stop", fmt.Sprintf("stop time %v is not after start time %v", t, s)}
			}
		}
		for j := 0; j < d.P; j++ {
			if msg := valueProblem(d.X[i*d.P+j]); msg != "" {
				return nil, &CoxRowError{i, pr.names[j], fmt.Sprintf("covariate %q: %s", pr.names[j], msg)}
			}
		}
		if d.Event[i] {
			pr.events++
		}
	}
	if pr.events == 0 {
		return nil, ErrCoxNoEvents
	}
	pr.strata, pr.nstrat = coxCodes(d.Strata)
	pr.cluster, pr.ncl = coxCodes(d.Cluster)

	// center and scale as coxph does (nocenter = c(-1, 0, 1): a column whose
	// values are all -1, 0 or 1 is left alone); a constant column is marked
	// (and centered to zeros) so that Cox drops it.
	p := d.P
	pr.means = make([]float64, p)
	pr.scale = make([]float64, p)
	pr.x = make([]float64, n*p)
	parts := coxParts(n)
	type colStats struct {
		sum, abs           []float64
		varies, notZeroOne []bool
	}
	cs := make([]colStats, parts)
	first := d.X[:p]
	coxSplit(parts, n, func(k, from, to int) {
		s := &cs[k]
		s.sum, s.abs = make([]float64, p), make([]float64, p)
		s.varies, s.notZeroOne = make([]bool, p), make([]bool, p)
		for i := from; i < to; i++ {
			row := d.X[i*p : i*p+p]
			for j, v := range row {
				s.sum[j] += v
				if v != first[j] {
					s.varies[j] = true
				}
				if v != 0 && v != 1 && v != -1 {
					s.notZeroOne[j] = true
				}
			}
		}
	})
	center := make([]bool, p)
	pr.constant = make([]bool, p)
	for j := 0; j < p; j++ {
		varies, sum := false, 0.0
		for k := range cs {
			varies = varies || cs[k].varies[j]
			center[j] = center[j] || cs[k].notZeroOne[j]
			sum += cs[k].sum[j]
		}
		if !varies {
			// left out of the fit, as coxph's NA (see coxAliased)
			pr.constant[j] = true
			center[j] = true
		}
		if center[j] {
			pr.means[j] = sum / float64(n)
			if pr.constant[j] {
				pr.means[j] = first[j]
			}
		}
	}
	coxSplit(parts, n, func(k, from, to int) {
		abs := cs[k].abs
		for i := from; i < to; i++ {
			row := d.X[i*p : i*p+p]
			for j, v := range row {
				abs[j] += math.Abs(v - pr.means[j])
			}
		}
	})
	for j := 0; j < p; j++ {
		pr.scale[j] = 1
		abs := 0.0
		for k := range cs {
			abs += cs[k].abs[j]
		}
		if center[j] && abs > 0 {
			pr.scale[j] = float64(n) / abs
		}
	}
	coxSplit(parts, n, func(k, from, to int) {
		for i := from; i < to; i++ {
			row, out := d.X[i*p:i*p+p], pr.x[i*p:i*p+p]
			for j, v := range row {
				out[j] = (v - pr.means[j]) * pr.scale[j]
			}
		}
	})
	return pr, nil
}

// coxCodes numbers the distinct values of s in order of first appearance.
func coxCodes(s []string) ([]int, int) {
	if s == nil {
		return nil, 1
	}
	codes := make([]int, len(s))
	seen := map[string]int{}
	for i, v := range s {
		c, ok := seen[v]
		if !ok {
			c = len(seen)
			seen[v] = c
		}
		codes[i] = c
	}
	if len(seen) == 0 {
		return codes, 1
	}
	return codes, len(seen)
}

// coxCholTol is coxph.control's toler.chol, .Machine$double.eps^0.75.
var coxCholTol = math.Pow(0x1p-52, 0.75)

// Cox fits a Cox proportional-hazards model by Newton-Raphson on the
// partial likelihood, as survival::coxph does (same start, step-halving,
// convergence test and iteration count).
//
// As coxph, a covariate column with no variation among the rows, or one that
// is a linear combination of the columns before it (aliased), is left out of
// the fit: its coefficient is NA (null in JSON), the rest is fitted, and the
// result names it in Dropped and Warnings.
func Cox(d CoxData, opts CoxOptions) (*CoxResult, error) {
	opts = opts.WithDefaults()
	if err := opts.validate(); err != nil {
		return nil, coxStage("options", err)
	}
	if opts.CI == "profile" && d.Cluster != nil {
		return nil, coxStage("options", errors.New("profile-likelihood intervals use the model-based likelihood; with a cluster the intervals are Wald intervals on the robust variance (ci \"wald\")"))
	}
	pr, err := prepCox(d)
	if err != nil {
		return nil, coxStage("data", err)
	}
	if err := coxCheckLevels(pr.terms); err != nil {
		return nil, coxStage("design", err)
	}
	keep, why, eng, err := coxAliased(pr, d, opts)
	if err != nil {
		return nil, coxStage("design", err)
	}
	fp := pr.subset(keep)
	if eng == nil {
		eng = newCoxEngine(fp.x, fp.n, fp.p, d.Start, d.Stop, d.Event, fp.strata, fp.nstrat, opts.Ties == "efron")
	}
	res, st, err := coxMaximize(eng, fp, d, opts)
	if err != nil {
		return nil, coxStage("newton-raphson", err)
	}
	if err := coxVariance(eng, fp, d, res); err != nil {
		return nil, coxStage("variance", err)
	}
	if err := coxTests(res, st, fp.p); err != nil {
		return nil, coxStage("tests", err)
	}
	coxIntervals(eng, fp, res, opts)
	if len(keep) < pr.p {
		coxExpand(res, pr, keep, why)
	}
	return res, nil
}

// coxAliased decides which columns enter the fit, as coxph's NA
// coefficients: not a column with no variation, nor one whose pivot in
// survival's Cholesky of the information at beta = 0 is zeroed (a linear
// combination of the columns before it). It returns the columns kept, the
// reason each other column was dropped and, when none was dropped for
// aliasing, the engine built for the kept columns.
func coxAliased(pr *coxPrep, d CoxData, opts CoxOptions) ([]int, map[int]string, *coxEngine, error) {
	why := map[int]string{}
	var cols []int
	for j := 0; j < pr.p; j++ {
		if pr.constant[j] {
			why[j] = fmt.Sprintf("it has no variation (all values are %v)", pr.means[j])
			continue
		}
		cols = append(cols, j)
	}
	if len(cols) == 0 {
		return nil, nil, nil, fmt.Errorf("cox: no covariate varies among the %d rows used (%s)", pr.n, coxDroppedList(pr, why))
	}
	sub := pr.subset(cols)
	q := len(cols)
	eng := newCoxEngine(sub.x, sub.n, q, d.Start, d.Stop, d.Event, sub.strata, sub.nstrat, opts.Ties == "efron")
	u, imat := make([]float64, q), make([]float64, q*q)
	if ll := eng.eval(make([]float64, q), u, imat); math.IsNaN(ll) || math.IsInf(ll, 0) {
		return nil, nil, nil, errors.New("cox: log-likelihood at beta = 0 is not finite")
	}
	if coxCholesky(imat, q, coxCholTol) == q {
		return cols, why, eng, nil
	}
	var keep []int
	for k, j := range cols {
		if imat[k*q+k] == 0 {
			why[j] = "it is a linear combination of the covariates before it (aliased)"
			continue
		}
		keep = append(keep, j)
	}
	if len(keep) == 0 {
		return nil, nil, nil, fmt.Errorf("cox: no covariate carries information among the %d rows used (%s)", pr.n, coxDroppedList(pr, why))
	}
	return keep, why, nil, nil
}

// coxDroppedList lists the dropped columns and why, for a message.
func coxDroppedList(pr *coxPrep, why map[int]string) string {
	var s []string
	for j := 0; j < pr.p; j++ {
		if w, ok := why[j]; ok {
			s = append(s, fmt.Sprintf("%q: %s", pr.names[j], w))
		}
	}
	return strings.Join(s, "; ")
}

// coxExpand puts the columns dropped before the fit back into res, as R
// reports them: coefficient NA, a zero row and column in the variance.
func coxExpand(res *CoxResult, pr *coxPrep, keep []int, why map[int]string) {
	p, q := pr.p, len(keep)
	coef := make([]float64, p)
	terms := make([]CoxTerm, p)
	for j := 0; j < p; j++ {
		coef[j] = math.NaN()
		terms[j] = CoxTerm{Term: pr.names[j], Coef: NA, SE: NA, RobustSE: NA, Z: NA, P: NA, HR: NA, HRLower: NA, HRUpper: NA}
	}
	for k, j := range keep {
		coef[j] = res.Coef[k]
		terms[j] = res.Coefficients[k]
	}
	expand := func(v []float64) []float64 {
		if v == nil {
			return nil
		}
		out := make([]float64, p*p)
		for k, j := range keep {
			for l, i := range keep {
				out[j*p+i] = v[k*q+l]
			}
		}
		return out
	}
	res.Coef, res.Coefficients = coef, terms
	res.Var, res.NaiveVar = expand(res.Var), expand(res.NaiveVar)
	for j := 0; j < p; j++ {
		if w, ok := why[j]; ok {
			res.Dropped = append(res.Dropped, pr.names[j])
			res.Warnings = append(res.Warnings, fmt.Sprintf("covariate %q was left out of the model: %s; its coefficient is NA, as R's coxph reports it", pr.names[j], w))
		}
	}
}

// coxNewton is the state of a Newton-Raphson run on the partial likelihood,
// in the scaled units of the engine.
type coxNewton struct {
	beta      []float64 // the estimate: the last good one when not converged
	u         []float64 // score at beta
	imat      []float64 // information at beta, decomposed by coxCholesky
	ll0, ll   float64   // log-likelihood at init and at beta
	sctest    float64   // score test at init
	rank0     int       // rank of the information at init
	iter      int
	converged bool
}

// coxNewtonRaphson maximizes the partial likelihood from init as survival's
// coxfit6 (right-censored) and agfit4 (counting process) do: Newton steps
// solved with survival's Cholesky, step-halving when the log-likelihood
// drops or is not finite, convergence when |1 - ll_old/ll| <= eps (agfit4
// also wants no halving in progress and a stable rank).
func coxNewtonRaphson(eng *coxEngine, p int, init []float64, maxIter int, eps float64, counting bool) (*coxNewton, error) {
	beta := append([]float64(nil), init...)
	newbeta := make([]float64, p)
	u := make([]float64, p)
	imat := make([]float64, p*p)
	step := make([]float64, p)

	ll0 := eng.eval(beta, u, imat)
	if math.IsNaN(ll0) || math.IsInf(ll0, 0) {
		return nil, errors.New("log-likelihood at the start is not finite")
	}
	copy(step, u)
	rank0 := coxCholesky(imat, p, coxCholTol)
	coxCholSolve(imat, p, step)
	sctest := 0.0
	for j := range u {
		sctest += u[j] * step[j]
	}
	for j := range beta {
		newbeta[j] = beta[j] + step[j]
	}

	best := ll0
	halving := 0
	converged := false
	iter := 0
	var newlk float64
	for iter = 1; iter <= maxIter; iter++ {
		newlk = eng.eval(newbeta, u, imat)
		rank := coxCholesky(imat, p, coxCholTol)
		notfinite := math.IsNaN(newlk) || math.IsInf(newlk, 0)
		for k := 0; k < p && !notfinite; k++ {
			notfinite = math.IsNaN(u[k]) || math.IsInf(u[k], 0)
		}
		for k := 0; k < p*p && !notfinite; k++ {
			notfinite = math.IsNaN(imat[k]) || math.IsInf(imat[k], 0)
		}
		ok := !notfinite && math.Abs(1-best/newlk) <= eps
		if counting {
			ok = ok && halving == 0 && rank == rank0
		}
		if ok {
			copy(beta, newbeta)
			converged = true
			break
		}
		if notfinite || newlk < best {
			halving++
			for j := range newbeta {
				newbeta[j] = (newbeta[j] + float64(halving)*beta[j]) / (float64(halving) + 1)
			}
			continue
		}
		halving = 0
		best = newlk
		copy(step, u)
		coxCholSolve(imat, p, step)
		for j := range beta {
			beta[j] = newbeta[j]
			newbeta[j] += step[j]
		}
	}
	if !converged {
		// as coxfit6: report the last good beta with its information
		iter = maxIter
		newlk = eng.eval(beta, u, imat)
		coxCholesky(imat, p, coxCholTol)
	}
	return &coxNewton{beta: beta, u: u, imat: imat, ll0: ll0, ll: newlk, sctest: sctest, rank0: rank0, iter: iter, converged: converged}, nil
}

// coxInfinite applies R's check for infinite coefficients (coxph.fit): the
// next Newton step u·var is still large relative to the coefficient. v is
// the inverse information, all in the same units as beta.
func coxInfinite(u, v, beta []float64, p int, eps float64, counting bool) []int {
	toler := math.Sqrt(eps)
	var out []int
	for k := 0; k < p; k++ {
		inf := 0.0
		for l := 0; l < p; l++ {
			inf += u[l] * v[l*p+k]
		}
		inf = math.Abs(inf)
		var bad bool
		if counting {
			bad = inf > toler*(1+math.Abs(beta[k]))
		} else {
			bad = inf > eps && inf > toler*math.Abs(beta[k])
		}
		if bad || math.IsNaN(inf) {
			out = append(out, k)
		}
	}
	return out
}

// CoxSeparationError reports coefficients that diverge to ±infinity: the
// partial likelihood keeps rising as they grow (monotone likelihood, e.g.
// no events, or only events, in one level of a covariate). R warns
// "Loglik converged before variable ...; coefficient may be infinite" or
// "one or more coefficients may be infinite" and returns meaningless
// estimates; Cox returns this error instead.
type CoxSeparationError struct {
	Terms      []string // the covariate columns whose coefficients diverge
	Converged  bool     // the log-likelihood converged (R's "Loglik converged before variable")
	Iterations int      // iterations allowed when it did not converge
}

func (e *CoxSeparationError) Error() string {
	q := make([]string, len(e.Terms))
	for k, t := range e.Terms {
		q[k] = strconv.Quote(t)
	}
	how := "log-likelihood converged before it"
	if !e.Converged {
		how = fmt.Sprintf("the fit did not converge in %d iterations: the log-likelihood keeps rising as it grows; R warns \"one or more coefficients may be infinite\"", e.Iterations)
	}
	return fmt.Sprintf("cox: monotone likelihood (separation): the coefficient of %s diverges to infinity (%s; e.g. all events, or none, in one level of a covariate); leave the term out, merge its levels or stratify on it",
		strings.Join(q, ", "), how)
}

// coxSeparation returns the separation error naming the columns idx of pr.
func coxSeparation(pr *coxPrep, idx []int, converged bool, iter int) error {
	e := &CoxSeparationError{Converged: converged, Iterations: iter}
	for _, k := range idx {
		e.Terms = append(e.Terms, pr.names[k])
	}
	return e
}

// coxZeroPivots returns the columns whose pivot of the decomposed imat is
// zero.
func coxZeroPivots(imat []float64, p int) []int {
	var out []int
	for k := 0; k < p; k++ {
		if imat[k*p+k] == 0 {
			out = append(out, k)
		}
	}
	return out
}

// coxProbeSteps is how many more Newton-Raphson iterations coxProbe takes
// from a fit that ran out of iterations.
const coxProbeSteps = 50

// coxProbe tells a fit that ran out of iterations because a coefficient
// diverges from one that is only slow: it continues Newton-Raphson from st
// for coxProbeSteps more iterations and returns the columns that then fail
// R's check for infinite coefficients, whose information collapses (zero
// pivot) or whose estimate is not finite.
func coxProbe(eng *coxEngine, p int, st *coxNewton, opts CoxOptions, counting bool) []int {
	more, err := coxNewtonRaphson(eng, p, st.beta, coxProbeSteps, opts.Eps, counting)
	if err != nil {
		return nil
	}
	if z := coxZeroPivots(more.imat, p); len(z) > 0 {
		return z
	}
	for k, b := range more.beta {
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return []int{k}
		}
	}
	v := append([]float64(nil), more.imat...)
	coxCholInverse(v, p)
	return coxInfinite(more.u, v, more.beta, p, opts.Eps, counting)
}

// coxMaximize is the "newton-raphson" stage: it maximizes the partial
// likelihood from beta = 0 and checks that no coefficient diverges. It
// returns the fit with beta, u and the inverse information (Var) on the
// original scale; res.Coefficients is not filled yet.
func coxMaximize(eng *coxEngine, pr *coxPrep, d CoxData, opts CoxOptions) (*CoxResult, *coxNewton, error) {
	p := pr.p
	counting := d.Start != nil
	st, err := coxNewtonRaphson(eng, p, make([]float64, p), opts.MaxIter, opts.Eps, counting)
	if err != nil {
		return nil, nil, err
	}
	if st.rank0 < p {
		return nil, nil, coxSingular(st.imat, p, pr.names)
	}
	beta, u, imat, iter, converged := st.beta, st.u, st.imat, st.iter, st.converged
	// the information was of full rank at beta = 0 (coxAliased): a pivot
	// that is zero now collapsed as a coefficient ran off to infinity
	if z := coxZeroPivots(imat, p); len(z) > 0 {
		return nil, nil, coxSeparation(pr, z, converged, opts.MaxIter)
	}
	var probe []int
	if !converged {
		probe = coxProbe(eng, p, st, opts, counting)
	}
	coxCholInverse(imat, p)
	// back to the original scale
	for k := 0; k < p; k++ {
		beta[k] *= pr.scale[k]
		u[k] /= pr.scale[k]
		for l := 0; l < p; l++ {
			imat[k*p+l] *= pr.scale[k] * pr.scale[l]
		}
	}
	for k := 0; k < p; k++ {
		if math.IsNaN(beta[k]) || math.IsInf(beta[k], 0) || math.IsNaN(imat[k*p+k]) || math.IsInf(imat[k*p+k], 0) {
			return nil, nil, coxSeparation(pr, []int{k}, converged, opts.MaxIter)
		}
	}
	if converged {
		if inf := coxInfinite(u, imat, beta, p, opts.Eps, counting); len(inf) > 0 {
			return nil, nil, coxSeparation(pr, inf, true, opts.MaxIter)
		}
	} else {
		if len(probe) > 0 {
			return nil, nil, coxSeparation(pr, probe, false, opts.MaxIter)
		}
		if !counting {
			iter = opts.MaxIter + 1 // coxfit6 counts one past iter.max (fit$iter)
		}
	}
	res := &CoxResult{
		Model:      "cox",
		N:          pr.n,
		Events:     pr.events,
		Ties:       opts.Ties,
		LoglikNull: Float(st.ll0),
		Loglik:     Float(st.ll),
		Iterations: iter,
		Converged:  converged,
		Coef:       beta,
		Var:        imat,
		Efron:      opts.Ties == "efron",
	}
	if !converged {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the fit did not converge in %d iterations (R: \"Ran out of iterations and did not converge\"); the estimates are those of the last iteration", opts.MaxIter))
	}
	return res, st, nil
}

// coxVariance is the "variance" stage: with a cluster, the robust
// (sandwich) variance replaces the model-based one, kept as NaiveVar, and
// the robust score test is computed.
func coxVariance(eng *coxEngine, pr *coxPrep, d CoxData, res *CoxResult) error {
	if pr.cluster == nil {
		return nil
	}
	robust, rscore, err := coxRobust(eng, pr, d, res.Coef, res.Var)
	if err != nil {
		return err
	}
	res.NaiveVar, res.Var = res.Var, robust
	rs := chi2Test(rscore, pr.p)
	res.RobustScoreTest = &rs
	return nil
}

// coxTests is the "tests" stage: likelihood-ratio, score and Wald tests.
func coxTests(res *CoxResult, st *coxNewton, p int) error {
	res.ScoreTest = chi2Test(st.sctest, p)
	res.LRTest = chi2Test(2*(st.ll-st.ll0), p)
	wald, err := coxQuadForm(res.Var, p, res.Coef)
	if err != nil {
		return fmt.Errorf("Wald test: %w", err)
	}
	res.WaldTest = chi2Test(wald, p)
	return nil
}

// coxIntervals is the "intervals" stage: the coefficient table of
// summary.coxph, with Wald or profile-likelihood hazard-ratio limits.
func coxIntervals(eng *coxEngine, pr *coxPrep, res *CoxResult, opts CoxOptions) {
	p := pr.p
	beta := res.Coef
	z := distuv.UnitNormal.Quantile((1 + opts.ConfLevel) / 2)
	res.Coefficients = make([]CoxTerm, p)
	for k := 0; k < p; k++ {
		t := CoxTerm{Term: pr.names[k], Coef: Float(beta[k]), RobustSE: NA}
		se := math.Sqrt(res.Var[k*p+k])
		t.SE = Float(se)
		if res.NaiveVar != nil {
			t.SE = Float(math.Sqrt(res.NaiveVar[k*p+k]))
			t.RobustSE = Float(se)
		}
		zv := beta[k] / se
		t.Z = Float(zv)
		t.P = Float(2 * distuv.UnitNormal.Survival(math.Abs(zv)))
		t.HR = Float(math.Exp(beta[k]))
		t.HRLower = Float(math.Exp(beta[k] - z*se))
		t.HRUpper = Float(math.Exp(beta[k] + z*se))
		res.Coefficients[k] = t
	}
	if opts.CI == "profile" {
		coxProfileCI(eng, pr, res, opts.ConfLevel)
	}
}

// CoxStageError is an error of one stage of a Cox fit: "options", "data"
// (checking and recoding the rows), "design" (columns dropped as aliased,
// levels), "newton-raphson" (maximization and divergence), "variance"
// (cluster-robust variance) or "tests". Its message names the stage; Unwrap
// gives the cause (a *CoxRowError, a *CoxSeparationError, ErrCoxNoEvents).
type CoxStageError struct {
	Stage string
	Err   error
}

func (e *CoxStageError) Error() string {
	return "cox: " + e.Stage + ": " + strings.TrimPrefix(e.Err.Error(), "cox: ")
}

// Unwrap returns the cause.
func (e *CoxStageError) Unwrap() error { return e.Err }

// coxStage wraps err, when not nil, as an error of the named stage.
func coxStage(stage string, err error) error {
	if err == nil {
		return nil
	}
	return &CoxStageError{Stage: stage, Err: err}
}

// chi2Test returns the chi-square test of statistic x on df degrees of
// freedom.
func chi2Test(x float64, df int) Test {
	return Test{Chi2: Float(x), DF: df, P: Float(distuv.ChiSquared{K: float64(df)}.Survival(x))}
}

// coxQuadForm returns b' V⁻¹ b, as coxph.wtest does.
func coxQuadForm(v []float64, p int, b []float64) (float64, error) {
	m := append([]float64(nil), v...)
	coxCholesky(m, p, coxCholTol)
	y := append([]float64(nil), b...)
	coxCholSolve(m, p, y)
	s := 0.0
	for k := range b {
		s += b[k] * y[k]
	}
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return 0, errors.New("variance matrix is not invertible")
	}
	return s, nil
}

// coxSingular names the columns whose Cholesky pivot was zeroed.
func coxSingular(chol []float64, p int, names []string) error {
	var bad []string
	for k := 0; k < p; k++ {
		if chol[k*p+k] == 0 {
			bad = append(bad, fmt.Sprintf("%d (%q)", k+1, names[k]))
		}
	}
	return fmt.Errorf("cox: X matrix deemed to be singular; variable %s is a linear combination of the covariates before it", strings.Join(bad, ", "))
}
