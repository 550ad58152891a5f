package suppress

import (
	"math"

	"github.com/beaver-analytics/beaver/report/results"
	"github.com/beaver-analytics/beaver/stats"
)

// Document applies primary and complementary suppression with threshold k
// to a results document, in place, before it is shown or exported (the
// web API, the reports). The engine already hid counts below the
// document's MinCount when it computed it; the threshold used is the
// larger of the two, and becomes the document's MinCount. A hidden count
// is null and its object is marked suppressed:
//   - attrition: the persons and the entries after each criterion, as a
//     Sequence (no shown difference of two lines is a small count);
//   - Kaplan-Meier: groups' n and events; the steps are kept only where at
//     least k events happened since the last kept step, and while at least
//     k persons are at risk (KMSteps);
//   - Cox, logistic, linear: n and events (and for logistic the entries
//     without the outcome, n − events);
//   - rates: a group's events, and with them every figure that gives them
//     back with the shown person-time (the crude and adjusted rates and
//     their intervals, the rate ratio and its interval); when the
//     reference group's events are hidden, every rate ratio goes too;
//   - descriptive tables: a group's n (and then its whole column); a yes/no
//     count when it or its complement is small (Binary); the levels of a
//     categorical covariate as a Partition of the group's n; a small
//     number of missing values, with the n and percentages of that
//     covariate in that group (n = group size − missing); the standardized
//     differences that derive from a hidden count;
//   - stratified analyses: each class's n, and the class's result by the
//     same rules.
func Document(doc *results.Document, k int64) {
	if int64(doc.MinCount) > k {
		k = int64(doc.MinCount)
	}
	doc.MinCount = int(k)
	attrition(doc.Attrition, k)
	for _, a := range doc.Analyses {
		if a != nil {
			result(a.Result, k)
		}
	}
}

// value returns a count's value, -1 for a hidden one.
func value(c results.Count) int64 {
	if c == nil {
		return -1
	}
	return *c
}

// hideSmall nulls a count below k and reports whether it is hidden.
func hideSmall(c *results.Count, k int64) bool {
	if *c == nil {
		return true
	}
	if Small(**c, k) {
		*c = nil
		return true
	}
	return false
}

func attrition(lines []results.AttritionLine, k int64) {
	persons := make([]int64, len(lines))
	entries := make([]int64, len(lines))
	for i, l := range lines {
		persons[i], entries[i] = value(l.Persons), value(l.Entries)
	}
	hp, he := Sequence(persons, k), Sequence(entries, k)
	for i := range lines {
		if hp[i] {
			lines[i].Persons = nil
		}
		if he[i] {
			lines[i].Entries = nil
		}
		if hp[i] || he[i] {
			lines[i].Suppressed = true
		}
	}
}

func result(r results.Result, k int64) {
	switch x := r.(type) {
	case results.Attrition:
		attrition(x, k)
	case *results.Cox:
		if x == nil {
			return
		}
		a, b := hideSmall(&x.N, k), hideSmall(&x.Events, k)
		x.Suppressed = x.Suppressed || a || b
	case *results.Logistic:
		if x == nil {
			return
		}
		n, e := value(x.N), value(x.Events)
		a := hideSmall(&x.N, k)
		if e >= 0 && n >= 0 && Binary(e, n, k) {
			x.Events = nil
		}
		x.Suppressed = x.Suppressed || a || x.Events == nil
	case *results.Linear:
		if x == nil {
			return
		}
		x.Suppressed = hideSmall(&x.N, k) || x.Suppressed
	case *results.KaplanMeier:
		if x != nil {
			kaplanMeier(x, k)
		}
	case *results.Rates:
		if x != nil {
			rates(x, k)
		}
	case *results.Descriptive:
		if x != nil {
			descriptive(x, k)
		}
	case *results.Stratified:
		if x == nil {
			return
		}
		for i := range x.Classes {
			c := &x.Classes[i]
			if hideSmall(&c.N, k) {
				c.Suppressed = true
			}
			result(c.Result, k)
		}
	}
}

func kaplanMeier(km *results.KaplanMeier, k int64) {
	for g := range km.Groups {
		gr := &km.Groups[g]
		a, b := hideSmall(&gr.N, k), hideSmall(&gr.Events, k)
		gr.Suppressed = gr.Suppressed || a || b
		risk := make([]int64, len(gr.Steps))
		surv := make([]float64, len(gr.Steps))
		for i, s := range gr.Steps {
			risk[i], surv[i] = value(s.NRisk), float64(s.Surv)
		}
		keep := KMSteps(risk, surv, k)
		kept := gr.Steps[:0]
		for i, s := range gr.Steps {
			if keep[i] {
				kept = append(kept, s)
			}
		}
		gr.Steps = kept
	}
}

