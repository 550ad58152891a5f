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
	slope   []float64 // p×p: column k is how the other coefficients move with coefficient k at the estimate, V[., k]/V[k, k]
	uk      float64   // the derivative of the profile log-likelihood at the last point: the score of k there
	u, imat []float64
	sub     []float64 // (p-1)×(p-1) information of the free coefficients
	su      []float64 // their score
	trial   []float64
}

// newCoxProfiler prepares the profiles of the fit hat whose inverse
// information is v (both in the engine's units).
func newCoxProfiler(eng *coxEngine, p int, hat, v []float64) *coxProfiler {
	pf := &coxProfiler{eng: eng, p: p, hat: hat, warm: make([]float64, p), slope: make([]float64, p*p), u: make([]float64, p),
		imat: make([]float64, p*p), sub: make([]float64, p*p), su: make([]float64, p), trial: make([]float64, p)}
	for k := 0; k < p; k++ {
		for j := 0; j < p; j++ {
			pf.slope[j*p+k] = v[j*p+k] / v[k*p+k]
		}
	}
	return pf
}

// at returns the profile log-likelihood of coefficient k at b: Newton-Raphson
// over the other coefficients from the last profile maximum, with
// step-halving, until the log-likelihood stops rising.
func (pf *coxProfiler) at(k int, b float64) float64 {
	p := pf.p
	beta := pf.warm
	// start from the last profile point moved along the estimate's
	// regression of the other coefficients on this one
	for j := 0; j < p; j++ {
		if j != k {
			beta[j] += (b - beta[k]) * pf.slope[j*p+k]
		}
	}
	beta[k] = b
	ll := pf.eng.eval(beta, pf.u, pf.imat)
	pf.uk = pf.u[k]
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
		copy(pf.trial[:q], pf.su[:q])
		coxCholesky(pf.sub[:q*q], q, coxCholTol)
		coxCholSolve(pf.sub[:q*q], q, pf.su[:q])
		// the Newton decrement u'I⁻¹u/2 is the gain the step promises: when
		// it is below rounding, the profile maximum is reached
		dec := 0.0
		for j, v := range pf.su[:q] {
			dec += v * pf.trial[j] / 2
		}
		if !(dec > 1e-14*math.Max(1, math.Abs(ll))) {
			break
		}
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
				pf.uk = pf.u[k]
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
// upper): the root of at(k, b) = target beyond the estimate. It brackets
// the root from the Wald limit hat ± z·se outwards, then takes Newton steps
// on the profile (its derivative is the score of k at the profile maximum),
// falling back to the Illinois method when a step leaves the bracket. It
// returns NaN when the profile does not fall to target within 1000
// standard errors (the limit is infinite, as with separation).
func (pf *coxProfiler) limit(k int, dir, se, z, target float64) float64 {
	copy(pf.warm, pf.hat)
	hat := pf.hat[k]
	in, gin := hat, math.Inf(1) // g > 0 inside the interval
	b := hat + dir*z*se
	g := pf.at(k, b) - target
	d := pf.uk
	for n := 0; g > 0; n++ {
		if n == 30 || math.Abs(b-hat) > 1000*se {
			return math.NaN()
		}
		in, gin = b, g
		next := hat + 2*(b-hat)
		if d != 0 && (-g/d)*dir > 0 { // Newton points outwards: go at least that far
			next = b - 1.5*g/d
			if math.Abs(next-hat) > 2*math.Abs(b-hat) {
				next = hat + 2*(b-hat)
			}
		}
		b = next
		g = pf.at(k, b) - target
		d = pf.uk
	}
	if math.IsInf(gin, 1) {
		copy(pf.warm, pf.hat)
		gin = pf.at(k, in) - target
		pf.at(k, b) // back to the outer point for the warm start
	}
	out, gout := b, g
	side := 0
	for iter := 0; iter < 100; iter++ {
		m := math.NaN()
		if d != 0 {
			m = b - g/d
		}
		lo, hi := math.Min(in, out), math.Max(in, out)
		if !(m > lo && m < hi) {
			m = out - gout*(out-in)/(gout-gin)
			if !(m > lo && m < hi) {
				m = (in + out) / 2
			}
		}
		gm := pf.at(k, m) - target
		dm := pf.uk
		if gm == 0 || math.Abs(m-b) <= 1e-12*math.Max(se, math.Abs(m)) || math.Abs(gm) < 1e-12 {
			return m
		}
		if gm > 0 {
			in, gin = m, gm
			if side == -1 {
				gout /= 2
			}
			side = -1
		} else {
			out, gout = m, gm
			if side == 1 {
				gin /= 2
			}
			side = 1
		}
		b, g, d = m, gm, dm
		if math.Abs(out-in) <= 1e-13*math.Max(se, math.Abs(m)) {
			return m
		}
	}
	return (in + out) / 2
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
	v := make([]float64, p*p)
	for k := 0; k < p; k++ {
		for l := 0; l < p; l++ {
			v[k*p+l] = res.Var[k*p+l] / (pr.scale[k] * pr.scale[l])
		}
	}
	pf := newCoxProfiler(eng, p, hat, v)
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
