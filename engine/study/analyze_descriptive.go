package study

import (
	"fmt"
	"math"
	"slices"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/report/results"
	"github.com/beaver-analytics/beaver/stats"
)

// SMDContinuous is the standardized mean difference of a continuous
// variable (Austin 2009, eq. 1): (m1 − m0) / sqrt((s1² + s0²)/2); 0 when
// both the difference and the SDs are 0, NA when only the SDs are.
func SMDContinuous(m1, s1, m0, s0 float64) float64 {
	d := m1 - m0
	den := math.Sqrt((s1*s1 + s0*s0) / 2)
	if den == 0 {
		if d == 0 {
			return 0
		}
		return math.NaN()
	}
	return d / den
}

// SMDBinary is the standardized difference of a proportion (Austin 2009,
// eq. 2): (p1 − p0) / sqrt((p1(1 − p1) + p0(1 − p0))/2).
func SMDBinary(p1, p0 float64) float64 {
	d := p1 - p0
	den := math.Sqrt((p1*(1-p1) + p0*(1-p0)) / 2)
	if den == 0 {
		if d == 0 {
			return 0
		}
		return math.NaN()
	}
	return d / den
}

// SMDCategorical is the standardized difference of a categorical variable
// with level proportions p1 and p0 (each summing to 1), as Yang & Dalton
// 2012 generalize Austin 2009: sqrt((T − C)' S⁻¹ (T − C)) over all levels
// but one, with S = (S1 + S0)/2, S_kk = p_k(1 − p_k), S_kl = −p_k p_l. It is
// non-negative and does not depend on the level left out. Levels absent
// from both groups are left out (they differ by nothing). NA when S is
// singular. It panics if the slices differ in length.
func SMDCategorical(p1, p0 []float64) float64 {
	if len(p1) != len(p0) {
		panic("study: SMDCategorical: proportions differ in length")
	}
	var keep []int
	for k := range p1 {
		if p1[k] != 0 || p0[k] != 0 {
			keep = append(keep, k)
		}
	}
	if len(keep) < 2 {
		return 0
	}
	keep = keep[1:] // the first present level is left out
	m := len(keep)
	s := make([]float64, m*m)
	d := make([]float64, m)
	for a, k := range keep {
		d[a] = p1[k] - p0[k]
		for b, l := range keep {
			if a == b {
				s[a*m+b] = (p1[k]*(1-p1[k]) + p0[k]*(1-p0[k])) / 2
			} else {
				s[a*m+b] = -(p1[k]*p1[l] + p0[k]*p0[l]) / 2
			}
		}
	}
	x, ok := solve(s, slices.Clone(d), m)
	if !ok {
		return math.NaN()
	}
	q := 0.0
	for a := range d {
		q += d[a] * x[a]
	}
	if q < 0 { // rounding of a zero difference
		q = 0
	}
	return math.Sqrt(q)
}

// solve solves a x = b (a is m×m, row-major, overwritten) by Gaussian
// elimination with partial pivoting; ok false when a is singular.
func solve(a, b []float64, m int) ([]float64, bool) {
	for c := range m {
		p := c
		for r := c + 1; r < m; r++ {
			if math.Abs(a[r*m+c]) > math.Abs(a[p*m+c]) {
				p = r
			}
		}
		if math.Abs(a[p*m+c]) < 1e-12 {
			return nil, false
		}
		if p != c {
			for j := range m {
				a[c*m+j], a[p*m+j] = a[p*m+j], a[c*m+j]
			}
			b[c], b[p] = b[p], b[c]
		}
		for r := c + 1; r < m; r++ {
			f := a[r*m+c] / a[c*m+c]
			for j := c; j < m; j++ {
				a[r*m+j] -= f * a[c*m+j]
			}
			b[r] -= f * b[c]
		}
	}
	x := make([]float64, m)
	for r := m - 1; r >= 0; r-- {
		v := b[r]
		for j := r + 1; j < m; j++ {
			v -= a[r*m+j] * x[j]
		}
		x[r] = v / a[r*m+r]
	}
	return x, true
}

