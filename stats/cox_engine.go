package stats

import (
	"math"
	"runtime"
	"sort"
	"sync"
)

// coxEngine evaluates the Cox partial likelihood, its score and information
// for right-censored and counting-process data, with Breslow or Efron ties,
// in strata.
//
// Instead of walking the sorted data once per iteration keeping risk-set
// sums of x x' (survival's coxfit6/agfit4, O(n p²) sequential work), it
// uses that every sum over a risk set is a difference of two suffix sums:
// a row is at risk at the event times in (start, stop]. The event times of
// each stratum are numbered once ("positions"); each row carries the
// positions lo and hi of its start and stop, and is at risk at positions
// lo < j <= hi. Per iteration:
//
//  1. in parallel over rows: eta, r = exp(eta), and scatter (r, r x) at hi
//     (added) and at lo (subtracted) into per-part position arrays;
//  2. sequentially over positions: suffix sums give denom(t) and a(t) at
//     every event time; the Efron terms give the log-likelihood, the score
//     and, per position, the hazard weight h(t) that multiplies each
//     at-risk row's r x x' in the information matrix;
//  3. in parallel over rows: the information sum of r·c·x x' with c the
//     cumulated h over the row's positions, minus the per-time a a'/denom²
//     terms.
//
// The result is the same algebra as survival's C code, reordered; no sort of
// the rows is needed and memory is O(n + positions·p).
type coxEngine struct {
	n, p   int
	efron  bool
	x      []float64 // centered and scaled covariates, row-major n×p
	event  []bool
	hi     []int32 // position of the row's stop time (or -1: never at risk)
	lo     []int32 // position of the row's start time
	nd     []float64
	segs   []coxSeg
	isBase []bool // per position: the "before the first event time" position of a stratum
	npos   int
	parts  int
	chunk  []int // row bounds of each part: part k is rows chunk[k]..chunk[k+1]

	// per-iteration scratch
	r      []float64    // exp(eta) per row
	acc    [][]float64  // per part: 2*npos*(p+1): all rows (signed), deaths
	quad   [][]float64  // per part: p*(p+1)/2 lower triangle
	sums   []float64    // npos*(p+1): risk-set sums at each position
	dsum   []float64    // npos*(p+1): sums over the deaths at each position
	h, adj []float64    // per position: hazard weight, death-row adjustment
	hr, hp []float64    // per position: unweighted Σ_k 1/den_k and Σ_k f_k/den_k
	q      [3][]float64 // per position: Σ_k f_k^m (tot/den_k)², m = 0, 1, 2
	tot    []float64    // per position: the risk-set total of exp(eta), S[0]
	hcum   []float64    // cumulated h within each stratum
	xdead  []float64    // sum of x over deaths (constant)
	a0, a2 []float64    // scratch p
	mbuf   []float64    // scratch p
	a2s    []float64    // scratch p
	etaDed []float64    // per part: sum of eta over deaths
}

// coxSeg is one stratum's block of positions: base is the position "before
// the first event time", base+1..base+nt the event times in ascending order.
type coxSeg struct{ base, nt int }

