package report

import (
	"context"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/report/format"
	"github.com/beaver-analytics/beaver/report/results"
	"github.com/beaver-analytics/beaver/report/suppress"
)

// exampleRun reads a results document of report/results/testdata and its
// example protocol (bound with its defaults, as a run stores it).
func exampleRun(t testing.TB, name string) (*results.Document, *cohort.Protocol) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("results", "testdata", name+".json"))
	require.NoError(t, err)
	doc, err := results.Decode(b)
	require.NoError(t, err)
	pb, err := os.ReadFile(filepath.Join("..", "docs", "examples", name+".json"))
	require.NoError(t, err)
	p, err := cohort.DecodeBytes(pb)
	require.NoError(t, err)
	p, err = p.Bind(nil)
	require.NoError(t, err)
	return doc, p
}

// TestHTMLFromResults renders the report of each example's results
// document in both languages; every number checked is read from the
// document and formatted here, then looked for in the page.
func TestHTMLFromResults(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"comparator-new-users", "current-use", "hip-fracture-rates"} {
		doc, p := exampleRun(t, name)
		for _, lang := range []format.Lang{format.EN, format.IT} {
			page, err := HTML(doc, p, HTMLOptions{Lang: lang, Author: "test", RunID: "1", RunDate: "2026-12-04"})
			require.NoError(t, err, name)
			s := string(page)
			require.NotContains(t, s, "%!", name)
			require.Contains(t, s, doc.ProtocolHash, name)
			for _, an := range p.Phases.Analyses {
				if an.Kind == "attrition" {
					require.Contains(t, s, `id="attrition"`, name)
					continue
				}
				require.Contains(t, s, `id="analysis-`+an.Name+`"`, "%s: analysis %s", name, an.Name)
			}
			// every Cox term's HR and interval, as formatted
			for _, an := range doc.Analyses {
				if cox, ok := an.Result.(*results.Cox); ok && cox.CoxResult != nil {
					for _, term := range cox.Coefficients {
						require.Contains(t, s, format.RatioCI(lang, float64(term.HR), float64(term.HRLower), float64(term.HRUpper)), "%s %s", name, term.Term)
					}
				}
			}
			// every attrition line in the reader's language
			for _, a := range doc.Attrition {
				want := format.AttritionLabel(lang, a.Label, a.Key, a.Args)
				if lang == format.IT && a.Key != "" {
					require.NotEqual(t, a.Label, want, "%s: line %d not translated", name, a.Line)
				}
				require.Contains(t, s, html.EscapeString(want), "%s: line %d", name, a.Line)
			}
			// a suppressed count shows as <5, never as a number
			supp := false
			for _, a := range doc.Analyses {
				if km, ok := a.Result.(*results.KaplanMeier); ok {
					for _, g := range km.Groups {
						supp = supp || g.Events == nil
					}
				}
			}
			if supp {
				require.Contains(t, s, "&lt;5", name)
			}
		}
	}
}

// TestPDFFromResults prints the comparator example's report and finds
// its adjusted hazard ratio, as the HTML writes it, in the PDF's text.
func TestPDFFromResults(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, RendererConfig{})
	doc, p := exampleRun(t, "comparator-new-users")
	page, err := HTML(doc, p, HTMLOptions{Lang: format.EN})
	require.NoError(t, err)
	pdf, err := r.ReportPDF(context.Background(), doc, p, HTMLOptions{Lang: format.EN}, "hash-of-the-stored-document")
	require.NoError(t, err)
	// cached: the same report again with the browser closed
	require.NoError(t, r.Close())
	again, err := r.ReportPDF(context.Background(), doc, p, HTMLOptions{Lang: format.EN}, "hash-of-the-stored-document")
	require.NoError(t, err)
	require.Equal(t, pdf, again)
	_, err = r.ReportPDF(context.Background(), doc, p, HTMLOptions{Lang: format.IT}, "hash-of-the-stored-document")
	require.ErrorIs(t, err, ErrClosed, "another language is another report")
	dir := artefactDir(t)
	path := filepath.Join(dir, "comparator-results_en.pdf")
	require.NoError(t, os.WriteFile(path, pdf, 0o644))
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("poppler-utils (pdftotext, pdfinfo, pdftoppm) not installed: make test installs it")
	}
	cox := doc.Analyses["adjusted"].Result.(*results.Cox)
	hr := format.RatioCI(format.EN, float64(cox.Coefficients[0].HR), float64(cox.Coefficients[0].HRLower), float64(cox.Coefficients[0].HRUpper))
	require.Contains(t, string(page), hr)
	text := run(t, "pdftotext", path, "-")
	require.Contains(t, text, hr)
	require.Contains(t, text, "New users of ACE inhibitors")
	require.True(t, strings.Contains(text, "<5"), "the suppressed counts")
	run(t, "pdftoppm", "-png", "-r", "70", path, filepath.Join(dir, "comparator-results_en"))

	// In Italian, from a renderer of its own: the attrition lines the
	// compiler names read in Italian, the criterion keeps its name.
	it, err := newTestRenderer(t, RendererConfig{}).ReportPDF(context.Background(), doc, p, HTMLOptions{Lang: format.IT}, "hash-of-the-stored-document")
	require.NoError(t, err)
	path = filepath.Join(dir, "comparator-results_it.pdf")
	require.NoError(t, os.WriteFile(path, it, 0o644))
	text = run(t, "pdftotext", path, "-")
	require.Contains(t, text, "in vita al giorno 0")
	require.Contains(t, text, "no AMI admission in the year before")
	run(t, "pdftoppm", "-png", "-r", "70", path, filepath.Join(dir, "comparator-results_it"))
	t.Logf("artefacts in %s", dir)
}

