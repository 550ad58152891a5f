package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Profile-likelihood confidence intervals of Cox coefficients (CoxOptions.CI
// = "profile"): for each coefficient, the interval of values b where the
// profile log-likelihood — the partial log-likelihood maximized over the
// other coefficients with this one held at b — is within
// qchisq(level, 1)/2 of its maximum. Unlike the Wald interval it follows the
// shape of the likelihood, as OHDSI's Cyclops reports it.

// coxProfiler evaluates the profile log-likelihood of a fitted model, in
// the engine's scaled units.
type coxProfiler struct {
	eng     *coxEngine
	p       int
	hat     []float64 // the maximum likelihood estimate
	warm    []float64 // the last profile maximum of the coefficient being profiled
	u, imat []float64
	sub     []float64 // (p-1)×(p-1) information of the free coefficients
	su      []float64 // their score
	trial   []float64
}

func newCoxProfiler(eng *coxEngine, p int, hat []float64) *coxProfiler {
	return &coxProfiler{eng: eng, p: p, hat: hat, warm: make([]float64, p), u: make([]float64, p),
		imat: make([]float64, p*p), sub: make([]float64, p*p), su: make([]float64, p), trial: make([]float64, p)}
}

// at returns the profile log-likelihood of coefficient k at b: Newton-Raphson
// over the other coefficients from the last profile maximum, with
// step-halving, until the log-likelihood stops rising.
func (pf *coxProfiler) at(k int, b float64) float64 {
	p := pf.p
	beta := pf.warm
	beta[k] = b
	ll := pf.eng.eval(beta, pf.u, pf.imat)
	if p == 1 {
		return ll
	}
	q := p - 1
	for iter := 0; iter < 100; iter++ {
		// the system of the free coefficients
		r := 0
		for i := 0; i < p; i++ {
			if i == k {
				continue
			}
			pf.su[r] = pf.u[i]
			c := 0
			for j := 0; j < p; j++ {
				if j == k {
					continue
				}
				pf.sub[r*q+c] = pf.imat[i*p+j]
				c++
			}
			r++
		}
		coxCholesky(pf.sub[:q*q], q, coxCholTol)
		coxCholSolve(pf.sub[:q*q], q, pf.su[:q])
		maxStep := 0.0
		for _, v := range pf.su[:q] {
			maxStep = math.Max(maxStep, math.Abs(v))
		}
		improved := false
		for halving := 0; halving < 30; halving++ {
			r = 0
			for i := 0; i < p; i++ {
				pf.trial[i] = beta[i]
				if i != k {
					pf.trial[i] += pf.su[r]
					r++
				}
			}
			lt := pf.eng.eval(pf.trial, pf.u, pf.imat)
			if lt >= ll {
				copy(beta, pf.trial)
				gain := lt - ll
				ll = lt
				improved = gain > 1e-13*math.Abs(ll) || maxStep > 1e-9
				break
			}
			for j := range pf.su[:q] {
				pf.su[j] /= 2
			}
			maxStep /= 2
		}
		if !improved {
			break
		}
	}
	return ll
}

// limit finds the profile limit of coefficient k on side dir (-1 lower, +1
// upper): the root of at(k, b) = target beyond the estimate, bracketed from
// the Wald limit hat ± z·se outwards, then found by the Illinois method. It
// returns NaN when the profile does not fall to target within 1000 standard
// errors (the limit is infinite, as with separation).
func (pf *coxProfiler) limit(k int, dir, se, z, target float64) float64 {
	copy(pf.warm, pf.hat)
	b0, g0 := pf.hat[k], math.Inf(1) // g > 0 inside the interval
	b1 := pf.hat[k] + dir*z*se
	g1 := pf.at(k, b1) - target
	for n := 0; g1 > 0; n++ {
		if n == 30 || math.Abs(b1-pf.hat[k]) > 1000*se {
			return math.NaN()
		}
		b0, g0 = b1, g1
		b1 = pf.hat[k] + 2*(b1-pf.hat[k])
		g1 = pf.at(k, b1) - target
	}
	if math.IsInf(g0, 1) {
		g0 = pf.at(k, b0) - target
	}
	side := 0
	for iter := 0; iter < 200; iter++ {
		m := b1 - g1*(b1-b0)/(g1-g0)
		if !(m > math.Min(b0, b1) && m < math.Max(b0, b1)) {
			m = (b0 + b1) / 2
		}
		gm := pf.at(k, m) - target
		if gm == 0 || math.Abs(b1-b0) <= 1e-13*math.Max(1, math.Abs(m)) || math.Abs(gm) < 1e-12 {
			return m
		}
		if gm > 0 { // m inside: replaces b0
			b0, g0 = m, gm
			if side == -1 {
				g1 /= 2
			}
			side = -1
		} else {
			b1, g1 = m, gm
			if side == 1 {
				g0 /= 2
			}
			side = 1
		}
	}
	return (b0 + b1) / 2
}

// coxProfileCI replaces the hazard-ratio limits of res (fitted on pr with
// eng; beta and the variance on the original scale) by profile-likelihood
// limits at level, and says in res.Warnings when a limit is infinite.
func coxProfileCI(eng *coxEngine, pr *coxPrep, res *CoxResult, level float64) {
	p := pr.p
	hat := make([]float64, p)
	for k := range hat {
		hat[k] = res.Coef[k] / pr.scale[k]
	}
	target := float64(res.Loglik) - distuv.ChiSquared{K: 1}.Quantile(level)/2
	z := distuv.UnitNormal.Quantile((1 + level) / 2)
	pf := newCoxProfiler(eng, p, hat)
	for k := 0; k < p; k++ {
		se := math.Sqrt(res.Var[k*p+k]) / pr.scale[k]
		t := &res.Coefficients[k]
		for _, dir := range []float64{-1, 1} {
			b := pf.limit(k, dir, se, z, target) * pr.scale[k]
			side, lim := "lower", &t.HRLower
			if dir > 0 {
				side, lim = "upper", &t.HRUpper
			}
			*lim = Float(math.Exp(b))
			if math.IsNaN(b) {
				*lim = NA
				res.Warnings = append(res.Warnings, fmt.Sprintf("the profile likelihood of %q does not fall to the %g%% limit on the %s side: that limit is infinite (null)", t.Term, 100*level, side))
			}
		}
	}
	res.CI = "profile"
}