// newCoxEngine prepares the position structure. x is already centered and
// scaled; start may be nil (right-censored). strata holds stratum numbers
// 0..nstrat-1.
func newCoxEngine(x []float64, n, p int, start, stop []float64, event []bool, strata []int, nstrat int, efron bool) *coxEngine {
	e := &coxEngine{n: n, p: p, efron: efron, x: x, event: event}
	// event times per stratum
	times := make([][]float64, nstrat)
	for i := 0; i < n; i++ {
		if event[i] {
			s := 0
			if strata != nil {
				s = strata[i]
			}
			times[s] = append(times[s], stop[i])
		}
	}
	e.segs = make([]coxSeg, nstrat)
	pos := 0
	for s := range times {
		t := times[s]
		sort.Float64s(t)
		u := t[:0]
		for k, v := range t {
			if k == 0 || v != t[k-1] {
				u = append(u, v)
			}
		}
		times[s] = u
		e.segs[s] = coxSeg{base: pos, nt: len(u)}
		pos += len(u) + 1
	}
	e.npos = pos
	e.isBase = make([]bool, pos)
	for _, s := range e.segs {
		e.isBase[s.base] = true
	}
	e.hi = make([]int32, n)
	e.lo = make([]int32, n)
	e.nd = make([]float64, pos)
	e.xdead = make([]float64, p)
	coxSplit(coxParts(n), n, func(_, from, to int) {
		for i := from; i < to; i++ {
			s := 0
			if strata != nil {
				s = strata[i]
			}
			t, base := times[s], e.segs[s].base
			hi := coxUpper(t, stop[i]) // number of event times <= stop
			lo := 0
			if start != nil {
				lo = coxUpper(t, start[i])
			}
			if lo >= hi {
				e.hi[i], e.lo[i] = -1, -1 // never at risk at an event time
				continue
			}
			e.hi[i], e.lo[i] = int32(base+hi), int32(base+lo)
		}
	})
	for i := 0; i < n; i++ {
		if event[i] && e.hi[i] >= 0 {
			e.nd[e.hi[i]]++
			for j := 0; j < p; j++ {
				e.xdead[j] += x[i*p+j]
			}
		}
	}
	parts := coxParts(n)
	for parts > 1 && 2*(p+1)*pos*parts > 2*n*p {
		parts--
	}
	e.parts = parts
	e.r = make([]float64, n)
	e.acc = make([][]float64, parts)
	e.quad = make([][]float64, parts)
	for k := range e.acc {
		e.acc[k] = make([]float64, 2*pos*(p+1))
		e.quad[k] = make([]float64, p*(p+1)/2)
	}
	e.etaDed = make([]float64, parts)
	e.sums = make([]float64, pos*(p+1))
	e.dsum = make([]float64, pos*(p+1))
	e.h = make([]float64, pos)
	e.adj = make([]float64, pos)
	e.hcum = make([]float64, pos)
	e.hr = make([]float64, pos)
	e.hp = make([]float64, pos)
	for m := range e.q {
		e.q[m] = make([]float64, pos)
	}
	e.tot = make([]float64, pos)
	e.a0 = make([]float64, p)
	e.a2 = make([]float64, p)
	e.mbuf = make([]float64, p)
	e.a2s = make([]float64, p)
	return e
}

// run calls fn for each part, in parallel when there is more than one.
func (e *coxEngine) run(fn func(part, from, to int)) { coxSplit(e.parts, e.n, fn) }

// coxParts is the number of row blocks for n rows: a deterministic function
// of the data (not of GOMAXPROCS), so that sums, and so results, are
// bit-identical on every machine.
func coxParts(n int) int {
	return max(1, min(4, n/50000))
}

// coxSplit calls fn on parts equal blocks of n rows, on up to GOMAXPROCS
// goroutines.
func coxSplit(parts, n int, fn func(part, from, to int)) {
	if parts == 1 {
		fn(0, 0, n)
		return
	}
	workers := min(runtime.GOMAXPROCS(0), parts)
	var wg sync.WaitGroup
	next := make(chan int, parts)
	for k := 0; k < parts; k++ {
		next <- k
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				fn(k, k*n/parts, (k+1)*n/parts)
			}
		}()
	}
	wg.Wait()
}