// TestHTMLFromResultsModels renders report/results' document with every
// kind (logistic, linear, stratified Cox and rates) against the
// comparator protocol: analyses the protocol does not list follow its
// own, and each kind's numbers, formatted, are in the page.
func TestHTMLFromResultsModels(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("results", "testdata", "models.json"))
	require.NoError(t, err)
	doc, err := results.Decode(b)
	require.NoError(t, err)
	_, p := exampleRun(t, "comparator-new-users")
	for _, lang := range []format.Lang{format.EN, format.IT} {
		page, err := HTML(doc, p, HTMLOptions{Lang: lang})
		require.NoError(t, err)
		s := string(page)
		require.NotContains(t, s, "%!")
		for _, name := range doc.AnalysisNames() {
			if doc.Analyses[name].Kind != results.KindAttrition {
				require.Contains(t, s, `id="analysis-`+name+`"`, name)
			}
		}
		logit := doc.Analyses["logit"]
		if lr, ok := logit.Result.(*results.Logistic); ok && lr.LogisticResult != nil {
			for _, c := range lr.Coefficients {
				if c.Term != "(Intercept)" {
					require.Contains(t, s, format.RatioCI(lang, float64(c.OR), float64(c.ORLower), float64(c.ORUpper)), c.Term)
				}
			}
		}
		lm := doc.Analyses["lm"].Result.(*results.Linear)
		require.Contains(t, s, format.CI(lang, float64(lm.Coefficients[0].Lower), float64(lm.Coefficients[0].Upper), 3))
		// the rates' reference is the document's (B), not the first group
		rs := doc.Analyses["rates-by-sex"].Result.(*results.Stratified)
		ref := *rs.Classes[0].Result.(*results.Rates).Reference
		require.Equal(t, "B", ref)
		require.Regexp(t, `<tr><td>B</td>(<td class="num">[^<]*</td>){3}<td class="num">`+lang.T("reference")+`</td></tr>`, s)
		require.NotRegexp(t, `<tr><td>A</td>(<td class="num">[^<]*</td>){3}<td class="num">`+lang.T("reference")+`</td></tr>`, s)
		st := doc.Analyses["by-sex"].Result.(*results.Stratified)
		for _, c := range st.Classes {
			require.Contains(t, s, `id="analysis-by-sex-`+c.Class+`"`)
		}
		_, err = ChartSVG(mustReport(t, doc, p, lang), "by-sex/"+st.Classes[0].Class, HTMLOptions{Lang: lang})
		if st.Classes[0].Error == "" {
			require.NoError(t, err)
		}
	}
}

func mustReport(t *testing.T, doc *results.Document, p *cohort.Protocol, lang format.Lang) *Report {
	t.Helper()
	r, err := FromResults(doc, p, HTMLOptions{Lang: lang})
	require.NoError(t, err)
	return r
}

// TestKMChartSaysWhyEmpty: once suppression keeps no step of a curve (the
// comparator's groups have fewer than 10 events between steps), the chart
// says why instead of showing an empty frame.
func TestKMChartSaysWhyEmpty(t *testing.T) {
	t.Parallel()
	doc, p := exampleRun(t, "comparator-new-users")
	suppress.Document(doc, 10)
	for _, lang := range []format.Lang{format.EN, format.IT} {
		r, err := FromResults(doc, p, HTMLOptions{Lang: lang})
		require.NoError(t, err)
		svg, err := ChartSVG(r, "km", HTMLOptions{Lang: lang})
		require.NoError(t, err)
		require.Contains(t, string(svg), map[format.Lang]string{format.EN: "Curves not shown: fewer than 10 events between steps", format.IT: "Curve non mostrate: meno di 10 eventi"}[lang])
	}
}

// TestAttritionMessages: every attrition label the compiler makes has its
// message in both languages, the English one the compiler's own.
func TestAttritionMessages(t *testing.T) {
	t.Parallel()
	for _, k := range cohort.LabelKeys() {
		f, _ := cohort.LabelFormat(k)
		require.True(t, format.Has("att."+k), "no message att.%s", k)
		require.Equal(t, f, format.EN.T("att."+k), "att.%s", k)
		require.Equal(t, strings.Count(f, "%s"), strings.Count(format.IT.T("att."+k), "%s"), "att.%s: the Italian takes the same arguments", k)
	}
}
