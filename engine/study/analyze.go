package study

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/report/results"
	"github.com/beaver-analytics/beaver/stats"
)

// MinCount is the smallest count shown in a results document: counts of
// persons, entries or events below it are replaced by null with
// "suppressed": true, so that users see aggregates only.
const MinCount = 5

// suppress returns n, or nil and true when n is below MinCount.
func suppress(n int64) (results.Count, bool) {
	if n < MinCount {
		return nil, true
	}
	return &n, false
}

// partitionTables returns the tables of the steps base_p0 … base_p<N-1>.
func partitionTables(plan *cohort.Plan, base string) ([]string, error) {
	out := make([]string, plan.Partitions)
	for i := range out {
		s := plan.Step(fmt.Sprintf("%s_p%d", base, i))
		if s == nil {
			return nil, fmt.Errorf("the plan has no step %s_p%d", base, i)
		}
		out[i] = s.Table
	}
	return out, nil
}

// attrition sums the attrition tables of all partitions line by line;
// labels are the plan's (cohort.Plan.Attrition), whose keys it copies to
// the lines whose text they match.
func attrition(f *frame, labels []cohort.Label) []results.AttritionLine {
	type acc struct {
		label            string
		persons, entries int64
	}
	byLine := map[int]*acc{}
	for i := range f.n {
		l, _ := f.cols["line"].num(i)
		a := byLine[int(l)]
		if a == nil {
			label, _ := f.cols["label"].text(i)
			a = &acc{label: label}
			byLine[int(l)] = a
		}
		p, _ := f.cols["persons"].num(i)
		e, _ := f.cols["entries"].num(i)
		a.persons += int64(p)
		a.entries += int64(e)
	}
	lines := make([]int, 0, len(byLine))
	for l := range byLine {
		lines = append(lines, l)
	}
	slices.Sort(lines)
	out := make([]results.AttritionLine, len(lines))
	for k, l := range lines {
		a := byLine[l]
		p, sp := suppress(a.persons)
		e, se := suppress(a.entries)
		out[k] = results.AttritionLine{Line: l, Label: a.label, Persons: p, Entries: e, Suppressed: sp || se}
		if l >= 0 && l < len(labels) && labels[l].Text == a.label {
			out[k].Key, out[k].Args = labels[l].Key, labels[l].Args
		}
	}
	return out
}

// model is a design matrix built from a frame's covariate columns.
type model struct {
	rows  []int // rows of the frame used (complete cases)
	x     []float64
	p     int
	names []string
	terms []string
}

// design codes the covariates of the rows kept (rows with a NULL in any
// covariate are dropped; the number dropped is returned): numbers and
// booleans as one column named like the covariate, text as indicators
// "name=level" for every level but the reference (the protocol's, else the
// first in stats.SortLevels order).
func design(f *frame, keep []int, covs []string, prefix string, refs map[string]string) (*model, int, error) {
	m := &model{}
	for _, i := range keep {
		ok := true
		for _, c := range covs {
			if f.cols[prefix+c].null(i) {
				ok = false
				break
			}
		}
		if ok {
			m.rows = append(m.rows, i)
		}
	}
	dropped := len(keep) - len(m.rows)
	type col struct {
		name, term string
		val        func(i int) float64
	}
	var cols []col
	for _, c := range covs {
		data, found := f.cols[prefix+c]
		if !found {
			return nil, dropped, fmt.Errorf("covariate %q is not in the analysis dataset (not compiled yet?)", c)
		}
		if !data.categorical() {
			cols = append(cols, col{c, c, func(i int) float64 { v, _ := data.num(i); return v }})
			continue
		}
		seen := map[string]bool{}
		var levels []string
		for _, i := range m.rows {
			s, _ := data.text(i)
			if !seen[s] {
				seen[s] = true
				levels = append(levels, s)
			}
		}
		levels = stats.SortLevels(levels)
		ref := levels[0]
		if r := refs[c]; r != "" {
			if !seen[r] {
				return nil, dropped, fmt.Errorf("covariate %q: the reference level %q does not occur among the rows analysed", c, r)
			}
			ref = r
		}
		if len(levels) < 2 {
			return nil, dropped, fmt.Errorf("covariate %q has only one level (%q) among the rows analysed", c, ref)
		}
		for _, l := range levels {
			if l == ref {
				continue
			}
			cols = append(cols, col{c + "=" + l, c, func(i int) float64 {
				if s, _ := data.text(i); s == l {
					return 1
				}
				return 0
			}})
		}
	}
	m.p = len(cols)
	m.x = make([]float64, len(m.rows)*m.p)
	for k, i := range m.rows {
		for j, c := range cols {
			m.x[k*m.p+j] = c.val(i)
		}
	}
	for _, c := range cols {
		m.names = append(m.names, c.name)
		m.terms = append(m.terms, c.term)
	}
	return m, dropped, nil
}

