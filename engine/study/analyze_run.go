package study

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/report/results"
	"github.com/beaver-analytics/beaver/stats"
)

// analysisEnv is what an analysis needs besides its frame.
type analysisEnv struct {
	refs   map[string]string
	std    map[string]float64 // rates: the standard population by stratum key
	stdErr error              // rates: why there is no standard population
}

// runAnalysis computes one analysis (other than attrition) into r. The
// error returned is a failure to read the data, which fails the results
// job; the analysis's own failure goes to r.Error.
func runAnalysis(ctx context.Context, pool *pgxpool.Pool, plan *cohort.Plan, p *cohort.Protocol, a cohort.Analysis,
	r *results.AnalysisResult, dataset func() (*frame, error), refs map[string]string) error {
	switch a.Kind {
	case cohort.AnalysisDescriptive, cohort.AnalysisKaplanMeier, cohort.AnalysisCox,
		cohort.AnalysisLogistic, cohort.AnalysisLinear, cohort.AnalysisRates:
	default:
		r.Error = fmt.Sprintf("analyses of kind %q are not computed yet", a.Kind)
		return nil
	}
	var f *frame
	var err error
	cp := false
	if a.Kind == cohort.AnalysisCox && plan.Step(fmt.Sprintf("dataset_cp_%s_p0", a.Name)) != nil {
		r.Form, cp = results.FormCountingProcess, true
		tables, err := partitionTables(plan, "dataset_cp_"+a.Name)
		if err != nil {
			return &deterministicError{err.Error()}
		}
		if f, err = readFrame(ctx, pool, tables, "person_id, entry_no, episode_no"); err != nil {
			return err
		}
	} else {
		if a.Kind == cohort.AnalysisCox {
			r.Form = results.FormBaseline
		}
		if f, err = dataset(); err != nil {
			return err
		}
	}
	env := &analysisEnv{refs: refs}
	if a.Kind == cohort.AnalysisRates && a.Standardize != nil {
		full, err := dataset()
		if err != nil {
			return err
		}
		env.std, env.stdErr = standardPopulation(p, a, full)
	}
	var aerr error
	if a.StratifyBy == "" {
		r.Result, r.Warnings, aerr = compute(f, a, env, cp)
	} else {
		r.Result, r.Warnings, aerr = stratified(f, a, env, cp)
	}
	if aerr != nil {
		r.Error = aerr.Error()
	}
	return nil
}

// compute runs an analysis on a frame: its result in the document's shape
// (nil when it failed), warnings, and the failure.
func compute(f *frame, a cohort.Analysis, env *analysisEnv, cp bool) (results.Result, []string, error) {
	switch a.Kind {
	case cohort.AnalysisDescriptive:
		return typed(descriptive(f, a, env.refs))
	case cohort.AnalysisKaplanMeier:
		v, err := kaplanMeier(f, a)
		return typed(v, nil, err)
	case cohort.AnalysisCox:
		var cr *stats.CoxResult
		var w []string
		var err error
		if cp {
			cr, w, err = coxCountingProcess(f, a, env.refs)
		} else {
			cr, w, err = coxBaseline(f, a, env.refs)
		}
		return typed(coxView(cr), w, err)
	case cohort.AnalysisLogistic:
		return typed(logistic(f, a, env.refs))
	case cohort.AnalysisLinear:
		return typed(linear(f, a, env.refs))
	case cohort.AnalysisRates:
		v, err := crudeRates(f, a, env.refs)
		if err != nil {
			return nil, nil, err
		}
		var w []string
		switch {
		case a.Standardize == nil:
		case env.stdErr != nil:
			w = append(w, "direct standardization: "+env.stdErr.Error()+"; crude rates only")
		default:
			w = standardize(v, f, a, env.std)
		}
		return v, w, nil
	}
	return nil, nil, fmt.Errorf("analyses of kind %q are not computed yet", a.Kind)
}

// subset returns the rows of f, in order, as a frame.
func subset(f *frame, rows []int) *frame {
	s := &frame{cols: make(map[string]*column, len(f.cols)), n: len(rows)}
	for name, col := range f.cols {
		s.cols[name] = col.take(rows)
	}
	return s
}

// stratified runs the analysis within each class of a.StratifyBy, the
// classes in parallel goroutines, results in class order. Rows without a
// class are left out; a class's failure is its error, not the analysis's.
func stratified(f *frame, a cohort.Analysis, env *analysisEnv, cp bool) (results.Result, []string, error) {
	col := f.cols["cov_"+a.StratifyBy]
	if col == nil {
		return nil, nil, fmt.Errorf("covariate %q is not in the dataset of this analysis (not compiled yet, or time-dependent?)", a.StratifyBy)
	}
	byClass := map[string][]int{}
	var classes []string
	var warns []string
	missing := 0
	for i := range f.n {
		s, ok := col.text(i)
		if !ok {
			missing++
			continue
		}
		if _, seen := byClass[s]; !seen {
			classes = append(classes, s)
		}
		byClass[s] = append(byClass[s], i)
	}
	if missing > 0 {
		warns = append(warns, fmt.Sprintf("%s rows without a value of %q were left out", countWords(int64(missing)), a.StratifyBy))
	}
	if len(classes) == 0 {
		return nil, warns, fmt.Errorf("%w: no row has a value of %q", errSkip, a.StratifyBy)
	}
	classes = stats.SortLevels(classes)
	inner := a
	inner.StratifyBy = ""
	v := &results.Stratified{StratifyBy: a.StratifyBy, Classes: make([]results.Class, len(classes))}
	var wg sync.WaitGroup
	for k, c := range classes {
		wg.Go(func() {
			rows := byClass[c]
			cr := &v.Classes[k]
			cr.Class = c
			cr.N, cr.Suppressed = suppress(int64(len(rows)))
			var err error
			cr.Result, cr.Warnings, err = compute(subset(f, rows), inner, env, cp)
			if err != nil {
				cr.Error = err.Error()
			}
		})
	}
	wg.Wait()
	for _, cr := range v.Classes {
		if cr.Error != "" {
			warns = append(warns, fmt.Sprintf("class %q: %s", cr.Class, cr.Error))
		}
		for _, w := range cr.Warnings {
			warns = append(warns, fmt.Sprintf("class %q: %s", cr.Class, w))
		}
	}
	return v, warns, nil
}
