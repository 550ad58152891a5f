package stats

import (
	"fmt"
	"math"
	"sort"
)

// ZPHTerm is the proportional-hazards test of one term.
type ZPHTerm struct {
	Term string `json:"term"`
	Test
}

// ZPHResult is the test of proportional hazards of a Cox fit, as
// survival::cox.zph (survival 3.x score test, terms = TRUE).
type ZPHResult struct {
	Transform string    `json:"transform"`
	Terms     []ZPHTerm `json:"terms"`
	Global    Test      `json:"global"`
}

// CoxZPH tests the proportional-hazards assumption of fit (made by Cox on
// d) as cox.zph(fit, transform) does: a score test, per term and global, of
// adding g(t)·x to the model, with g the transformed event time ("km" by
// default, "rank", "identity" or "log"), centered on the events.
func CoxZPH(d CoxData, fit *CoxResult, transform string) (*ZPHResult, error) {
	if transform == "" {
		transform = "km"
	}
	pr, err := prepCox(d)
	if err != nil {
		return nil, err
	}
	if len(fit.Coef) != pr.p {
		panic(fmt.Sprintf("stats: cox.zph: fit has %d coefficients, data %d columns", len(fit.Coef), pr.p))
	}
	// as cox.zph, terms whose coefficient is NA (dropped by Cox) are left out
	var keep []int
	var coef []float64
	for j, b := range fit.Coef {
		if !math.IsNaN(b) {
			keep = append(keep, j)
			coef = append(coef, b)
		}
	}
	pr = pr.subset(keep)
	n, p := pr.n, pr.p
	tt, err := coxTimeTransform(d, transform)
	if err != nil {
		return nil, err
	}
	mean, nev := 0.0, 0
	for i := 0; i < n; i++ {
		if d.Event[i] {
			mean += tt[i]
			nev++
		}
	}
	mean /= float64(nev)

	e := newCoxEngine(pr.x, n, p, d.Start, d.Stop, d.Event, pr.strata, pr.nstrat, fit.Efron)
	bs := make([]float64, p)
	for k := range bs {
		bs[k] = coef[k] / pr.scale[k]
	}
	e.riskSums(bs)
	g := make([]float64, e.npos)
	xd := make([]float64, e.npos*p) // Σ x over the deaths at each position
	for i := 0; i < n; i++ {
		if d.Event[i] && e.hi[i] >= 0 {
			j := int(e.hi[i])
			g[j] = tt[i] - mean
			for k := 0; k < p; k++ {
				xd[j*p+k] += pr.x[i*p+k]
			}
		}
	}
	// u2 = Σ_t g(t) (Σ_deaths x - Σ_k xbar_k)
	e.timeTerms(nil, nil, nil)
	u2 := make([]float64, p)
	q := p + 1
	for _, s := range e.segs {
		for j := s.base + 1; j <= s.base+s.nt; j++ {
			S, D := e.sums[j*q:j*q+q], e.dsum[j*q:j*q+q]
			for k := 0; k < p; k++ {
				a0, a2 := S[k+1], 0.0
				if e.efron && e.nd[j] > 1 {
					a0, a2 = S[k+1]-D[k+1], D[k+1]
				}
				u2[k] += g[j] * (xd[j*p+k] - (a0*e.hr[j] + a2*e.hp[j]))
			}
		}
	}
	g2 := make([]float64, e.npos)
	for j, v := range g {
		g2[j] = v * v
	}
	i11 := e.weightedInfo(nil)
	i12 := e.weightedInfo(g)
	i22 := e.weightedInfo(g2)
	m := 2 * p
	imat := make([]float64, m*m)
	for k := 0; k < p; k++ {
		for l := 0; l < p; l++ {
			imat[k*m+l] = i11[k*p+l]
			imat[k*m+l+p] = i12[k*p+l]
			imat[(k+p)*m+l] = i12[k*p+l]
			imat[(k+p)*m+l+p] = i22[k*p+l]
		}
	}
	u := make([]float64, m)
	copy(u[p:], u2)

	// terms in order of first appearance
	var names []string
	cols := map[string][]int{}
	for j, t := range pr.terms {
		if _, ok := cols[t]; !ok {
			names = append(names, t)
		}
		cols[t] = append(cols[t], j)
	}
	res := &ZPHResult{Transform: transform}
	for _, t := range names {
		kk := make([]int, 0, p+len(cols[t]))
		for k := 0; k < p; k++ {
			kk = append(kk, k)
		}
		for _, j := range cols[t] {
			kk = append(kk, j+p)
		}
		x, err := coxSubQuad(imat, m, u, kk)
		if err != nil {
			return nil, fmt.Errorf("cox.zph: term %q: %w", t, err)
		}
		res.Terms = append(res.Terms, ZPHTerm{Term: t, Test: chi2Test(x, len(cols[t]))})
	}
	all := make([]int, m)
	for k := range all {
		all[k] = k
	}
	x, err := coxSubQuad(imat, m, u, all)
	if err != nil {
		return nil, fmt.Errorf("cox.zph: global test: %w", err)
	}
	res.Global = chi2Test(x, p)
	return res, nil
}