// errSkip marks an analysis that cannot be computed from the data at hand
// (no rows, a covariate with one level): it is reported, not fatal.
var errSkip = errors.New("skipped")

// coxBaseline fits a Cox model on the analysis dataset: one row per entry
// with follow-up, time out_<o>_time, event out_<o>_event.
func coxBaseline(f *frame, a cohort.Analysis, refs map[string]string) (*stats.CoxResult, []string, error) {
	tcol, ecol := f.cols["out_"+a.Outcome+"_time"], f.cols["out_"+a.Outcome+"_event"]
	if tcol == nil || ecol == nil {
		return nil, nil, fmt.Errorf("outcome %q is not in the analysis dataset", a.Outcome)
	}
	var keep []int
	for i := range f.n {
		if !tcol.null(i) && !ecol.null(i) {
			keep = append(keep, i)
		}
	}
	return coxFit(f, keep, a, refs, "cov_", func(i int) (float64, float64, bool) {
		t, _ := tcol.num(i)
		e := ecol.boolean(i)
		return 0, t, e
	}, false)
}

// coxCountingProcess fits a Cox model on an analysis's counting-process
// dataset, intervals (start, stop].
func coxCountingProcess(f *frame, a cohort.Analysis, refs map[string]string) (*stats.CoxResult, []string, error) {
	scol, tcol, ecol := f.cols["start"], f.cols["stop"], f.cols["event"]
	var keep []int
	for i := range f.n {
		if !tcol.null(i) {
			keep = append(keep, i)
		}
	}
	return coxFit(f, keep, a, refs, "cov_", func(i int) (float64, float64, bool) {
		s, _ := scol.num(i)
		t, _ := tcol.num(i)
		e := ecol.boolean(i)
		return s, t, e
	}, true)
}

