package report

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/report/chart"
	"github.com/beaver-analytics/beaver/report/format"
	"github.com/beaver-analytics/beaver/report/results"
	"github.com/beaver-analytics/beaver/stats"
)

// FromResults builds the report of a run: the protocol's parts (NewReport)
// and the results document's, analyses in the protocol's order.
func FromResults(doc *results.Document, p *cohort.Protocol, opts HTMLOptions) (*Report, error) {
	lang := opts.Lang
	if doc == nil {
		return nil, fmt.Errorf("report: no results document")
	}
	r, err := NewReport(p, lang)
	if err != nil {
		return nil, err
	}
	r.Author, r.RunID, r.RunDate = opts.Author, opts.RunID, opts.RunDate
	r.DataVersion, r.DataEnd = doc.DataVersion, doc.DataEnd
	r.ProtocolHash, r.SoftwareVersion = doc.ProtocolHash, doc.SoftwareVersion
	r.Scope, r.MinCount = doc.Scope, doc.MinCount
	for _, a := range doc.Attrition {
		r.Attrition = append(r.Attrition, AttritionRow{Label: format.AttritionLabel(lang, a.Label, a.Key, a.Args), Persons: a.Persons, Entries: a.Entries})
	}
	r.Warnings = doc.Warnings
	if doc.Profile != nil {
		for _, s := range doc.Profile.Steps {
			r.Steps = append(r.Steps, StepTiming{Name: s.Name, Kind: s.Kind, Rows: s.Rows, WallMS: s.WallMS, ReusedFrom: s.ReusedFrom})
		}
		r.AnalysesMS = doc.Profile.AnalysesMS
	}
	outcomes := map[string]string{}
	for _, o := range p.Phases.Outcomes {
		t := o.Title
		if t == "" {
			t = o.Name
		}
		outcomes[o.Name] = lowerFirst(t)
	}
	seen := map[string]bool{}
	add := func(name, title string, ar *results.AnalysisResult) {
		seen[name] = true
		s := Section{Name: name, Title: title}
		if ar == nil {
			s.Error = lang.T("missing_result")
			r.Sections = append(r.Sections, s)
			return
		}
		s.Kind, s.Warnings, s.Error = string(ar.Kind), ar.Warnings, ar.Error
		s.Outcome = outcomes[ar.Outcome]
		if ar.Kind == results.KindLinear {
			s.Outcome = ""
		}
		if st, ok := ar.Result.(*results.Stratified); ok {
			s.StratifyBy = st.StratifyBy
			for _, c := range st.Classes {
				cs := Section{Kind: s.Kind, Error: c.Error, Warnings: c.Warnings}
				fillView(&cs, ar, c.Result, lang)
				s.Classes = append(s.Classes, ClassSection{Class: c.Class, N: c.N, Section: cs})
			}
		} else if ar.Result != nil {
			fillView(&s, ar, ar.Result, lang)
		}
		r.Sections = append(r.Sections, s)
	}
	for _, a := range p.Phases.Analyses {
		add(a.Name, a.Title, doc.Analyses[a.Name])
	}
	for _, name := range doc.AnalysisNames() { // any the protocol does not list
		if !seen[name] {
			add(name, "", doc.Analyses[name])
		}
	}
	return r, nil
}

// HTML is the report of a run as one HTML page: FromResults, then
// RenderHTML. p is the run's bound protocol.
func HTML(doc *results.Document, p *cohort.Protocol, opts HTMLOptions) ([]byte, error) {
	r, err := FromResults(doc, p, opts)
	if err != nil {
		return nil, err
	}
	return RenderHTML(r, opts)
}

// ReportPDF prints the report of a run (HTML, then PDF), cached under
// the results document's hash (resultsHash: of the document as stored,
// say), the language, the minimum count and the software version, with
// the run's id, author and date; a cached report is returned without
// rendering anything.
func (r *Renderer) ReportPDF(ctx context.Context, doc *results.Document, p *cohort.Protocol, opts HTMLOptions, resultsHash string) ([]byte, error) {
	if doc == nil || p == nil {
		return nil, fmt.Errorf("report: pdf: no results document or protocol")
	}
	key := CacheKey{ContentHash: resultsHash + "\x00" + opts.RunID + "\x00" + opts.Author + "\x00" + opts.RunDate, Lang: opts.Lang, MinCount: doc.MinCount}
	if b, ok := r.cached(key); ok {
		return b, nil
	}
	page, err := HTML(doc, p, opts)
	if err != nil {
		return nil, err
	}
	title := p.Title
	if title == "" {
		title = p.Name
	}
	return r.PDF(ctx, page, PDFOptions{Lang: opts.Lang, Title: title, Key: &key})
}

func lowerFirst(s string) string {
	if len(s) > 1 && s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z') {
		return strings.ToLower(s[:1]) + s[1:]
	}
	return s
}

func f(x stats.Float) float64 { return float64(x) }

func fp(x *stats.Float) float64 {
	if x == nil {
		return math.NaN()
	}
	return float64(*x)
}

func groupLabel(g *string, lang format.Lang) string {
	if g == nil {
		return lang.T("all")
	}
	return *g
}