// riskSums computes r = exp(x beta) and the risk-set sums at every event
// position (sums, dsum). It returns the sum of eta over the deaths.
func (e *coxEngine) riskSums(beta []float64) float64 {
	p, q := e.p, e.p+1
	npos := e.npos
	e.run(func(part, from, to int) {
		acc := e.acc[part]
		clear(acc)
		dacc := acc[npos*q:]
		etaDead := 0.0
		for i := from; i < to; i++ {
			hi := e.hi[i]
			if hi < 0 {
				e.r[i] = 0
				continue
			}
			xi := e.x[i*p : i*p+p]
			eta := 0.0
			for j, b := range beta {
				eta += b * xi[j]
			}
			r := math.Exp(eta)
			e.r[i] = r
			ah := acc[int(hi)*q : int(hi)*q+q]
			ah[0] += r
			ah = ah[1 : len(xi)+1]
			for j, v := range xi {
				ah[j] += r * v
			}
			if lo := int(e.lo[i]); !e.isBase[lo] {
				// positions before a stratum's first event time are never
				// summed: right-censored rows skip this
				al := acc[lo*q : lo*q+q]
				al[0] -= r
				al = al[1 : len(xi)+1]
				for j, v := range xi {
					al[j] -= r * v
				}
			}
			if e.event[i] {
				etaDead += eta
				ad := dacc[int(hi)*q : int(hi)*q+q]
				ad[0] += r
				for j, v := range xi {
					ad[j+1] += r * v
				}
			}
		}
		e.etaDed[part] = etaDead
	})
	etaDead := 0.0
	copy(e.sums, e.acc[0][:npos*q])
	copy(e.dsum, e.acc[0][npos*q:])
	etaDead += e.etaDed[0]
	for k := 1; k < e.parts; k++ {
		for j, v := range e.acc[k][:npos*q] {
			e.sums[j] += v
		}
		for j, v := range e.acc[k][npos*q:] {
			e.dsum[j] += v
		}
		etaDead += e.etaDed[k]
	}
	// suffix sums within each stratum: positions base+1..base+nt
	for _, s := range e.segs {
		for j := s.base + s.nt - 1; j > s.base; j-- {
			cur, nxt := e.sums[j*q:j*q+q], e.sums[(j+1)*q:(j+1)*q+q]
			for k := range cur {
				cur[k] += nxt[k]
			}
		}
	}
	return etaDead
}

// timeTerms walks the event times: it returns the log-likelihood part
// -Σ log(denom), subtracts the Σ xbar terms from u, fills h, adj and hcum
// (weighted by wt per position when wt is not nil) and, when corr is not
// nil, adds Σ wt·a a'/denom² (full p×p) to corr.
func (e *coxEngine) timeTerms(u []float64, corr []float64, wt []float64) float64 {
	p, q := e.p, e.p+1
	ll := 0.0
	a0, a2 := e.a0, e.a2
	for _, s := range e.segs {
		e.h[s.base], e.adj[s.base], e.hcum[s.base] = 0, 0, 0
		for j := s.base + 1; j <= s.base+s.nt; j++ {
			d := e.nd[j]
			S, D := e.sums[j*q:j*q+q], e.dsum[j*q:j*q+q]
			w := 1.0
			if wt != nil {
				w = wt[j]
			}
			// The information's a a'/den² terms are kept as q0 a0 a0' +
			// q1 (a0 a2' + a2 a0') + q2 a2 a2' with a0, a2 divided by the
			// risk-set total tot = S[0] and the q's multiplied by tot²:
			// (tot/den_k)² ≤ d², where den_k² alone overflows once risk
			// scores pass 1e154 (the term then vanished and the information
			// came out far too large). survival's C code avoids it likewise,
			// forming means first.
			tot := S[0]
			var h, hp, q0, q1, q2 float64
			if !e.efron || d == 1 {
				den := tot
				ll -= d * math.Log(den)
				h, hp = d/den, d/den
				for k := 0; k < p; k++ {
					a0[k], a2[k] = S[k+1], 0
				}
				q0 = d
				q1, q2 = q0, q0
			} else {
				d0, d2 := S[0]-D[0], D[0]
				for k := 0; k < p; k++ {
					a0[k], a2[k] = S[k+1]-D[k+1], D[k+1]
				}
				nd := int(d)
				for k := 0; k < nd; k++ {
					f := float64(k+1) / d
					den := d0 + f*d2
					ll -= math.Log(den)
					inv := 1 / den
					h += inv
					hp += f * inv
					v := tot * inv
					v *= v
					q0 += v
					q1 += f * v
					q2 += f * f * v
				}
			}
			if u != nil {
				for k := 0; k < p; k++ {
					u[k] -= a0[k]*h + a2[k]*hp
				}
			}
			if corr != nil {
				m0, m2 := e.mbuf, e.a2s
				for k := 0; k < p; k++ {
					m0[k], m2[k] = a0[k]/tot, a2[k]/tot
				}
				for k := 0; k < p; k++ {
					for l := 0; l <= k; l++ {
						corr[k*p+l] += w * (q0*m0[k]*m0[l] + q1*(m0[k]*m2[l]+m2[k]*m0[l]) + q2*m2[k]*m2[l])
					}
				}
			}
			e.hr[j], e.hp[j] = h, hp
			e.q[0][j], e.q[1][j], e.q[2][j] = q0, q1, q2
			e.tot[j] = tot
			e.h[j] = w * h
			e.adj[j] = w * (hp - h)
			e.hcum[j] = e.hcum[j-1] + e.h[j]
		}
	}
	return ll
}

