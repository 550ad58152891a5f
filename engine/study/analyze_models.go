package study

import (
	"fmt"
	"strings"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/report/results"
	"github.com/beaver-analytics/beaver/stats"
)

// toDesign turns a model into the stats package's design.
func toDesign(m *model) *stats.Design {
	return &stats.Design{Names: m.names, N: len(m.rows), P: m.p, X: m.x}
}

// logistic fits the outcome within the horizon (time ≤ horizon) on the
// covariates. An entry whose follow-up ends before the horizon without the
// outcome has no known status and is left out (with a warning).
func logistic(f *frame, a cohort.Analysis, refs map[string]string) (*results.Logistic, []string, error) {
	tcol, ecol := f.cols["out_"+a.Outcome+"_time"], f.cols["out_"+a.Outcome+"_event"]
	if tcol == nil || ecol == nil {
		return nil, nil, fmt.Errorf("outcome %q is not in the analysis dataset", a.Outcome)
	}
	if a.Horizon == nil {
		return nil, nil, fmt.Errorf("a logistic analysis needs a horizon")
	}
	h := float64(a.Horizon.V)
	var warns []string
	var keep []int
	y := map[int]bool{}
	short := 0
	for i := range f.n {
		if tcol.null(i) || ecol.null(i) {
			continue
		}
		t, _ := tcol.num(i)
		e := ecol.boolean(i)
		switch {
		case e && t <= h:
			y[i] = true
			keep = append(keep, i)
		case t >= h:
			keep = append(keep, i)
		default:
			short++
		}
	}
	if short > 0 {
		warns = append(warns, fmt.Sprintf("%s entries whose follow-up ended before the horizon without the outcome were left out", countWords(int64(short))))
	}
	if len(keep) == 0 {
		return nil, warns, fmt.Errorf("%w: no entry is followed up to the horizon", errSkip)
	}
	m, dropped, err := design(f, keep, a.Covariates, "cov_", refs)
	if err != nil {
		return nil, warns, err
	}
	if dropped > 0 {
		warns = append(warns, fmt.Sprintf("%s rows with a missing covariate were left out (complete cases)", countWords(int64(dropped))))
	}
	yy := make([]bool, len(m.rows))
	var events int64
	for k, i := range m.rows {
		yy[k] = y[i]
		if y[i] {
			events++
		}
	}
	res, err := stats.Logistic(yy, toDesign(m), stats.LogisticOptions{})
	if err != nil {
		return nil, warns, err
	}
	warns = append(warns, res.Warnings...)
	n, sn := suppress(int64(res.N))
	ev, se := suppress(events)
	return &results.Logistic{LogisticResult: res, Horizon: a.Horizon.V, N: n, Events: ev, Suppressed: sn || se}, warns, nil
}

// linear fits the dependent covariate on the covariates (complete cases).
func linear(f *frame, a cohort.Analysis, refs map[string]string) (*results.Linear, []string, error) {
	dcol := f.cols["cov_"+a.Dependent]
	if dcol == nil {
		return nil, nil, fmt.Errorf("covariate %q is not in the analysis dataset (not compiled yet?)", a.Dependent)
	}
	if dcol.categorical() {
		return nil, nil, fmt.Errorf("the dependent covariate %q is categorical, not continuous", a.Dependent)
	}
	var warns []string
	var keep []int
	for i := range f.n {
		if !dcol.null(i) {
			keep = append(keep, i)
		}
	}
	if len(keep) == 0 {
		return nil, nil, fmt.Errorf("%w: no entry has a value of %q", errSkip, a.Dependent)
	}
	m, dropped, err := design(f, keep, a.Covariates, "cov_", refs)
	if err != nil {
		return nil, nil, err
	}
	if d := dropped + f.n - len(keep); d > 0 {
		warns = append(warns, fmt.Sprintf("%s rows with a missing dependent or covariate were left out (complete cases)", countWords(int64(d))))
	}
	y := make([]float64, len(m.rows))
	for k, i := range m.rows {
		y[k], _ = dcol.num(i)
	}
	res, err := stats.Linear(y, toDesign(m))
	if err != nil {
		return nil, warns, err
	}
	warns = append(warns, res.Warnings...)
	n, sn := suppress(int64(res.N))
	return &results.Linear{LinearResult: res, Dependent: a.Dependent, N: n, Suppressed: sn}, warns, nil
}

// stratumKey names a standardization stratum: "cov=level;" per covariate,
// in the standardization's order.
func stratumKey(by []string, level func(c string) (string, bool)) (string, bool) {
	var b strings.Builder
	for _, c := range by {
		l, ok := level(c)
		if !ok {
			return "", false
		}
		b.WriteString(c + "=" + l + ";")
	}
	return b.String(), true
}

