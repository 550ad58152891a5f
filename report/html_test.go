package report

import (
	"bytes"
	"encoding/xml"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/report/chart"
	"github.com/beaver-analytics/beaver/report/format"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "html", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file: go test ./report ./report/chart -update")
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file (go test ./report ./report/chart -update rewrites it)", name)
	}
}

func n64(v int64) *int64 { return &v }

var nan = math.NaN()

// fixtureReport is the comparator example's protocol with a hand-made set
// of results (not computed: numbers chosen to exercise the layout, with
// suppressed counts, a failed analysis, a stratified one, rates and
// warnings).
func fixtureReport(t testing.TB, lang format.Lang) *Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "examples", "comparator-new-users.json"))
	require.NoError(t, err)
	p, err := cohort.DecodeBytes(b)
	require.NoError(t, err)
	r, err := NewReport(p, lang)
	require.NoError(t, err)
	r.Author = "A. Analyst <analyst@example.org>"
	r.RunDate, r.RunID = "2026-12-04", "42"
	r.DataVersion, r.DataEnd = 3, "2019-12-31"
	r.ProtocolHash = "a694c0ffee"
	r.SoftwareVersion = "beaver v0.9.0 4dc9158"
	r.MinCount = 5
	r.Attrition = []AttritionRow{
		{Label: "index entries", Persons: n64(25630), Entries: n64(25630)},
		{Label: "one exposure group on day 0", Persons: n64(25610), Entries: n64(25610)},
		{Label: "no AMI admission in the year before", Persons: n64(25412), Entries: n64(25412)},
	}
	km := kmFixtureSeries()
	r.Sections = []Section{
		{Name: "table1", Kind: "descriptive", Descriptive: &DescriptiveView{
			By: "exposure", Reference: "B",
			Groups: []DescGroup{{Label: "A", N: n64(12001)}, {Label: "B", N: n64(13411)}},
			Variables: []DescVariable{
				{Label: "age", Type: "continuous", SMD: []float64{0.0412, nan}, Cells: []DescCell{
					{N: n64(12001), Missing: n64(0), Mean: 63.21, SD: 11.04, Median: 63, Q1: 55, Q3: 71, Percent: nan},
					{N: n64(13411), Missing: n64(0), Mean: 62.77, SD: 11.39, Median: 62, Q1: 54, Q3: 71, Percent: nan}}},
				{Label: "sex", Type: "categorical", SMD: []float64{0.0213, nan}, Cells: []DescCell{{N: n64(12001), Missing: n64(0)}, {N: n64(13411), Missing: n64(0)}},
					Levels: []DescLevel{
						{Level: "F", Counts: []*int64{n64(6100), n64(6950)}, Percents: []float64{50.83, 51.82}},
						{Level: "M", Counts: []*int64{n64(5901), n64(6461)}, Percents: []float64{49.17, 48.18}}}},
				{Label: "diabetes", Type: "binary", SMD: []float64{nan, nan}, Cells: []DescCell{
					{N: n64(12001), Missing: n64(0), Count: n64(2400), Percent: 20.0, Mean: nan},
					{N: n64(13411), Missing: nil, Count: nil, Percent: nan, Mean: nan}}},
			}}},
		{Name: "km", Kind: "kaplan_meier", Outcome: "acute myocardial infarction", KM: &KMView{Series: km,
			Groups: []KMGroupRow{
				{Label: "A", N: n64(12001), Events: n64(301), Median: nan, MedianLower: nan, MedianUpper: nan},
				{Label: "B", N: n64(13411), Events: nil, Median: 1500, MedianLower: 1320, MedianUpper: nan}}}},
		{Name: "crude", Kind: "cox", Outcome: "acute myocardial infarction", Model: &ModelView{Model: "cox", Form: "baseline", Ties: "efron", N: n64(25412), Events: n64(512),
			Terms: []ModelTerm{{Term: "exposure=A", Coef: 0.4210, SE: 0.1181, Ratio: 1.5234, Lower: 1.2101, Upper: 1.9177, P: 0.000364}},
			Tests: []ModelTest{{Name: "lr", Chi2: 12.93, DF: 1, P: 0.000323}, {Name: "wald", Chi2: 12.71, DF: 1, P: 0.000364}, {Name: "score", Chi2: 12.85, DF: 1, P: 0.000337}}, R2: nan}},
		{Name: "adjusted", Kind: "cox", Outcome: "acute myocardial infarction", Warnings: []string{"2 entries with a missing covariate were left out (complete cases)"},
			Model: &ModelView{Model: "cox", Form: "baseline", Ties: "efron", N: n64(25410), Events: n64(511),
				Terms: []ModelTerm{
					{Term: "exposure=A", Coef: 0.3969, SE: 0.1186, Ratio: 1.4871, Lower: 1.1802, Upper: 1.8738, P: 0.000819},
					{Term: "age", Coef: 0.0404, SE: 0.0054, Ratio: 1.0412, Lower: 1.0301, Upper: 1.0524, P: 1e-13},
					{Term: "sex=M", Coef: 0.2700, SE: 0.1134, Ratio: 1.31, Lower: 1.05, Upper: 1.64, P: 0.0173},
					{Term: "diabetes", Coef: 0.5306, SE: 0.1203, Ratio: 1.70, Lower: 1.34, Upper: 2.15, P: 0.0000103}},
				Tests: []ModelTest{{Name: "lr", Chi2: 98.1, DF: 4, P: 2e-20}},
				PH:    []ModelTest{{Name: "exposure=A", Chi2: 0.51, DF: 1, P: 0.475}, {Name: "GLOBAL", Chi2: 3.2, DF: 4, P: 0.525}}, R2: nan}},
		{Name: "rates", Kind: "rates", Outcome: "acute myocardial infarction", Rates: &RatesView{Per: 1000, Groups: []RateRow{
			{Label: "A", Events: n64(301), PersonTime: 40123.5, Crude: 7.502, CrudeLower: 6.68, CrudeUpper: 8.40, Adjusted: nan, AdjustedLower: nan, AdjustedUpper: nan, RateRatio: nan, RRLower: nan, RRUpper: nan},
			{Label: "B", Events: n64(211), PersonTime: 43210.2, Crude: 4.883, CrudeLower: 4.25, CrudeUpper: 5.59, Adjusted: nan, AdjustedLower: nan, AdjustedUpper: nan, RateRatio: 0.651, RRLower: 0.54, RRUpper: 0.78}}}},
		{Name: "by-sex", Kind: "cox", Outcome: "acute myocardial infarction", StratifyBy: "sex", Classes: []ClassSection{
			{Class: "F", N: n64(13050), Section: Section{Kind: "cox", Model: &ModelView{Model: "cox", Ties: "efron", N: n64(13050), Events: n64(230), R2: nan,
				Terms: []ModelTerm{{Term: "exposure=A", Coef: 0.35, SE: 0.17, Ratio: 1.42, Lower: 1.02, Upper: 1.98, P: 0.0395}}}}},
			{Class: "M", N: n64(12362), Section: Section{Kind: "cox", Error: "class \"M\": the Cox fit did not converge"}}}},
		{Name: "logit", Kind: "logistic", Error: "analyses of kind \"logistic\" are not computed yet"},
	}
	r.Warnings = []string{
		`analysis "adjusted": 2 entries with a missing covariate were left out (complete cases)`,
		`analysis "logit": analyses of kind "logistic" are not computed yet`,
		"follow-up is not ended by <death>",
	}
	rows := func(v int64) *int64 { return &v }
	r.Steps = []StepTiming{{Name: "index_p0", Kind: "index", Rows: rows(25630), WallMS: rows(812)}, {Name: "attrition_p0", Kind: "attrition", Rows: rows(3), WallMS: rows(0), ReusedFrom: rows(41)}}
	r.AnalysesMS = 1234
	return r
}