// quadSum returns Σ_i r_i c_i x_i x_i' (lower triangle, packed) where c_i
// is the cumulated h over the row's risk positions, adjusted at its own
// death time.
func (e *coxEngine) quadSum() []float64 {
	p := e.p
	e.run(func(part, from, to int) {
		acc := e.quad[part]
		clear(acc)
		for i := from; i < to; i++ {
			hi := e.hi[i]
			if hi < 0 {
				continue
			}
			c := e.hcum[hi] - e.hcum[e.lo[i]]
			if e.event[i] {
				c += e.adj[hi]
			}
			w := e.r[i] * c
			xi := e.x[i*p : i*p+p]
			idx := 0
			for k, vk := range xi {
				wk := w * vk
				row := acc[idx : idx+k+1]
				xl := xi[:len(row)]
				for l, v := range xl {
					row[l] += wk * v
				}
				idx += k + 1
			}
		}
	})
	out := e.quad[0]
	for k := 1; k < e.parts; k++ {
		for j, v := range e.quad[k] {
			out[j] += v
		}
	}
	return out
}

// eval computes the log partial likelihood, the score u and the
// information imat (row-major p×p, full) at beta; wt, when not nil, weights
// each event time's contribution to imat (used by cox.zph).
func (e *coxEngine) eval(beta, u, imat []float64) float64 {
	p := e.p
	ll := e.riskSums(beta)
	copy(u, e.xdead)
	clear(imat)
	ll += e.timeTerms(u, imat, nil)
	quad := e.quadSum()
	idx := 0
	for k := 0; k < p; k++ {
		for l := 0; l <= k; l++ {
			v := quad[idx] - imat[k*p+l]
			imat[k*p+l], imat[l*p+k] = v, v
			idx++
		}
	}
	return ll
}

// weightedInfo returns Σ_t wt(t)·V(t) (p×p) at the beta of the last
// riskSums call, where V(t) is the event time's information contribution.
func (e *coxEngine) weightedInfo(wt []float64) []float64 {
	p := e.p
	m := make([]float64, p*p)
	e.timeTerms(nil, m, wt)
	quad := e.quadSum()
	idx := 0
	for k := 0; k < p; k++ {
		for l := 0; l <= k; l++ {
			v := quad[idx] - m[k*p+l]
			m[k*p+l], m[l*p+k] = v, v
			idx++
		}
	}
	return m
}

// coxUpper returns the number of elements of the sorted t that are <= v.
func coxUpper(t []float64, v float64) int {
	lo, hi := 0, len(t)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t[m] <= v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