// quantile7 is R's quantile(type = 7) of sorted values.
func quantile7(sorted []float64, p float64) float64 {
	h := float64(len(sorted)-1) * p
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}

func fptr(v float64) *stats.Float { f := stats.Float(v); return &f }

// descriptive computes a descriptive table of the analysis's covariates by
// its by covariate over the analysis dataset (one row per entry).
func descriptive(f *frame, a cohort.Analysis, refs map[string]string) (*results.Descriptive, []string, error) {
	var warns []string
	rows := make([]int, 0, f.n)
	var gcol *column
	if a.By != "" {
		if gcol = f.cols["cov_"+a.By]; gcol == nil {
			return nil, nil, fmt.Errorf("covariate %q is not in the analysis dataset (not compiled yet?)", a.By)
		}
	}
	for i := range f.n {
		if gcol == nil || !gcol.null(i) {
			rows = append(rows, i)
		}
	}
	if d := f.n - len(rows); d > 0 {
		warns = append(warns, fmt.Sprintf("%s entries without a value of %q were left out", countWords(int64(d)), a.By))
	}
	if len(rows) == 0 {
		return nil, warns, fmt.Errorf("%w: no entry", errSkip)
	}
	// Groups in level order; the reference is the protocol's or the first.
	gIdx := make([]int, f.n)
	var levels []string
	if gcol != nil {
		seen := map[string]bool{}
		for _, i := range rows {
			s, _ := gcol.text(i)
			if !seen[s] {
				seen[s] = true
				levels = append(levels, s)
			}
		}
		levels = stats.SortLevels(levels)
		pos := map[string]int{}
		for k, l := range levels {
			pos[l] = k
		}
		for _, i := range rows {
			s, _ := gcol.text(i)
			gIdx[i] = pos[s]
		}
	}
	ng := max(1, len(levels))
	ref := 0
	v := &results.Descriptive{By: a.By}
	if gcol != nil {
		if r := refs[a.By]; r != "" {
			ref = slices.Index(levels, r)
			if ref < 0 {
				return nil, warns, fmt.Errorf("the reference level %q of %q does not occur", r, a.By)
			}
		}
		v.Reference = &levels[ref]
	}
	sizes := make([]int64, ng)
	for _, i := range rows {
		sizes[gIdx[i]]++
	}
	for g := range ng {
		dg := results.DescGroup{}
		if gcol != nil {
			dg.Group = &levels[g]
		}
		dg.N, dg.Suppressed = suppress(sizes[g])
		v.Groups = append(v.Groups, dg)
	}
	for _, c := range a.Covariates {
		col := f.cols["cov_"+c]
		if col == nil {
			return nil, warns, fmt.Errorf("covariate %q is not in the analysis dataset (not compiled yet?)", c)
		}
		v.Variables = append(v.Variables, describeVar(c, col, rows, gIdx, ng, ref))
	}
	return v, warns, nil
}