// standardPopulation returns the standard population of a rates analysis
// by stratum key. A supplied one is used as given. The registry on a date
// needs SQL that is not compiled yet, except when the cohort is that
// registry population: a population cohort on that very date with no
// restriction (area, age, sex, ASL, enrolment after day 0, criteria); then
// the standard is the cohort's entries by stratum, counted from the whole
// dataset f (all classes of a stratify_by).
func standardPopulation(p *cohort.Protocol, a cohort.Analysis, f *frame) (map[string]float64, error) {
	s := a.Standardize
	std := map[string]float64{}
	if len(s.Standard.Population) > 0 {
		for _, ss := range s.Standard.Population {
			k, ok := stratumKey(s.By, func(c string) (string, bool) { l, ok := ss.Levels[c]; return l, ok })
			if !ok {
				return nil, fmt.Errorf("a stratum of the supplied standard population lacks a level of %s", strings.Join(s.By, ", "))
			}
			std[k] += ss.Persons
		}
		return std, nil
	}
	ph := p.Phases
	pop := ph.Population
	rd := s.Standard.RegistryDate
	same := rd != nil && ph.Index.Date != nil && ph.Index.Date.V == rd.V &&
		pop.Area == nil && pop.Age == nil && pop.Sex == "" && len(pop.ASLs) == 0 &&
		(pop.Enrolment.After == nil || pop.Enrolment.After.V == 0) && len(ph.Criteria) == 0
	if !same {
		return nil, fmt.Errorf("a registry standard population on a date other than an unrestricted population cohort's index date is not computed yet (its SQL is not compiled); supply the standard population (standardize.standard.population)")
	}
	for i := range f.n {
		k, ok := stratumKey(s.By, func(c string) (string, bool) {
			col := f.cols["cov_"+c]
			if col == nil {
				return "", false
			}
			return col.text(i)
		})
		if ok {
			std[k]++
		}
	}
	if len(std) == 0 {
		return nil, fmt.Errorf("the registry standard population is empty (standardization covariates %s missing?)", strings.Join(s.By, ", "))
	}
	return std, nil
}

// standardize fills the adjusted rates of v, group by group (a group
// without person-time in a stratum of the standard gets no adjusted rate
// and a warning, the other groups keep theirs).
func standardize(v *results.Rates, f *frame, a cohort.Analysis, std map[string]float64) []string {
	var warns []string
	tcol, ecol := f.cols["out_"+a.Outcome+"_time"], f.cols["out_"+a.Outcome+"_event"]
	var by *column
	if a.By != "" {
		by = f.cols["cov_"+a.By]
	}
	type rows struct {
		events, pt []float64
		strata     []string
	}
	per := map[string]*rows{}
	missing := 0
	for i := range f.n {
		if tcol.null(i) || ecol.null(i) {
			continue
		}
		g, ok := groupAt(by, i)
		if !ok {
			continue
		}
		k, ok := stratumKey(a.Standardize.By, func(c string) (string, bool) {
			col := f.cols["cov_"+c]
			if col == nil {
				return "", false
			}
			return col.text(i)
		})
		if !ok {
			missing++
			continue
		}
		r := per[g]
		if r == nil {
			r = &rows{}
			per[g] = r
		}
		t, _ := tcol.num(i)
		e, _ := ecol.num(i)
		r.events, r.pt, r.strata = append(r.events, e), append(r.pt, t/DaysPerYear), append(r.strata, k)
	}
	if missing > 0 {
		warns = append(warns, fmt.Sprintf("%s entries without a value of %s were left out of the adjusted rates", countWords(int64(missing)), strings.Join(a.Standardize.By, ", ")))
	}
	for k := range v.Groups {
		g := &v.Groups[k]
		var name string
		if g.Group != nil {
			name = *g.Group
		}
		r := per[name]
		if r == nil {
			warns = append(warns, fmt.Sprintf("group %q: no entry with the standardization covariates: no adjusted rate", name))
			continue
		}
		res, err := stats.Rates(r.events, r.pt, nil, r.strata, std, stats.RateOptions{Per: v.Per, ConfLevel: v.ConfLevel})
		if err != nil {
			warns = append(warns, fmt.Sprintf("group %q: no adjusted rate: %v", name, err))
			continue
		}
		a := res.Groups[0]
		g.Adjusted, g.AdjustedLower, g.AdjustedUpper = a.Adjusted, a.AdjustedLower, a.AdjustedUpper
	}
	v.Standardized = true
	return warns
}
