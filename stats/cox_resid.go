package stats

import (
	"errors"
	"fmt"
)

// scoreResidSums returns the score residuals (residuals.coxph type
// "score") summed within each group (ng groups, row-major ng×p), in the
// engine's scaled coordinates, at the beta of the last riskSums call
// (timeTerms must have been called after it). With Efron ties a death's own
// term uses the mean of the Efron means and its hazard terms the Efron
// fractions, as survival's coxscore2/agscore3 do.
func (e *coxEngine) scoreResidSums(groups []int, ng int) []float64 {
	p, q, npos := e.p, e.p+1, e.npos
	mcum := make([]float64, npos*p)
	madj := make([]float64, npos*p)
	xm := make([]float64, npos*p)
	a0, a2 := e.a0, e.a2
	for _, s := range e.segs {
		for j := s.base + 1; j <= s.base+s.nt; j++ {
			S, D := e.sums[j*q:j*q+q], e.dsum[j*q:j*q+q]
			d := e.nd[j]
			for k := 0; k < p; k++ {
				if !e.efron || d == 1 {
					a0[k], a2[k] = S[k+1], 0
				} else {
					a0[k], a2[k] = S[k+1]-D[k+1], D[k+1]
				}
			}
			// Σ_k f_k^m a/den_k², from the q's scaled by tot² (timeTerms)
			q0, q1, q2, tot := e.q[0][j], e.q[1][j], e.q[2][j], e.tot[j]
			for k := 0; k < p; k++ {
				b0, b2 := a0[k]/tot, a2[k]/tot
				m := (b0*q0 + b2*q1) / tot
				mp := (b0*q1 + b2*q2) / tot
				mcum[j*p+k] = mcum[(j-1)*p+k] + m
				madj[j*p+k] = mp - m
				xm[j*p+k] = (a0[k]*e.hr[j] + a2[k]*e.hp[j]) / d
			}
		}
	}
	out := make([]float64, ng*p)
	for i := 0; i < e.n; i++ {
		hi := int(e.hi[i])
		if hi < 0 {
			continue
		}
		lo := int(e.lo[i])
		xi := e.x[i*p : i*p+p]
		g := out[groups[i]*p : groups[i]*p+p]
		c := e.hcum[hi] - e.hcum[lo]
		r := e.r[i]
		if e.event[i] {
			c += e.adj[hi]
			for k := 0; k < p; k++ {
				g[k] += xi[k] - xm[hi*p+k]
				g[k] -= r * (xi[k]*c - (mcum[hi*p+k] - mcum[lo*p+k] + madj[hi*p+k]))
			}
			continue
		}
		for k := 0; k < p; k++ {
			g[k] -= r * (xi[k]*c - (mcum[hi*p+k] - mcum[lo*p+k]))
		}
	}
	return out
}

// coxRobust returns the cluster-robust variance (coxph's fit$var with a
// cluster: crossprod of the dfbeta residuals summed by cluster) and the
// robust score test (fit$rscore). beta and naive are on the original scale.
func coxRobust(e *coxEngine, pr *coxPrep, d CoxData, beta, naive []float64) ([]float64, float64, error) {
	p := pr.p
	bs := make([]float64, p)
	for k := range bs {
		bs[k] = beta[k] / pr.scale[k]
	}
	e.riskSums(bs)
	e.timeTerms(nil, nil, nil)
	us := e.scoreResidSums(pr.cluster, pr.ncl)
	// dfbeta per cluster on the original scale: (U_s / scale) · naive
	robust := make([]float64, p*p)
	dfb := make([]float64, p)
	for c := 0; c < pr.ncl; c++ {
		uc := us[c*p : c*p+p]
		for l := 0; l < p; l++ {
			v := 0.0
			for k := 0; k < p; k++ {
				v += uc[k] / pr.scale[k] * naive[k*p+l]
			}
			dfb[l] = v
		}
		for k := 0; k < p; k++ {
			for l := 0; l < p; l++ {
				robust[k*p+l] += dfb[k] * dfb[l]
			}
		}
	}
	// robust score test at beta = 0 (scale-invariant, so in scaled units)
	clear(bs)
	e.riskSums(bs)
	e.timeTerms(nil, nil, nil)
	u0 := e.scoreResidSums(pr.cluster, pr.ncl)
	tt := make([]float64, p*p)
	u := make([]float64, p)
	for c := 0; c < pr.ncl; c++ {
		uc := u0[c*p : c*p+p]
		for k := 0; k < p; k++ {
			u[k] += uc[k]
			for l := 0; l < p; l++ {
				tt[k*p+l] += uc[k] * uc[l]
			}
		}
	}
	rscore, err := coxQuadForm(tt, p, u)
	if err != nil {
		return nil, 0, fmt.Errorf("cox: robust score test: %w", err)
	}
	if pr.ncl < 2 {
		return nil, 0, errors.New("cox: robust variance needs at least two clusters")
	}
	for k := 0; k < p; k++ {
		if !(robust[k*p+k] > 0) {
			return nil, 0, fmt.Errorf("cox: robust variance of %q is zero: too few clusters carry information on it", pr.names[k])
		}
	}
	return robust, rscore, nil
}