// describeVar summarizes one covariate per group.
func describeVar(name string, col *column, rows, gIdx []int, ng, ref int) results.DescVar {
	typ := results.VarContinuous
	for _, i := range rows {
		if col.null(i) {
			continue
		}
		switch {
		case col.binary():
			typ = results.VarBinary
		case col.categorical():
			typ = results.VarCategorical
		}
		break
	}
	dv := results.DescVar{Covariate: name, Type: typ, Groups: make([]results.DescCell, ng), SMD: make([]stats.Float, ng)}
	n := make([]int64, ng)
	missing := make([]int64, ng)
	for _, i := range rows {
		if col.null(i) {
			missing[gIdx[i]]++
		} else {
			n[gIdx[i]]++
		}
	}
	hidden := make([]bool, ng) // n suppressed
	noSMD := make([]bool, ng)  // a count the SMD derives from is suppressed
	for g := range ng {
		c := &dv.Groups[g]
		var sn, sm bool
		c.N, sn = suppress(n[g])
		c.Missing, sm = suppress(missing[g])
		c.Suppressed = sn || sm
		hidden[g], noSMD[g] = sn, sn
	}
	smd := func(est func(g int) float64) {
		for g := range ng {
			dv.SMD[g] = stats.NA
			if g != ref && !noSMD[g] && !noSMD[ref] {
				dv.SMD[g] = stats.Float(est(g))
			}
		}
	}
	switch typ {
	case results.VarContinuous:
		vals := make([][]float64, ng)
		for _, i := range rows {
			if x, ok := col.num(i); ok {
				vals[gIdx[i]] = append(vals[gIdx[i]], x)
			}
		}
		mean, sd := make([]float64, ng), make([]float64, ng)
		for g := range ng {
			x := vals[g]
			mean[g], sd[g] = math.NaN(), math.NaN()
			if len(x) > 0 {
				s := 0.0
				for _, xi := range x {
					s += xi
				}
				mean[g] = s / float64(len(x))
			}
			if len(x) > 1 {
				ss := 0.0
				for _, xi := range x {
					ss += (xi - mean[g]) * (xi - mean[g])
				}
				sd[g] = math.Sqrt(ss / float64(len(x)-1))
			}
			c := &dv.Groups[g]
			if hidden[g] {
				c.Mean, c.SD, c.Median, c.Q1, c.Q3 = fptr(math.NaN()), fptr(math.NaN()), fptr(math.NaN()), fptr(math.NaN()), fptr(math.NaN())
				continue
			}
			slices.Sort(x)
			c.Mean, c.SD = fptr(mean[g]), fptr(sd[g])
			c.Median, c.Q1, c.Q3 = fptr(quantile7(x, 0.5)), fptr(quantile7(x, 0.25)), fptr(quantile7(x, 0.75))
		}
		smd(func(g int) float64 { return SMDContinuous(mean[g], sd[g], mean[ref], sd[ref]) })
	case results.VarBinary:
		yes := make([]int64, ng)
		for _, i := range rows {
			if col.boolean(i) {
				yes[gIdx[i]]++
			}
		}
		prop := make([]float64, ng)
		for g := range ng {
			c := &dv.Groups[g]
			prop[g] = float64(yes[g]) / float64(n[g])
			var s bool
			c.Count, s = suppress(yes[g])
			c.Percent = fptr(100 * prop[g])
			if s || hidden[g] {
				c.Percent = fptr(math.NaN())
				c.Suppressed = true
				noSMD[g] = true
			}
		}
		smd(func(g int) float64 { return SMDBinary(prop[g], prop[ref]) })
	case results.VarCategorical:
		var lv []string
		seen := map[string]bool{}
		for _, i := range rows {
			if s, ok := col.text(i); ok && !seen[s] {
				seen[s] = true
				lv = append(lv, s)
			}
		}
		lv = stats.SortLevels(lv)
		pos := map[string]int{}
		for k, l := range lv {
			pos[l] = k
		}
		counts := make([][]int64, ng)
		for g := range counts {
			counts[g] = make([]int64, len(lv))
		}
		for _, i := range rows {
			if s, ok := col.text(i); ok {
				counts[gIdx[i]][pos[s]]++
			}
		}
		prop := make([][]float64, ng)
		for g := range ng {
			prop[g] = make([]float64, len(lv))
			for k := range lv {
				prop[g][k] = float64(counts[g][k]) / float64(n[g])
			}
		}
		for k, l := range lv {
			dl := results.DescLevel{Level: l, Groups: make([]results.DescLevelCut, ng)}
			for g := range ng {
				cut := &dl.Groups[g]
				var s bool
				cut.Count, s = suppress(counts[g][k])
				cut.Percent = stats.Float(100 * prop[g][k])
				if s || hidden[g] {
					cut.Percent, cut.Suppressed = stats.NA, true
					noSMD[g] = true
				}
			}
			dv.Levels = append(dv.Levels, dl)
		}
		smd(func(g int) float64 { return SMDCategorical(prop[g], prop[ref]) })
	}
	return dv
}