var na = stats.Float(math.NaN())

func rates(r *results.Rates, k int64) {
	refHidden := false
	for i := range r.Groups {
		g := &r.Groups[i]
		if g.GroupRate == nil {
			continue
		}
		isRef := math.IsNaN(float64(g.RateRatio))
		if !hideSmall(&g.Events, k) {
			continue
		}
		g.Suppressed = true
		g.Crude, g.CrudeLower, g.CrudeUpper = na, na, na
		g.Adjusted, g.AdjustedLower, g.AdjustedUpper = na, na, na
		g.RateRatio, g.RRLower, g.RRUpper = na, na, na
		// The embedded stats value's events are not encoded (the document's
		// Events above shadows them); a renderer reading them would show NaN.
		g.GroupRate.Events = math.NaN()
		if isRef {
			refHidden = true
		}
	}
	if refHidden {
		for i := range r.Groups {
			if g := &r.Groups[i]; g.GroupRate != nil {
				g.RateRatio, g.RRLower, g.RRUpper = na, na, na
			}
		}
	}
}

// hideCell nulls every figure of a descriptive cell.
func hideCell(c *results.DescCell) {
	c.N, c.Missing, c.Count = nil, nil, nil
	for _, f := range []**stats.Float{&c.Percent, &c.Mean, &c.SD, &c.Median, &c.Q1, &c.Q3} {
		if *f != nil {
			v := na
			*f = &v
		}
	}
	c.Suppressed = true
}

func descriptive(d *results.Descriptive, k int64) {
	groupHidden := make([]bool, len(d.Groups))
	for g := range d.Groups {
		if hideSmall(&d.Groups[g].N, k) {
			d.Groups[g].Suppressed = true
			groupHidden[g] = true
		}
	}
	ref := -1
	for g := range d.Groups {
		if d.Reference != nil && d.Groups[g].Group != nil && *d.Groups[g].Group == *d.Reference {
			ref = g
		}
	}
	for v := range d.Variables {
		dv := &d.Variables[v]
		touched := make([]bool, len(dv.Groups))
		for g := range dv.Groups {
			c := &dv.Groups[g]
			if g < len(groupHidden) && groupHidden[g] {
				hideCell(c)
				touched[g] = true
				continue
			}
			// A few missing values: n is the group's size minus them, and
			// a percentage with its count gives n.
			if m := value(c.Missing); m > 0 && m < k {
				c.Missing, c.N = nil, nil
				if c.Percent != nil {
					x := na
					c.Percent = &x
				}
				c.Suppressed, touched[g] = true, true
			}
			if c.Count != nil {
				n := value(c.N)
				if n < 0 {
					n = value(c.Count) + k // unknown n: the count alone decides
				}
				if Binary(*c.Count, n, k) {
					c.Count = nil
					if c.Percent != nil {
						x := na
						c.Percent = &x
					}
					c.Suppressed, touched[g] = true, true
				}
			}
		}
		// Levels of a categorical covariate: a partition of each group's n.
		for _, g := range groupsOf(dv) {
			cells := make([]int64, len(dv.Levels))
			for l := range dv.Levels {
				cells[l] = value(dv.Levels[l].Groups[g].Count)
			}
			totalShown := g < len(dv.Groups) && dv.Groups[g].N != nil
			hide := Partition(cells, k, totalShown)
			for l := range dv.Levels {
				cut := &dv.Levels[l].Groups[g]
				if hide[l] || (g < len(groupHidden) && groupHidden[g]) {
					cut.Count, cut.Percent, cut.Suppressed = nil, na, true
					touched[g] = true
				}
			}
		}
		// Standardized differences against the reference derive from the
		// counts: none where a count they use is hidden.
		refTouched := ref >= 0 && ref < len(touched) && touched[ref]
		for g := range dv.SMD {
			if refTouched || (g < len(touched) && touched[g]) {
				dv.SMD[g] = na
			}
		}
	}
}

// groupsOf returns the group indexes of a categorical covariate's levels.
func groupsOf(dv *results.DescVar) []int {
	if len(dv.Levels) == 0 {
		return nil
	}
	out := make([]int, len(dv.Levels[0].Groups))
	for i := range out {
		out[i] = i
	}
	return out
}
