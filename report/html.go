package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/report/chart"
	"github.com/beaver-analytics/beaver/report/format"
)

// HTMLOptions configures the HTML report: its language and the title
// block's fields that the results document does not hold (HTML and
// FromResults copy them into the Report; RenderHTML reads only Lang).
type HTMLOptions struct {
	Lang    format.Lang
	Author  string
	RunID   string
	RunDate string // "2026-12-04"
}

// NewReport fills the protocol's parts of a report: title, name, the
// methods text (cohort.Describe) in the language, the design diagram and
// the protocol as indented JSON. p should be valid (bound or not).
func NewReport(p *cohort.Protocol, lang format.Lang) (*Report, error) {
	if p == nil {
		return nil, fmt.Errorf("report: no protocol")
	}
	methods, err := cohort.Describe(p, string(lang))
	if err != nil {
		return nil, fmt.Errorf("report: methods: %w", err)
	}
	design, err := chart.Design(p, chart.DesignOptions{Lang: lang})
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	pj, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: encode the protocol: %w", err)
	}
	title := p.Title
	if title == "" {
		title = p.Name
	}
	return &Report{Title: title, Name: p.Name, Methods: methods, DesignSVG: design, ProtocolJSON: pj}, nil
}

// RenderHTML writes the report as one self-contained HTML page (styles
// inline, charts as inline SVG, no script, a CSP that loads nothing), the
// same for the browser and for the PDF. It is a pure function: the same
// report gives the same bytes.
func RenderHTML(r *Report, opts HTMLOptions) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("report: no report")
	}
	h := &htmlWriter{r: r, lang: opts.Lang, k: r.MinCount}
	h.footnoteIndex()
	h.page()
	return h.b.Bytes(), nil
}

type htmlWriter struct {
	b       bytes.Buffer
	r       *Report
	lang    format.Lang
	k       int
	figures int
	tables  int
	notes   []string       // footnotes, in order
	noteOf  map[string]int // footnote text → its number
	supp    bool           // the current table shows a suppressed count
}

func (h *htmlWriter) t(key string) string { return h.lang.T(key) }

func (h *htmlWriter) w(s string) { h.b.WriteString(s) }

// e writes text escaped.
func (h *htmlWriter) e(s string) { h.b.WriteString(html.EscapeString(s)) }

func (h *htmlWriter) el(tag, attrs, text string) {
	h.w("<" + tag + attrs + ">")
	h.e(text)
	h.w("</" + tag + ">")
}

// count writes a count, "<k" when suppressed or below k (noted for the
// table's note).
func (h *htmlWriter) count(n *int64) string {
	if n == nil || (h.k > 0 && *n < int64(h.k)) {
		if h.k > 0 {
			h.supp = true
		}
		var v *int
		return format.Count(h.lang, v, h.k)
	}
	return format.Int(h.lang, int(*n))
}

// footnoteIndex numbers the warnings: each section's own (and its
// classes'), then the document's that no section holds.
func (h *htmlWriter) footnoteIndex() {
	h.noteOf = map[string]int{}
	add := func(s string) {
		if _, ok := h.noteOf[s]; !ok {
			h.notes = append(h.notes, s)
			h.noteOf[s] = len(h.notes)
		}
	}
	var walk func(s *Section)
	walk = func(s *Section) {
		for _, w := range s.Warnings {
			add(w)
		}
		if s.Error != "" {
			add(s.Error)
		}
		for i := range s.Classes {
			walk(&s.Classes[i].Section)
		}
	}
	for i := range h.r.Sections {
		walk(&h.r.Sections[i])
	}
	for _, w := range h.r.Warnings {
		held := false
		for n := range h.noteOf {
			if strings.HasSuffix(w, n) {
				held = true
				break
			}
		}
		if !held {
			add(w)
		}
	}
}

// refs writes the superscript references of a section's warnings.
func (h *htmlWriter) refs(ws []string) {
	for _, w := range ws {
		if n, ok := h.noteOf[w]; ok {
			fmt.Fprintf(&h.b, `<sup><a href="#note-%d">%d</a></sup>`, n, n)
		}
	}
}