// fillView sets the section's view from a (non-stratified) result.
func fillView(s *Section, ar *results.AnalysisResult, res results.Result, lang format.Lang) {
	switch v := res.(type) {
	case *results.KaplanMeier:
		km := &KMView{}
		for _, g := range v.Groups {
			se := chart.KMSeries{Label: groupLabel(g.Group, lang)}
			for _, st := range g.Steps {
				se.Time = append(se.Time, st.Time)
				se.Surv = append(se.Surv, f(st.Surv))
				se.Lower = append(se.Lower, f(st.Lower))
				se.Upper = append(se.Upper, f(st.Upper))
				n := -1
				if st.NRisk != nil {
					n = int(*st.NRisk)
				}
				se.NRisk = append(se.NRisk, n)
			}
			km.Series = append(km.Series, se)
			km.Groups = append(km.Groups, KMGroupRow{Label: se.Label, N: g.N, Events: g.Events, Median: f(g.Median), MedianLower: f(g.MedianLower), MedianUpper: f(g.MedianUpper)})
		}
		s.KM = km
	case *results.Cox:
		m := &ModelView{Model: "cox", Form: string(ar.Form), N: v.N, Events: v.Events, R2: math.NaN()}
		if v.CoxResult != nil {
			m.Ties = v.Ties
			for _, t := range v.Coefficients {
				se := t.SE
				if !t.RobustSE.IsNA() {
					se = t.RobustSE
				}
				m.Terms = append(m.Terms, ModelTerm{Term: t.Term, Coef: f(t.Coef), SE: f(se), Ratio: f(t.HR), Lower: f(t.HRLower), Upper: f(t.HRUpper), P: f(t.P)})
			}
			m.Tests = []ModelTest{test("lr", v.LRTest), test("wald", v.WaldTest), test("score", v.ScoreTest)}
			if z := v.ZPH; z != nil {
				for _, t := range z.Terms {
					m.PH = append(m.PH, test(t.Term, t.Test))
				}
				m.PH = append(m.PH, test("GLOBAL", z.Global))
			}
		}
		s.Model = m
	case *results.Logistic:
		m := &ModelView{Model: "logistic", Horizon: v.Horizon, N: v.N, Events: v.Events, R2: math.NaN()}
		if v.LogisticResult != nil {
			for _, t := range v.Coefficients {
				if t.Term == "(Intercept)" {
					continue
				}
				m.Terms = append(m.Terms, ModelTerm{Term: t.Term, Coef: f(t.Coef), SE: f(t.SE), Ratio: f(t.OR), Lower: f(t.ORLower), Upper: f(t.ORUpper), P: f(t.P)})
			}
		}
		s.Model = m
	case *results.Linear:
		m := &ModelView{Model: "linear", N: v.N, R2: math.NaN()}
		s.Outcome = v.Dependent
		if v.LinearResult != nil {
			m.R2 = f(v.RSquared)
			for _, t := range v.Coefficients {
				m.Terms = append(m.Terms, ModelTerm{Term: t.Term, Coef: f(t.Coef), SE: f(t.SE), Ratio: math.NaN(), Lower: f(t.Lower), Upper: f(t.Upper), P: f(t.P)})
			}
		}
		s.Model = m
	case *results.Rates:
		rv := &RatesView{Per: v.Per}
		if v.Reference != nil {
			rv.Reference = *v.Reference
		}
		for _, g := range v.Groups {
			row := RateRow{Events: g.Events, PersonTime: math.NaN(), Crude: math.NaN(), CrudeLower: math.NaN(), CrudeUpper: math.NaN(),
				Adjusted: math.NaN(), AdjustedLower: math.NaN(), AdjustedUpper: math.NaN(), RateRatio: math.NaN(), RRLower: math.NaN(), RRUpper: math.NaN()}
			if gr := g.GroupRate; gr != nil {
				row.Label = groupLabel(gr.Group, lang)
				row.PersonTime = gr.PersonTime
				row.Crude, row.CrudeLower, row.CrudeUpper = f(gr.Crude), f(gr.CrudeLower), f(gr.CrudeUpper)
				row.Adjusted, row.AdjustedLower, row.AdjustedUpper = f(gr.Adjusted), f(gr.AdjustedLower), f(gr.AdjustedUpper)
				row.RateRatio, row.RRLower, row.RRUpper = f(gr.RateRatio), f(gr.RRLower), f(gr.RRUpper)
			}
			rv.Groups = append(rv.Groups, row)
		}
		s.Rates = rv
	case *results.Descriptive:
		d := &DescriptiveView{By: v.By}
		if v.Reference != nil {
			d.Reference = *v.Reference
		}
		for _, g := range v.Groups {
			d.Groups = append(d.Groups, DescGroup{Label: groupLabel(g.Group, lang), N: g.N})
		}
		for _, dv := range v.Variables {
			x := DescVariable{Label: dv.Covariate, Type: string(dv.Type)}
			for _, c := range dv.Groups {
				x.Cells = append(x.Cells, DescCell{N: c.N, Missing: c.Missing, Count: c.Count, Percent: fp(c.Percent),
					Mean: fp(c.Mean), SD: fp(c.SD), Median: fp(c.Median), Q1: fp(c.Q1), Q3: fp(c.Q3)})
			}
			for _, l := range dv.Levels {
				lv := DescLevel{Level: l.Level}
				for _, c := range l.Groups {
					lv.Counts = append(lv.Counts, c.Count)
					lv.Percents = append(lv.Percents, f(c.Percent))
				}
				x.Levels = append(x.Levels, lv)
			}
			for _, smd := range dv.SMD {
				x.SMD = append(x.SMD, f(smd))
			}
			d.Variables = append(d.Variables, x)
		}
		s.Descriptive = d
	}
}

func test(name string, t stats.Test) ModelTest {
	return ModelTest{Name: name, Chi2: f(t.Chi2), DF: t.DF, P: f(t.P)}
}