func coxFit(f *frame, keep []int, a cohort.Analysis, refs map[string]string, prefix string,
	row func(i int) (start, stop float64, event bool), cp bool) (*stats.CoxResult, []string, error) {
	var warns []string
	if len(keep) == 0 {
		return nil, nil, fmt.Errorf("%w: no entry has follow-up", errSkip)
	}
	m, dropped, err := design(f, keep, a.Covariates, prefix, refs)
	if err != nil {
		return nil, nil, err
	}
	if dropped > 0 {
		warns = append(warns, fmt.Sprintf("%s rows with a missing covariate were left out (complete cases)", countWords(int64(dropped))))
	}
	d := stats.CoxData{Stop: make([]float64, len(m.rows)), Event: make([]bool, len(m.rows)), X: m.x, P: m.p, Names: m.names, Terms: m.terms}
	if cp {
		d.Start = make([]float64, len(m.rows))
	}
	for k, i := range m.rows {
		s, t, e := row(i)
		if cp {
			d.Start[k] = s
		}
		d.Stop[k], d.Event[k] = t, e
	}
	if len(a.Strata) > 0 {
		d.Strata = make([]string, len(m.rows))
		for k, i := range m.rows {
			var key string
			for _, s := range a.Strata {
				v, _ := f.cols[prefix+s].text(i)
				key += s + "=" + v + ";"
			}
			d.Strata[k] = key
		}
	}
	res, err := stats.Cox(d, stats.CoxOptions{Ties: a.Ties, CI: a.CI})
	if err != nil {
		return nil, warns, err
	}
	// Terms left out as R leaves them (no variation, aliased), and other
	// notes of the fit, become the analysis's warnings.
	warns = append(warns, res.Warnings...)
	if !res.Converged {
		// Separation (e.g. no event in one exposure group): the likelihood
		// keeps rising as a coefficient runs off to infinity. Its estimate
		// and interval mean nothing, so the analysis fails.
		var suspects []string
		for _, c := range res.Coefficients {
			if math.Abs(float64(c.Coef)) > 10 || c.SE.IsNA() || float64(c.SE) > 100 {
				suspects = append(suspects, c.Term)
			}
		}
		msg := fmt.Sprintf("the Cox fit did not converge in %d iterations", res.Iterations)
		if len(suspects) > 0 {
			msg += fmt.Sprintf(": the estimate of %s runs off to infinity (separation: e.g. no events, or only events, in one level); check the events per level or leave the term out",
				strings.Join(suspects, ", "))
		}
		return nil, warns, errors.New(msg)
	}
	return res, warns, nil
}

// coxView suppresses the small counts of a Cox result.
func coxView(r *stats.CoxResult) *results.Cox {
	if r == nil {
		return nil
	}
	n, sn := suppress(int64(r.N))
	e, se := suppress(int64(r.Events))
	return &results.Cox{CoxResult: r, N: n, Events: e, Suppressed: sn || se}
}

// countWords writes a count for a message, hiding small ones.
func countWords(n int64) string {
	if n < MinCount {
		return "fewer than " + strconv.Itoa(MinCount)
	}
	return strconv.FormatInt(n, 10)
}

// kaplanMeier fits the curves of an outcome by a covariate.
func kaplanMeier(f *frame, a cohort.Analysis) (*results.KaplanMeier, error) {
	tcol, ecol := f.cols["out_"+a.Outcome+"_time"], f.cols["out_"+a.Outcome+"_event"]
	if tcol == nil || ecol == nil {
		return nil, fmt.Errorf("outcome %q is not in the analysis dataset", a.Outcome)
	}
	var by *column
	if a.By != "" {
		by = f.cols["cov_"+a.By]
		if by == nil {
			return nil, fmt.Errorf("covariate %q is not in the analysis dataset", a.By)
		}
	}
	var times []float64
	var events []bool
	var groups []string
	for i := range f.n {
		if tcol.null(i) || ecol.null(i) {
			continue
		}
		g, ok := groupAt(by, i)
		if !ok {
			continue
		}
		t, _ := tcol.num(i)
		e := ecol.boolean(i)
		times, events = append(times, t), append(events, e)
		if by != nil {
			groups = append(groups, g)
		}
	}
	if len(times) == 0 {
		return nil, fmt.Errorf("%w: no entry has follow-up", errSkip)
	}
	res, err := stats.KaplanMeier(times, events, groups, stats.KMOptions{})
	if err != nil {
		return nil, err
	}
	v := &results.KaplanMeier{ConfType: res.ConfType, ConfLevel: res.ConfLevel}
	for _, c := range res.Groups {
		n, sn := suppress(int64(c.N))
		e, se := suppress(int64(c.Events))
		g := results.KMGroup{Group: c.Group, N: n, Events: e, Suppressed: sn || se,
			Median: c.Median, MedianLower: c.MedianLower, MedianUpper: c.MedianUpper}
		for _, s := range c.Steps {
			r, sr := suppress(int64(s.NRisk))
			g.Steps = append(g.Steps, results.KMStep{Time: s.Time, NRisk: r, Surv: s.Surv, Lower: s.Lower, Upper: s.Upper, Suppressed: sr})
		}
		v.Groups = append(v.Groups, g)
	}
	return v, nil
}