func kmFixtureSeries() []chart.KMSeries {
	return []chart.KMSeries{
		{Label: "A", Time: []float64{30, 200, 365, 900, 1400}, Surv: []float64{0.995, 0.99, 0.985, 0.975, 0.97}, Lower: []float64{0.99, 0.985, 0.98, 0.968, 0.96}, Upper: []float64{0.999, 0.995, 0.99, 0.982, 0.979}, NRisk: []int{11900, 11000, 9800, 5000, 1200}},
		{Label: "B", Time: []float64{60, 400, 800, 1700}, Surv: []float64{0.998, 0.993, 0.988, 0.982}, Lower: []float64{0.995, 0.989, 0.983, 0.975}, Upper: []float64{1, 0.997, 0.993, 0.989}, NRisk: []int{13300, 11500, 8000, -1}},
	}
}

func TestHTMLGolden(t *testing.T) {
	t.Parallel()
	for _, lang := range []format.Lang{format.EN, format.IT} {
		got, err := RenderHTML(fixtureReport(t, lang), HTMLOptions{Lang: lang})
		require.NoError(t, err)
		goldenFile(t, "comparator_"+string(lang)+".html", got)
		again, err := RenderHTML(fixtureReport(t, lang), HTMLOptions{Lang: lang})
		require.NoError(t, err)
		require.Equal(t, got, again, "deterministic")
	}
}

