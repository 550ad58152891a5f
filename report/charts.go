package report

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/beaver-analytics/beaver/report/chart"
	"github.com/beaver-analytics/beaver/report/format"
)

// ErrNoChart is returned (wrapped) by ChartSVG for an analysis that has no
// chart: unknown, failed, or of a kind without one (descriptive, linear).
var ErrNoChart = errors.New("report: no chart")

// ChartSVG returns the chart of one analysis of the report, the same SVG
// the HTML report and its PDF show: the attrition flow for an attrition
// analysis, the cumulative incidence curves for Kaplan-Meier, the forest
// plot for Cox and logistic models, the bar chart for rates. A class of a
// stratified analysis is "name/class". GET /api/v1/runs/{id}/charts/
// {analysis}.svg serves it.
func ChartSVG(r *Report, analysis string, opts HTMLOptions) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: no report", ErrNoChart)
	}
	name, class, stratified := strings.Cut(analysis, "/")
	for i := range r.Sections {
		s := &r.Sections[i]
		if s.Name != name {
			continue
		}
		if stratified {
			for j := range s.Classes {
				if s.Classes[j].Class == class {
					cs := s.Classes[j].Section
					if cs.Outcome == "" {
						cs.Outcome = s.Outcome
					}
					return sectionChart(r, &cs, opts.Lang)
				}
			}
			return nil, fmt.Errorf("%w: analysis %q has no class %q", ErrNoChart, name, class)
		}
		return sectionChart(r, s, opts.Lang)
	}
	return nil, fmt.Errorf("%w: no analysis %q", ErrNoChart, analysis)
}

func sectionChart(r *Report, s *Section, lang format.Lang) ([]byte, error) {
	var svg []byte
	var err error
	switch {
	case s.Error != "":
		return nil, fmt.Errorf("%w: analysis %q was not computed: %s", ErrNoChart, s.Name, s.Error)
	case s.Kind == "attrition":
		svg, err = attritionChart(r.Attrition, lang, r.MinCount)
	case s.KM != nil:
		svg, err = kmChart(s.KM, lang, r.MinCount)
	case s.Model != nil:
		svg, err = modelChart(s.Model, lang)
	case s.Rates != nil:
		svg, err = ratesChart(s.Rates, lang)
	}
	if err != nil {
		return nil, fmt.Errorf("report: chart of %q: %w", s.Name, err)
	}
	if svg == nil {
		return nil, fmt.Errorf("%w: analysis %q (%s) has no chart", ErrNoChart, s.Name, s.Kind)
	}
	return svg, nil
}

func attritionChart(rows []AttritionRow, lang format.Lang, k int) ([]byte, error) {
	steps := make([]chart.AttritionStep, len(rows))
	for i, a := range rows {
		steps[i] = chart.AttritionStep{Label: a.Label, Persons: countInt(a.Persons), Entries: countInt(a.Entries)}
	}
	return chart.Attrition(steps, chart.AttritionOptions{Lang: lang, MinCount: k})
}

func countInt(n *int64) int {
	if n == nil {
		return -1
	}
	return int(*n)
}

func kmChart(k *KMView, lang format.Lang, minCount int) ([]byte, error) {
	opts := chart.KMOptions{Lang: lang, Bands: true, MinCount: minCount, CumulativeIncidence: true}
	steps := 0
	for _, s := range k.Series {
		steps += len(s.Time)
	}
	if steps == 0 {
		// Suppression kept no step (fewer than k events between steps): an
		// empty frame must say why.
		opts.Title = fmt.Sprintf(lang.T("km_no_steps"), minCount)
	}
	return chart.KaplanMeier(k.Series, opts)
}

// measureOf is the ratio a model reports: HR, OR, or none (linear).
func measureOf(model string) string {
	return map[string]string{"cox": "HR", "logistic": "OR"}[model]
}

// modelChart is the forest plot of a Cox or logistic model; nil for a
// linear one.
func modelChart(m *ModelView, lang format.Lang) ([]byte, error) {
	measure := measureOf(m.Model)
	if measure == "" || len(m.Terms) == 0 {
		return nil, nil
	}
	rows := make([]chart.ForestRow, len(m.Terms))
	for i, t := range m.Terms {
		rows[i] = chart.ForestRow{Label: t.Term, Estimate: t.Ratio, Lower: t.Lower, Upper: t.Upper}
	}
	return chart.Forest(rows, chart.ForestOptions{Lang: lang, Measure: measure})
}

// ratesChart is the bar chart of crude (and standardized) rates.
func ratesChart(rv *RatesView, lang format.Lang) ([]byte, error) {
	n := len(rv.Groups)
	cats := make([]string, n)
	crude := chart.Series{Label: lang.T("crude"), Values: make([]float64, n), Lower: make([]float64, n), Upper: make([]float64, n)}
	adj := chart.Series{Label: lang.T("standardized"), Values: make([]float64, n), Lower: make([]float64, n), Upper: make([]float64, n)}
	std := false
	for i, g := range rv.Groups {
		cats[i] = g.Label
		crude.Values[i], crude.Lower[i], crude.Upper[i] = g.Crude, g.CrudeLower, g.CrudeUpper
		adj.Values[i], adj.Lower[i], adj.Upper[i] = g.Adjusted, g.AdjustedLower, g.AdjustedUpper
		std = std || !math.IsNaN(g.Adjusted)
	}
	series := []chart.Series{crude}
	if std {
		series = append(series, adj)
	}
	per := format.Int(lang, int(rv.Per))
	return chart.Bars(cats, series, chart.XYOptions{Lang: lang, YLabel: fmt.Sprintf(lang.T("per_py"), per)})
}
