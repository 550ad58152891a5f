package report

import (
	"fmt"
	"io"
	"strconv"

	"github.com/beaver-analytics/beaver/report/results"
	"github.com/beaver-analytics/beaver/stats"
)

// Text writes the readable summary of a results document that `beaver
// study results` prints: the provenance, the attrition table, the key
// numbers of each analysis in name order (HR with CI per term for Cox, OR
// for logistic, coefficients for linear, rates with CI per group and rate
// ratios against the reference group, medians for Kaplan-Meier; a stratified result class by class) and
// the warnings. Counts below the document's MinCount show as "<MinCount".
func Text(w io.Writer, d *results.Document) error {
	t := &textWriter{w: w, min: d.MinCount}
	t.printf("protocol %s, data version %d (data end %s), %s\n", d.ProtocolHash, d.DataVersion, d.DataEnd, d.SoftwareVersion)
	t.printf("attrition:\n")
	for _, l := range d.Attrition {
		t.printf("  %-48s %8s persons %8s entries\n", l.Label, t.count(l.Persons), t.count(l.Entries))
	}
	for _, name := range d.AnalysisNames() {
		a := d.Analyses[name]
		t.printf("%s (%s):", name, a.Kind)
		if a.Error != "" {
			t.printf(" not computed: %s\n", a.Error)
			continue
		}
		t.analysis(a.Kind, a.Form, a.Result, "  ")
	}
	for _, x := range d.Warnings {
		t.printf("warning: %s\n", x)
	}
	return t.err
}

// textWriter writes the summary, keeping the first write error.
type textWriter struct {
	w   io.Writer
	min int
	err error
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

// count writes a count, "<min" when suppressed.
func (t *textWriter) count(n results.Count) string {
	if n == nil {
		return fmt.Sprintf("<%d", t.min)
	}
	return strconv.FormatInt(*n, 10)
}

// num writes a number with 4 significant digits, "NA" when not available.
func num(v stats.Float) string {
	if v.IsNA() {
		return "NA"
	}
	return strconv.FormatFloat(float64(v), 'g', 4, 64)
}

// analysis writes one analysis's result after its heading; a result the
// kind does not have (none) as its kind's empty result.
func (t *textWriter) analysis(kind results.Kind, form results.Form, res results.Result, indent string) {
	if s, ok := res.(*results.Stratified); ok {
		t.printf(" stratified by %s\n", s.StratifyBy)
		for _, c := range s.Classes {
			t.printf("%s%s = %s (%s rows):", indent, s.StratifyBy, c.Class, t.count(c.N))
			if c.Error != "" {
				t.printf(" not computed: %s\n", c.Error)
				continue
			}
			t.analysis(kind, form, c.Result, indent+"  ")
		}
		return
	}
	switch kind {
	case results.KindAttrition:
		t.printf(" the attrition above\n")
	case results.KindCox:
		r, _ := res.(*results.Cox)
		if r == nil {
			r = &results.Cox{}
		}
		t.printf(" %s, %s rows, %s events\n", form, t.count(r.N), t.count(r.Events))
		if r.CoxResult != nil {
			for _, c := range r.Coefficients {
				t.printf("%s%-32s HR %s (%s to %s), p %s\n", indent, c.Term, num(c.HR), num(c.HRLower), num(c.HRUpper), num(c.P))
			}
		}
	case results.KindLogistic:
		r, _ := res.(*results.Logistic)
		if r == nil {
			r = &results.Logistic{}
		}
		t.printf(" %s rows\n", t.count(r.N))
		if r.LogisticResult != nil {
			for _, c := range r.Coefficients {
				t.printf("%s%-32s OR %s (%s to %s), p %s\n", indent, c.Term, num(c.OR), num(c.ORLower), num(c.ORUpper), num(c.P))
			}
		}
	case results.KindLinear:
		r, _ := res.(*results.Linear)
		if r == nil {
			r = &results.Linear{}
		}
		r2 := stats.NA
		if r.LinearResult != nil {
			r2 = r.RSquared
		}
		t.printf(" %s rows, R² %s\n", t.count(r.N), num(r2))
		if r.LinearResult != nil {
			for _, c := range r.Coefficients {
				t.printf("%s%-32s %s (SE %s), p %s\n", indent, c.Term, num(c.Coef), num(c.SE), num(c.P))
			}
		}
	case results.KindRates:
		r, _ := res.(*results.Rates)
		if r == nil {
			r = &results.Rates{}
		}
		t.printf(" per %s %s\n", strconv.FormatFloat(r.Per, 'f', -1, 64), r.TimeUnit)
		// The rate ratios' reference; documents from before it was
		// recorded compared with the first group.
		var ref string
		if r.Reference != nil {
			ref = *r.Reference
		} else if len(r.Groups) > 0 && r.Groups[0].GroupRate != nil && r.Groups[0].Group != nil {
			ref = *r.Groups[0].Group
		}
		for _, g := range r.Groups {
			if g.GroupRate == nil {
				g.GroupRate = &stats.GroupRate{}
			}
			name := "all"
			if g.Group != nil {
				name = *g.Group
			}
			line := fmt.Sprintf("%s%-16s %8s events %10s %s, crude %s (%s to %s)", indent, name, t.count(g.Events),
				num(stats.Float(g.PersonTime)), r.TimeUnit, num(g.Crude), num(g.CrudeLower), num(g.CrudeUpper))
			if r.Standardized {
				line += fmt.Sprintf(", standardized %s (%s to %s)", num(g.Adjusted), num(g.AdjustedLower), num(g.AdjustedUpper))
			}
			switch {
			case g.Group == nil || len(r.Groups) < 2:
			case name == ref:
				line += ", reference"
			default:
				line += fmt.Sprintf(", rate ratio %s (%s to %s)", num(g.RateRatio), num(g.RRLower), num(g.RRUpper))
			}
			t.printf("%s\n", line)
		}
	case results.KindKaplanMeier:
		r, _ := res.(*results.KaplanMeier)
		if r == nil {
			r = &results.KaplanMeier{}
		}
		t.printf("\n")
		for _, g := range r.Groups {
			name := "all"
			if g.Group != nil {
				name = *g.Group
			}
			t.printf("%s%-16s %8s entries %8s events, median %s\n", indent, name, t.count(g.N), t.count(g.Events), num(g.Median))
		}
	default:
		t.printf(" see --json\n")
	}
}