func TestHTMLContent(t *testing.T) {
	t.Parallel()
	got, err := RenderHTML(fixtureReport(t, format.EN), HTMLOptions{Lang: format.EN})
	require.NoError(t, err)
	s := string(got)
	for _, want := range []string{
		"<h1>New users of ACE inhibitors (A) vs angiotensin II antagonists (B) and acute myocardial infarction</h1>",
		"A. Analyst &lt;analyst@example.org&gt;",
		"1.49 (1.18–1.87)", // the adjusted HR, formatted once
		"&lt; 0.001",
		"&lt;5", "fewer than 5",
		"version 3, data up to 31 Dec 2019",
		"Persons entered the cohort", // the methods text
		"Figure 1.", "Table 1.",
		"follow-up is not ended by &lt;death&gt;",
		`id="note-1"`,
		"Not computed: analyses of kind &#34;logistic&#34; are not computed yet",
		"sex = F (n = 13,050)",
		"reused from run 41",
		"&#34;name&#34;: &#34;comparator-new-users&#34;", // the protocol in the appendix
	} {
		require.Contains(t, s, want)
	}
	// the document's warning that repeats an analysis's is one footnote
	require.Equal(t, 1, strings.Count(s, "2 entries with a missing covariate were left out"))
	require.NotContains(t, s, "<script")
	require.NotContains(t, s, "%!", "a format verb without its value")
	// the B group's suppressed event count never shows a number
	require.NotContains(t, s, "<td class=\"num\">0</td>")

	it, err := RenderHTML(fixtureReport(t, format.IT), HTMLOptions{Lang: format.IT})
	require.NoError(t, err)
	require.NotContains(t, string(it), "%!")
	for _, want := range []string{"1,49 (1,18–1,87)", "&lt; 0,001", "Metodi", "Risultati", "dati fino al 31 dic 2019", "Gli assistiti sono entrati"} {
		require.Contains(t, string(it), want)
	}
}

// TestHTMLExamples makes the protocol part of a report (methods, design,
// appendix) for every example, in both languages, without results.
func TestHTMLExamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "docs", "examples", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		p, err := cohort.DecodeBytes(b)
		require.NoError(t, err)
		for _, lang := range []format.Lang{format.EN, format.IT} {
			r, err := NewReport(p, lang)
			require.NoError(t, err, f)
			got, err := RenderHTML(r, HTMLOptions{Lang: lang})
			require.NoError(t, err, f)
			require.Contains(t, string(got), "<svg", f)
			require.NotContains(t, string(got), "%!", f)
		}
	}
}

// TestHTMLWellFormed parses the page as XML after the HTML5 doctype and
// void elements, a cheap check that every tag closes.
func TestHTMLWellFormed(t *testing.T) {
	t.Parallel()
	got, err := RenderHTML(fixtureReport(t, format.EN), HTMLOptions{Lang: format.EN})
	require.NoError(t, err)
	body := strings.TrimPrefix(string(got), "<!DOCTYPE html>\n")
	body = strings.ReplaceAll(body, `<meta charset="utf-8">`, "")
	body = strings.ReplaceAll(body, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`, "")
	body = strings.ReplaceAll(body, `<meta name="viewport" content="width=device-width, initial-scale=1">`, "")
	dec := xml.NewDecoder(strings.NewReader(body))
	dec.Strict = true
	for {
		_, err := dec.Token()
		if err != nil {
			require.ErrorContains(t, err, "EOF")
			break
		}
	}
}

// TestChartSVG: the chart served for an analysis is byte for byte the one
// inlined in the report.
func TestChartSVG(t *testing.T) {
	t.Parallel()
	r := fixtureReport(t, format.EN)
	r.Sections = append(r.Sections, Section{Name: "attrition", Kind: "attrition"})
	page, err := RenderHTML(r, HTMLOptions{Lang: format.EN})
	require.NoError(t, err)
	for _, name := range []string{"attrition", "km", "crude", "adjusted", "rates", "by-sex/F"} {
		svg, err := ChartSVG(r, name, HTMLOptions{Lang: format.EN})
		require.NoError(t, err, name)
		require.True(t, bytes.HasPrefix(svg, []byte("<svg")), name)
		require.True(t, bytes.Contains(page, svg), "%s: the served chart is the report's", name)
	}
	for _, name := range []string{"table1", "logit", "nope", "by-sex/M", "by-sex/X"} {
		_, err := ChartSVG(r, name, HTMLOptions{})
		require.ErrorIs(t, err, ErrNoChart, name)
	}
}