// coxSubQuad returns u[kk]' M[kk,kk]⁻¹ u[kk] for the symmetric m×m matrix M.
func coxSubQuad(mat []float64, m int, u []float64, kk []int) (float64, error) {
	k := len(kk)
	sub := make([]float64, k*k)
	b := make([]float64, k)
	for a, i := range kk {
		b[a] = u[i]
		for c, j := range kk {
			sub[a*k+c] = mat[i*m+j]
		}
	}
	return coxQuadForm(sub, k, b)
}

// coxTimeTransform returns the transformed stop time of every row, as
// cox.zph: "km" is 1 - S(t-) of the Kaplan-Meier of all rows (strata
// ignored), "rank" the average rank, "identity" t and "log" log(t).
func coxTimeTransform(d CoxData, transform string) ([]float64, error) {
	n := len(d.Stop)
	out := make([]float64, n)
	switch transform {
	case "identity":
		copy(out, d.Stop)
	case "log":
		for i, t := range d.Stop {
			if !(t > 0) {
				return nil, fmt.Errorf("cox.zph: log transform of time %v in row %d", t, i+1)
			}
			out[i] = math.Log(t)
		}
	case "rank":
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return d.Stop[idx[a]] < d.Stop[idx[b]] })
		for a := 0; a < n; {
			b := a
			for b < n && d.Stop[idx[b]] == d.Stop[idx[a]] {
				b++
			}
			r := float64(a+b+1) / 2 // average of ranks a+1..b
			for k := a; k < b; k++ {
				out[idx[k]] = r
			}
			a = b
		}
	case "km":
		stops := append([]float64(nil), d.Stop...)
		sort.Float64s(stops)
		var starts []float64
		if d.Start != nil {
			starts = append([]float64(nil), d.Start...)
			sort.Float64s(starts)
		}
		// deaths per distinct time
		deaths := map[float64]float64{}
		for i, t := range d.Stop {
			if d.Event[i] {
				deaths[t]++
			}
		}
		var ut []float64
		for k, t := range stops {
			if k == 0 || t != stops[k-1] {
				ut = append(ut, t)
			}
		}
		// surv[k] = S just after ut[k]
		surv := make([]float64, len(ut))
		s := 1.0
		for k, t := range ut {
			atRisk := float64(n - sort.SearchFloat64s(stops, t)) // stop >= t
			if starts != nil {
				// minus start >= t
				atRisk -= float64(n - sort.SearchFloat64s(starts, t))
			}
			if dk := deaths[t]; dk > 0 && atRisk > 0 {
				s *= 1 - dk/atRisk
			}
			surv[k] = s
		}
		for i, t := range d.Stop {
			k := sort.SearchFloat64s(ut, t) // number of distinct times < t
			if k == 0 {
				out[i] = 0
			} else {
				out[i] = 1 - surv[k-1]
			}
		}
	default:
		return nil, fmt.Errorf("cox.zph: unknown transform %q: want km, rank, identity or log", transform)
	}
	return out, nil
}