func (h *htmlWriter) page() {
	r := h.r
	fmt.Fprintf(&h.b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n", html.EscapeString(string(h.lang)))
	h.w(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` + "\n")
	h.w(`<meta name="viewport" content="width=device-width, initial-scale=1">` + "\n")
	h.el("title", "", r.Title)
	h.w("\n<style>" + printCSS + "</style>\n</head>\n<body>\n")
	h.titleBlock()
	h.methods()
	h.results()
	h.notesSection()
	h.appendix()
	h.w("</body>\n</html>\n")
}

func (h *htmlWriter) titleBlock() {
	r := h.r
	h.w("<header>\n")
	h.el("h1", "", r.Title)
	h.w("\n<dl class=\"meta\">\n")
	item := func(key, val string) {
		if val == "" {
			return
		}
		h.el("dt", "", h.t(key))
		h.el("dd", "", val)
		h.w("\n")
	}
	item("study", r.Name)
	item("author", r.Author)
	run := dateOr(h.lang, r.RunDate)
	if r.RunID != "" {
		run = strings.TrimSuffix("#"+r.RunID+", "+run, ", ")
	}
	item("run", run)
	if r.DataVersion != 0 || r.DataEnd != "" {
		item("data_version", fmt.Sprintf(h.t("data_version_fmt"), r.DataVersion, format.Date(h.lang, r.DataEnd)))
	}
	item("protocol_hash", r.ProtocolHash)
	item("software", r.SoftwareVersion)
	scope := h.t("scope_all")
	if len(r.Scope) > 0 {
		scope = strings.Join(r.Scope, ", ")
	}
	item("scope", scope)
	if r.MinCount > 0 {
		item("min_count", fmt.Sprintf(h.t("min_count_fmt"), r.MinCount, format.Suppressed(r.MinCount)))
	}
	h.w("</dl>\n</header>\n")
}

func dateOr(lang format.Lang, iso string) string {
	if iso == "" {
		return ""
	}
	return format.Date(lang, iso)
}

func (h *htmlWriter) methods() {
	r := h.r
	h.w("<section id=\"methods\">\n")
	h.el("h2", "", h.t("methods"))
	h.w("\n")
	for _, para := range strings.Split(strings.TrimSpace(r.Methods), "\n\n") {
		if para = strings.TrimSpace(para); para != "" {
			h.el("p", "", para)
			h.w("\n")
		}
	}
	if len(r.DesignSVG) > 0 {
		h.figure(r.DesignSVG, h.t("design_caption"))
	}
	h.w("</section>\n")
}

// figure writes an inline SVG with its numbered caption.
func (h *htmlWriter) figure(svg []byte, caption string) {
	h.figures++
	h.w("<figure>\n")
	h.b.Write(svg)
	h.w("<figcaption>")
	h.el("b", "", fmt.Sprintf(h.t("figure_n"), h.figures))
	h.w(" ")
	h.e(caption)
	h.w("</figcaption>\n</figure>\n")
}

// tableStart opens a numbered table with its caption.
func (h *htmlWriter) tableStart(caption string) {
	h.tables++
	h.supp = false
	h.w("<table>\n<caption>")
	h.e(fmt.Sprintf(h.t("table_n"), h.tables) + " " + caption)
	h.w("</caption>\n")
}

// tableEnd closes the table, with the suppression note when it hid a count.
func (h *htmlWriter) tableEnd() {
	h.w("</table>\n")
	if h.supp {
		h.w(`<p class="note">`)
		h.e(fmt.Sprintf(h.t("suppressed_note"), format.Suppressed(h.k), h.k))
		h.w("</p>\n")
	}
	h.supp = false
}

func (h *htmlWriter) th(cells ...string) {
	h.w("<thead><tr>")
	for i, c := range cells {
		cls := ""
		if i > 0 {
			cls = ` class="num"`
		}
		h.el("th", cls, c)
	}
	h.w("</tr></thead>\n")
}

// tr writes a body row; a first cell starting with two spaces is an
// indented sub-row (a level, a median, the missing).
func (h *htmlWriter) tr(cells ...string) {
	h.w("<tr>")
	for i, c := range cells {
		cls := ""
		if i > 0 {
			cls = ` class="num"`
		} else if strings.HasPrefix(c, "  ") {
			cls, c = ` class="sub"`, strings.TrimSpace(c)
		}
		h.el("td", cls, c)
	}
	h.w("</tr>\n")
}

func (h *htmlWriter) results() {
	r := h.r
	h.w("<section id=\"results\">\n")
	h.el("h2", "", h.t("results"))
	h.w("\n")
	if len(r.Attrition) > 0 {
		h.w("<div class=\"keep\">")
		h.el("h3", ` id="attrition"`, h.t("attrition"))
		h.w("\n")
		if svg, err := attritionChart(r.Attrition, h.lang, h.k); err == nil {
			h.figure(svg, h.t("attrition_caption"))
		}
		h.w("</div>\n")
		h.tableStart(h.t("attrition_table"))
		h.th(h.t("step"), h.t("persons_col"), h.t("entries_col"))
		h.w("<tbody>\n")
		for _, a := range r.Attrition {
			h.tr(a.Label, h.count(a.Persons), h.count(a.Entries))
		}
		h.w("</tbody>\n")
		h.tableEnd()
	}
	for i := range r.Sections {
		if s := &r.Sections[i]; s.Kind != "attrition" || s.Error != "" {
			h.section(s, 3) // the attrition analysis is the table above
		}
	}
	h.w("</section>\n")
}

func (h *htmlWriter) section(s *Section, level int) {
	title := s.Title
	if title == "" {
		title = s.Name
		if k := "kind_" + s.Kind; format.Has(k) && level == 3 {
			title = h.t(k) + ": " + s.Name
		}
	}
	hl := fmt.Sprintf("h%d", min(level, 4))
	h.w("<" + hl + ` id="analysis-` + html.EscapeString(s.Name) + `">`)
	h.e(title)
	if s.Outcome != "" && level == 3 {
		h.e(" — " + s.Outcome)
	}
	h.refs(s.Warnings)
	if s.Error != "" {
		h.refs([]string{s.Error})
	}
	h.w("</" + hl + ">\n")
	switch {
	case s.Error != "":
		h.w(`<p class="error">`)
		h.e(h.t("not_computed") + ": " + s.Error)
		h.w("</p>\n")
	case s.Classes != nil:
		h.w("<p>")
		h.e(fmt.Sprintf(h.t("stratified_by"), s.StratifyBy))
		h.w("</p>\n")
		for i := range s.Classes {
			c := &s.Classes[i]
			cs := c.Section
			if cs.Outcome == "" {
				cs.Outcome = s.Outcome
			}
			cs.Name = s.Name + "-" + c.Class
			cs.Title = fmt.Sprintf("%s = %s (n = %s)", s.StratifyBy, c.Class, h.count(c.N))
			h.section(&cs, level+1)
		}
	case s.Descriptive != nil:
		h.descriptive(s, s.Descriptive)
	case s.KM != nil:
		h.km(s, s.KM)
	case s.Model != nil:
		h.model(s, s.Model)
	case s.Rates != nil:
		h.rates(s, s.Rates)
	}
}

// num writes a statistic, NA for NaN.
func (h *htmlWriter) num(v float64, dec int) string { return format.Number(h.lang, v, dec) }

func (h *htmlWriter) descriptive(s *Section, d *DescriptiveView) {
	caption := h.t("descriptive_caption")
	if d.By != "" {
		caption = fmt.Sprintf(h.t("descriptive_by"), d.By)
	}
	h.tableStart(caption)
	head := []string{h.t("variable")}
	for _, g := range d.Groups {
		head = append(head, g.Label+" (n = "+h.count(g.N)+")")
	}
	if len(d.Groups) > 1 {
		head = append(head, "SMD")
	}
	h.th(head...)
	h.w("<tbody>\n")
	smd := func(v DescVariable) []string {
		if len(d.Groups) < 2 {
			return nil
		}
		var out []string
		for i, x := range v.SMD {
			if d.Groups[i].Label == d.Reference {
				continue
			}
			if math.IsNaN(x) {
				out = append(out, "—")
			} else {
				out = append(out, h.num(x, 2))
			}
		}
		return []string{strings.Join(out, "; ")}
	}
	for _, v := range d.Variables {
		row := []string{v.Label}
		switch v.Type {
		case "continuous":
			row[0] += ", " + h.t("mean_sd")
			for _, c := range v.Cells {
				row = append(row, h.meanSD(c))
			}
			h.tr(append(row, smd(v)...)...)
			row = []string{"  " + h.t("median_iqr")}
			for _, c := range v.Cells {
				row = append(row, h.num(c.Median, 1)+" ("+h.num(c.Q1, 1)+"–"+h.num(c.Q3, 1)+")")
			}
			h.tr(row...)
		case "binary":
			row[0] += ", n (%)"
			for _, c := range v.Cells {
				row = append(row, h.countPct(c.Count, c.Percent))
			}
			h.tr(append(row, smd(v)...)...)
		default:
			row[0] += ", n (%)"
			for range d.Groups {
				row = append(row, "")
			}
			h.tr(append(row, smd(v)...)...)
			for _, l := range v.Levels {
				lr := []string{"  " + l.Level}
				for i := range l.Counts {
					lr = append(lr, h.countPct(l.Counts[i], at(l.Percents, i)))
				}
				h.tr(lr...)
			}
		}
		missing := false
		for _, c := range v.Cells {
			missing = missing || c.Missing == nil || *c.Missing > 0
		}
		if missing {
			mr := []string{"  " + h.t("missing")}
			for _, c := range v.Cells {
				mr = append(mr, h.count(c.Missing))
			}
			h.tr(mr...)
		}
	}
	h.w("</tbody>\n")
	h.tableEnd()
	if d.Reference != "" && len(d.Groups) > 1 {
		h.w(`<p class="note">`)
		h.e(fmt.Sprintf(h.t("smd_note"), d.Reference))
		h.w("</p>\n")
	}
}

func at(xs []float64, i int) float64 {
	if i < len(xs) {
		return xs[i]
	}
	return math.NaN()
}

func (h *htmlWriter) meanSD(c DescCell) string {
	if math.IsNaN(c.Mean) {
		return h.count(c.N)
	}
	return h.num(c.Mean, 1) + " (" + h.num(c.SD, 1) + ")"
}

func (h *htmlWriter) countPct(n *int64, pct float64) string {
	c := h.count(n)
	if n == nil || math.IsNaN(pct) || (h.k > 0 && *n < int64(h.k)) {
		return c
	}
	return c + " (" + format.Percent(h.lang, pct) + ")"
}

func (h *htmlWriter) km(s *Section, k *KMView) {
	svg, err := kmChart(k, h.lang, h.k)
	if err == nil {
		h.figure(svg, fmt.Sprintf(h.t("km_caption"), s.Outcome))
	} else {
		h.w(`<p class="error">`)
		h.e(err.Error())
		h.w("</p>\n")
	}
	h.tableStart(fmt.Sprintf(h.t("km_table"), s.Outcome))
	h.th(h.t("group"), "n", h.t("events"), h.t("median_ci"))
	h.w("<tbody>\n")
	for _, g := range k.Groups {
		med := h.t("not_reached")
		if !math.IsNaN(g.Median) {
			med = h.num(g.Median, 0) + " " + format.CI(h.lang, g.MedianLower, g.MedianUpper, 0)
		}
		h.tr(g.Label, h.count(g.N), h.count(g.Events), med)
	}
	h.w("</tbody>\n")
	h.tableEnd()
}

func (h *htmlWriter) model(s *Section, m *ModelView) {
	measure := measureOf(m.Model)
	caption := fmt.Sprintf(h.t("model_"+m.Model), s.Outcome)
	h.tableStart(caption)
	if measure != "" {
		h.th(h.t("term"), h.t("coef"), h.t("se"), measure+" "+h.t("ci_col"), "p")
	} else {
		h.th(h.t("term"), h.t("coef"), h.t("se"), h.t("ci95"), "p")
	}
	h.w("<tbody>\n")
	for _, t := range m.Terms {
		if measure != "" {
			h.tr(t.Term, h.num(t.Coef, 3), h.num(t.SE, 3), format.RatioCI(h.lang, t.Ratio, t.Lower, t.Upper), format.P(h.lang, t.P))
		} else {
			h.tr(t.Term, h.num(t.Coef, 3), h.num(t.SE, 3), format.CI(h.lang, t.Lower, t.Upper, 3), format.P(h.lang, t.P))
		}
	}
	h.w("</tbody>\n")
	h.tableEnd()
	// n, events and the tests under the table
	var parts []string
	if m.N != nil || h.k > 0 {
		parts = append(parts, "n = "+h.count(m.N))
	}
	if m.Model != "linear" {
		parts = append(parts, h.t("events_lc")+" = "+h.count(m.Events))
	}
	if m.Model == "cox" && m.Ties != "" {
		parts = append(parts, h.t("ties")+": "+m.Ties)
	}
	if m.Model == "cox" && m.Form == "counting_process" {
		parts = append(parts, h.t("counting_process"))
	}
	if m.Model == "logistic" && m.Horizon > 0 {
		parts = append(parts, fmt.Sprintf(h.t("horizon"), m.Horizon))
	}
	if !math.IsNaN(m.R2) && m.Model == "linear" {
		parts = append(parts, "R² = "+h.num(m.R2, 3))
	}
	for _, t := range m.Tests {
		parts = append(parts, h.t("test_"+t.Name)+": χ² = "+h.num(t.Chi2, 2)+", "+h.t("df")+" = "+format.Int(h.lang, t.DF)+", p "+pEq(format.P(h.lang, t.P)))
	}
	h.w(`<p class="note">`)
	h.e(strings.Join(parts, "; ") + ".")
	h.w("</p>\n")
	if len(m.PH) > 0 {
		h.tableStart(h.t("ph_caption"))
		h.th(h.t("term"), "χ²", h.t("df"), "p")
		h.w("<tbody>\n")
		for _, t := range m.PH {
			h.tr(t.Name, h.num(t.Chi2, 2), format.Int(h.lang, t.DF), format.P(h.lang, t.P))
		}
		h.w("</tbody>\n")
		h.tableEnd()
	}
	if svg, err := modelChart(m, h.lang); err == nil && svg != nil {
		h.figure(svg, fmt.Sprintf(h.t("forest_caption"), measure, s.Outcome))
	}
}

// pEq writes "= 0.012" or "< 0.001".
func pEq(p string) string {
	if strings.HasPrefix(p, "<") {
		return p
	}
	return "= " + p
}

func (h *htmlWriter) rates(s *Section, rv *RatesView) {
	per := format.Int(h.lang, int(rv.Per))
	std := false
	for _, g := range rv.Groups {
		std = std || !math.IsNaN(g.Adjusted)
	}
	h.tableStart(fmt.Sprintf(h.t("rates_caption"), s.Outcome, per))
	head := []string{h.t("group"), h.t("events"), h.t("person_years"), h.t("crude_rate")}
	if std {
		head = append(head, h.t("std_rate"))
	}
	head = append(head, h.t("rate_ratio"))
	h.th(head...)
	h.w("<tbody>\n")
	for _, g := range rv.Groups {
		row := []string{g.Label, h.count(g.Events), h.num(g.PersonTime, 0), h.num(g.Crude, 2) + " " + format.CI(h.lang, g.CrudeLower, g.CrudeUpper, 2)}
		if std {
			row = append(row, h.num(g.Adjusted, 2)+" "+format.CI(h.lang, g.AdjustedLower, g.AdjustedUpper, 2))
		}
		ref := rv.Reference
		if ref == "" && len(rv.Groups) > 0 {
			ref = rv.Groups[0].Label
		}
		rr := format.NA
		switch {
		case g.Label == ref:
			rr = h.t("reference")
		case !math.IsNaN(g.RateRatio):
			rr = format.RatioCI(h.lang, g.RateRatio, g.RRLower, g.RRUpper)
		}
		h.tr(append(row, rr)...)
	}
	h.w("</tbody>\n")
	h.tableEnd()
	svg, err := ratesChart(rv, h.lang)
	if err == nil {
		h.figure(svg, fmt.Sprintf(h.t("rates_figure"), s.Outcome))
	}
}

func (h *htmlWriter) notesSection() {
	if len(h.notes) == 0 && h.k == 0 {
		return
	}
	h.w("<section id=\"notes\" class=\"footnotes\">\n")
	h.el("h2", "", h.t("notes"))
	h.w("\n<ol>\n")
	for i, n := range h.notes {
		fmt.Fprintf(&h.b, `<li id="note-%d">`, i+1)
		h.e(n)
		h.w("</li>\n")
	}
	h.w("</ol>\n")
	if h.k > 0 {
		h.w("<p>")
		h.e(fmt.Sprintf(h.t("suppressed_note"), format.Suppressed(h.k), h.k))
		h.w("</p>\n")
	}
	h.w("</section>\n")
}

func (h *htmlWriter) appendix() {
	r := h.r
	h.w("<section id=\"appendix\">\n")
	h.el("h2", "", h.t("appendix"))
	h.w("\n")
	if len(r.Steps) > 0 {
		h.tableStart(h.t("steps_caption"))
		h.th(h.t("step"), h.t("kind"), h.t("rows"), h.t("wall_ms"))
		h.w("<tbody>\n")
		for _, st := range r.Steps {
			rows, wall := format.NA, format.NA
			if st.Rows != nil {
				rows = format.Int(h.lang, int(*st.Rows))
			}
			if st.WallMS != nil {
				wall = format.Int(h.lang, int(*st.WallMS))
			}
			if st.ReusedFrom != nil {
				wall = fmt.Sprintf(h.t("reused_from"), *st.ReusedFrom)
			}
			h.tr(st.Name, st.Kind, rows, wall)
		}
		h.w("</tbody>\n")
		h.tableEnd()
		h.w("<p class=\"note\">")
		h.e(fmt.Sprintf(h.t("analyses_ms"), format.Int(h.lang, int(r.AnalysesMS))))
		h.w("</p>\n")
	}
	if len(r.ProtocolJSON) > 0 {
		h.el("h3", "", h.t("protocol_json"))
		h.w("\n<pre>")
		h.e(string(r.ProtocolJSON))
		h.w("</pre>\n")
	}
	h.w("</section>\n")
}