// DaysPerYear converts follow-up days to person-years in rates.
const DaysPerYear = 365.25

// crudeRates computes the crude rate of an outcome's first occurrence per
// group: events over the follow-up time up to the event or the end of
// follow-up, in person-years (days ÷ DaysPerYear), and each group's rate
// ratio against the reference group: the covariate's reference in the
// protocol (refs), as Cox takes it, else the first group in
// stats.SortLevels order.
func crudeRates(f *frame, a cohort.Analysis, refs map[string]string) (*results.Rates, error) {
	tcol, ecol := f.cols["out_"+a.Outcome+"_time"], f.cols["out_"+a.Outcome+"_event"]
	if tcol == nil || ecol == nil {
		return nil, fmt.Errorf("outcome %q is not in the analysis dataset", a.Outcome)
	}
	var by *column
	if a.By != "" {
		if by = f.cols["cov_"+a.By]; by == nil {
			return nil, fmt.Errorf("covariate %q is not in the analysis dataset (not compiled yet?)", a.By)
		}
	}
	var events, pt []float64
	var groups []string
	for i := range f.n {
		if tcol.null(i) || ecol.null(i) {
			continue
		}
		var g string
		if by != nil {
			var ok bool
			if g, ok = by.text(i); !ok {
				continue
			}
			groups = append(groups, g)
		}
		t, _ := tcol.num(i)
		e, _ := ecol.num(i)
		events, pt = append(events, e), append(pt, t/DaysPerYear)
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("%w: no entry has follow-up", errSkip)
	}
	res, err := stats.Rates(events, pt, groups, nil, nil, stats.RateOptions{Per: a.Per})
	if err != nil {
		return nil, err
	}
	if by != nil {
		if err := rateRatiosAgainst(res, refs[a.By], a.By); err != nil {
			return nil, err
		}
	}
	v := &results.Rates{Per: res.Per, ConfLevel: res.ConfLevel, TimeUnit: "person-years"}
	if by != nil {
		v.Reference = res.Groups[0].Group
		if ref := refs[a.By]; ref != "" {
			v.Reference = &ref
		}
	}
	for k := range res.Groups {
		g := &res.Groups[k]
		e, s := suppress(int64(g.Events))
		v.Groups = append(v.Groups, results.GroupRate{GroupRate: g, Events: e, Suppressed: s})
	}
	return v, nil
}

// rateRatiosAgainst takes the rate ratios of res against the group ref
// (of covariate cov) instead of the first group: stats.Rates compares
// every group with its first, so each group's ratio comes from stats.Rates
// on the two groups' totals, the reference labelled to sort first. An empty
// ref keeps the first group.
func rateRatiosAgainst(res *stats.RatesResult, ref, cov string) error {
	if ref == "" {
		return nil
	}
	k := slices.IndexFunc(res.Groups, func(g stats.GroupRate) bool { return g.Group != nil && *g.Group == ref })
	if k < 0 {
		return fmt.Errorf("covariate %q: the reference level %q does not occur among the rows analysed", cov, ref)
	}
	r := res.Groups[k]
	for j := range res.Groups {
		g := &res.Groups[j]
		if j == k {
			g.RateRatio, g.RRLower, g.RRUpper = stats.NA, stats.NA, stats.NA
			continue
		}
		two, err := stats.Rates([]float64{r.Events, g.Events}, []float64{r.PersonTime, g.PersonTime},
			[]string{"0", "1"}, nil, nil, stats.RateOptions{Per: res.Per, ConfLevel: res.ConfLevel})
		if err != nil {
			return err
		}
		o := two.Groups[1]
		g.RateRatio, g.RRLower, g.RRUpper = o.RateRatio, o.RRLower, o.RRUpper
	}
	return nil
}

// groupAt returns row i's group ("" when the analysis has no groups) and
// whether the row has one.
func groupAt(by *column, i int) (string, bool) {
	if by == nil {
		return "", true
	}
	return by.text(i)
}
