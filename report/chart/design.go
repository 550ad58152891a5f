package chart

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/report/format"
)

// DesignOptions configures Design.
type DesignOptions struct {
	Lang  format.Lang
	Width float64 // default 680 px
}

// Design draws the study design of a protocol in the style of Schneeweiss
// et al., "Graphical depiction of longitudinal study designs in health care
// databases", Ann Intern Med 2019;170:398–406: day 0 (cohort entry) as a
// vertical line; below it one labelled box per time window with its day
// range, both bounds included — enrolment, washout, each criterion,
// covariate assessment windows (covariates sharing a window share a box),
// the exposure at day 0, and follow-up with what ends it. Open-ended
// windows run to the edge with an arrow. The axis is not to scale (days
// are placed on a logarithmic scale either side of day 0, so that day −1
// and day −365 both show). Placeholders of template parameters are
// written ‹name›.
//
// It reads any protocol that decodes, valid or not (the editor calls it
// as the user types), never panics, and takes well under a millisecond
// for the examples. It fails only for a nil protocol.
func Design(p *cohort.Protocol, opts DesignOptions) (svgBytes []byte, err error) {
	if p == nil {
		return nil, fmt.Errorf("chart: design: no protocol")
	}
	defer func() {
		// a protocol that decodes may still be one no one imagined; the
		// editor must get an error, never a dead server
		if r := recover(); r != nil {
			svgBytes, err = nil, fmt.Errorf("chart: design: %v", r)
		}
	}()
	d := &designer{p: p, lang: opts.Lang}
	d.rows()
	return d.draw(opts.Width), nil
}

// bound is a window bound in days: a value, a placeholder, or open.
type bound struct {
	open  bool
	v     int
	param string
}

func (b bound) String() string {
	if b.param != "" {
		return "‹" + b.param + "›"
	}
	return strconv.Itoa(b.v)
}

// designRow is one box of the diagram.
type designRow struct {
	kind       string // entry, enrolment, washout, inclusion, exclusion, covariate, exposure, followup, dates
	label      string
	start, end bound
	note       string // a line of text under the box (follow-up ends)
}

type designer struct {
	p    *cohort.Protocol
	lang format.Lang
	list []designRow
}

func (d *designer) t(key string) string { return d.lang.T(key) }

// intBound reads an Int, the placeholder's declared default standing in
// for the value where there is one.
func (d *designer) intBound(x *cohort.Int) bound {
	if x == nil {
		return bound{open: true}
	}
	if !x.IsParam() {
		return bound{v: x.V}
	}
	b := bound{param: x.Param, v: 0}
	for _, prm := range d.p.Parameters {
		if prm.Name == x.Param {
			switch v := prm.Default.(type) {
			case float64:
				b.v = int(v)
			case int:
				b.v = v
			case interface{ Int64() (int64, error) }:
				if n, err := v.Int64(); err == nil {
					b.v = int(n)
				}
			}
		}
	}
	return b
}

func (d *designer) dateText(x *cohort.Date) string {
	switch {
	case x == nil:
		return "…"
	case x.IsParam() && x.Day != "":
		y := "‹" + x.Param + "›"
		if x.AddYears != 0 {
			y = fmt.Sprintf("‹%s%+d›", x.Param, x.AddYears)
		}
		return y + "-" + x.Day
	case x.IsParam():
		return "‹" + x.Param + "›"
	}
	return strings.ReplaceAll(format.Date(d.lang, x.V), " ", "\u00a0") // a date on one line
}

func (d *designer) window(w *cohort.Window) (bound, bound, bool) {
	if w == nil {
		return bound{open: true}, bound{open: true}, false
	}
	return d.intBound(w.Start), d.intBound(w.End), w.Anchor == cohort.AnchorIndexEnd
}

func (d *designer) add(r designRow) { d.list = append(d.list, r) }

func (d *designer) rows() {
	ph := &d.p.Phases
	pop := &ph.Population
	ix := &ph.Index

	// cohort entry, day 0
	var entry string
	switch {
	case ix.Date != nil:
		entry = fmt.Sprintf(d.t("calendar_date"), d.dateText(ix.Date))
	default:
		which := "first_of"
		if ix.Occurrence == "all" {
			which = "every_of"
		}
		var parts []string
		if len(ix.Groups) > 0 {
			for _, g := range ix.Groups {
				parts = append(parts, g.Name+" = "+strings.Join(g.Events, " | "))
			}
		} else {
			parts = append(parts, strings.Join(ix.Events, " | "))
		}
		entry = fmt.Sprintf(d.t(which), strings.Join(parts, "; "))
		entry += ", " + fmt.Sprintf(d.t("accrual"), d.dateText(pop.Accrual.Start), d.dateText(pop.Accrual.End))
	}
	d.add(designRow{kind: "entry", label: fmt.Sprintf(d.t("cohort_entry_date"), entry), start: bound{}, end: bound{}})

	// continuous enrolment
	e := pop.Enrolment
	before, after := d.intBound(e.Before), d.intBound(e.After)
	if e.Before == nil {
		before = bound{}
	}
	if e.After == nil {
		after = bound{}
	}
	if before.v != 0 || before.param != "" || after.v != 0 || after.param != "" {
		label := d.t("enrolment")
		if g := d.intBound(e.MaxGap); e.MaxGap != nil && (g.v != 0 || g.param != "") {
			label = fmt.Sprintf(d.t("enrolment_gap"), g.String())
		}
		d.add(designRow{kind: "enrolment", label: label, start: neg(before), end: after})
	}

	// washout
	if w := ix.Washout; w != nil {
		scope := d.t("washout_same")
		if w.Scope == "all" {
			scope = d.t("washout_all")
		}
		days := d.intBound(&w.Days)
		d.add(designRow{kind: "washout", label: fmt.Sprintf(d.t("washout"), scope), start: neg(days), end: bound{v: -1}})
	}

	// criteria, in order
	for i := range ph.Criteria {
		d.criterion(&ph.Criteria[i])
	}

	// exposure at day 0
	if len(ix.Groups) > 0 {
		var gs []string
		for _, g := range ix.Groups {
			gs = append(gs, g.Name)
		}
		d.add(designRow{kind: "exposure", label: fmt.Sprintf(d.t("exposure_groups"), strings.Join(gs, " vs ")), start: bound{}, end: bound{}})
	}

	// covariates
	d.covariates()

	// follow-up
	f := &ph.FollowUp
	start := d.intBound(&f.Start)
	end := bound{open: true}
	if f.End.MaxDays != nil {
		m := d.intBound(f.End.MaxDays)
		end = bound{v: start.v + m.v - 1}
		if m.param != "" || start.param != "" {
			end.param = strings.Trim(start.String()+"+"+m.String()+"-1", "+")
		}
	}
	label := d.t("follow_up")
	var outs []string
	for _, o := range ph.Outcomes {
		outs = append(outs, o.Name)
	}
	if len(outs) > 0 {
		label += " (" + strings.ToLower(d.t("outcome")) + ": " + strings.Join(outs, ", ") + ")"
	}
	if f.Anchor == cohort.AnchorIndexEnd {
		label += ", " + d.t("end_index")
	}
	var ends []string
	for _, o := range f.End.Outcomes {
		ends = append(ends, o)
	}
	if f.End.Death == nil || *f.End.Death {
		ends = append(ends, d.t("end_death"))
	}
	if f.End.EnrolmentEnd == nil || *f.End.EnrolmentEnd {
		ends = append(ends, d.t("end_enrolment"))
	}
	if f.End.StudyEnd != nil {
		ends = append(ends, fmt.Sprintf(d.t("end_study"), d.dateText(f.End.StudyEnd)))
	}
	if f.End.MaxDays != nil {
		ends = append(ends, fmt.Sprintf(d.t("end_max_days"), d.intBound(f.End.MaxDays).String()))
	}
	if len(f.End.Censoring) > 0 {
		ends = append(ends, fmt.Sprintf(d.t("end_censoring"), strings.Join(f.End.Censoring, ", ")))
	}
	if dc := f.End.Discontinuation; dc != nil {
		ends = append(ends, fmt.Sprintf(d.t("end_discont"), d.intBound(&dc.GraceDays).String()))
	}
	if f.End.Switch != nil {
		ends = append(ends, d.t("end_switch"))
	}
	note := ""
	if len(ends) > 0 {
		note = fmt.Sprintf(d.t("follow_up_ends"), strings.Join(ends, "; "))
	}
	d.add(designRow{kind: "followup", label: label, start: start, end: end, note: note})
}

func neg(b bound) bound {
	if b.open {
		return b
	}
	if b.param != "" {
		return bound{v: -b.v, param: "-" + b.param}
	}
	return bound{v: -b.v}
}

// criterion adds the row of a top-level criterion.
func (d *designer) criterion(c *cohort.Criterion) {
	kind := "inclusion"
	if c.Count != nil && c.Count.AtMost != nil && *c.Count.AtMost == 0 {
		kind = "exclusion"
	}
	if c.Gap != nil {
		kind = "exclusion" // a period free of the event
	}
	prefix := d.t(kind)
	name := c.Name
	if name == "" {
		name = c.Event
	}
	row := designRow{kind: kind, label: prefix + ": " + name}
	if g := c.Gap; g != nil {
		row.label += " (" + fmt.Sprintf(d.t("gap_days"), d.intBound(&g.Days).String(), g.Event) + ")"
	}
	switch {
	case c.Group != nil:
		start, end, anyWindow := d.groupSpan(c.Group)
		if !anyWindow {
			start, end = bound{}, bound{}
		}
		row.kind = "inclusion"
		row.label = d.t("criterion") + ": " + name
		row.start, row.end = start, end
	case c.Demographic != nil:
		row.start, row.end = bound{}, bound{}
	case c.Dates != nil && c.Window == nil:
		row.kind = "dates"
		row.label += " [" + d.dateText(c.Dates.Start) + ", " + d.dateText(c.Dates.End) + "]"
		row.start, row.end = bound{open: true}, bound{open: true}
	default:
		s, e, atEnd := d.window(c.Window)
		row.start, row.end = s, e
		if atEnd {
			row.label += ", " + d.t("end_index")
		}
	}
	d.add(row)
}

// groupSpan is the union of the windows of a group's members (day 0 for a
// demographic member); anyWindow is false when no member has a window.
func (d *designer) groupSpan(g *cohort.Group) (start, end bound, anyWindow bool) {
	first := true
	merge := func(s, e bound) {
		anyWindow = true
		if first {
			start, end, first = s, e, false
			return
		}
		if s.open || (!start.open && s.v < start.v) {
			start = s
		}
		if e.open || (!end.open && e.v > end.v) {
			end = e
		}
	}
	for i := range g.Criteria {
		c := &g.Criteria[i]
		switch {
		case c.Group != nil:
			if s, e, ok := d.groupSpan(c.Group); ok {
				merge(s, e)
			}
		case c.Window != nil:
			s, e, _ := d.window(c.Window)
			merge(s, e)
		case c.Demographic != nil:
			merge(bound{}, bound{})
		}
	}
	return start, end, anyWindow
}

// covariates adds one row per distinct assessment window (covariates
// sharing a window share the row), day 0 first, and one row for the
// time-dependent ones over follow-up.
func (d *designer) covariates() {
	type key struct {
		s, e  string
		atEnd bool
	}
	var order []key
	names := map[key][]string{}
	spans := map[key][2]bound{}
	var td []string
	for _, c := range d.p.Phases.Covariates {
		if c.Timing == cohort.TimingTimeDependent {
			td = append(td, c.Name)
			continue
		}
		var s, e bound
		atEnd := false
		switch c.Kind {
		case cohort.KindClassify, cohort.KindAggregate, cohort.KindCombine, cohort.KindSum:
			continue // derived from others, drawn with them
		case cohort.KindCurrentUse:
			s, e = bound{}, bound{}
		default:
			if c.Window == nil {
				s, e = bound{}, bound{}
			} else {
				s, e, atEnd = d.window(c.Window)
			}
		}
		k := key{fmtBound(s), fmtBound(e), atEnd}
		if _, ok := names[k]; !ok {
			order = append(order, k)
			spans[k] = [2]bound{s, e}
		}
		names[k] = append(names[k], c.Name)
	}
	// day 0 first, then by start (open first), then by end
	sort.SliceStable(order, func(i, j int) bool {
		a, b := spans[order[i]], spans[order[j]]
		za, zb := isDay0(a), isDay0(b)
		if za != zb {
			return za
		}
		return boundLess(a[0], b[0], true)
	})
	for _, k := range order {
		label := d.t("covariates") + ": " + strings.Join(names[k], ", ")
		if k.atEnd {
			label += ", " + d.t("end_index")
		}
		sp := spans[k]
		d.add(designRow{kind: "covariate", label: label, start: sp[0], end: sp[1]})
	}
	if len(td) > 0 {
		start := d.intBound(&d.p.Phases.FollowUp.Start)
		d.add(designRow{kind: "covariate", label: d.t("covariates_td") + ": " + strings.Join(td, ", "), start: start, end: bound{open: true}})
	}
}

func fmtBound(b bound) string {
	if b.open {
		return "open"
	}
	return b.String() + "/" + strconv.Itoa(b.v)
}

func isDay0(sp [2]bound) bool {
	return !sp[0].open && !sp[1].open && sp[0].v == 0 && sp[1].v == 0 && sp[0].param == "" && sp[1].param == ""
}

// boundLess orders bounds, open ones first when openFirst.
func boundLess(a, b bound, openFirst bool) bool {
	if a.open != b.open {
		return a.open == openFirst
	}
	return a.v < b.v
}

// rangeText is "[-365, -1]"; an open bound is ∞.
func rangeText(s, e bound) string {
	l, r := "[", "]"
	st, en := s.String(), e.String()
	if s.open {
		l, st = "(", "-∞"
	}
	if e.open {
		r, en = ")", "+∞"
	}
	return l + st + ",\u00a0" + en + r // no break inside the brackets
}

// boxStyle is the fill and border of each kind of row: light fills that
// differ in grey level, and a word in each label, for black and white.
var boxStyle = map[string]string{
	"entry":     `fill="#fde9a9" stroke="#000"`,
	"enrolment": `fill="#ffffff" stroke="#000" stroke-dasharray="4 2"`,
	"washout":   `fill="#bdbdbd" stroke="#000"`,
	"exclusion": `fill="#d9d9d9" stroke="#000"`,
	"inclusion": `fill="#f2f2f2" stroke="#000"`,
	"dates":     `fill="#f2f2f2" stroke="#000" stroke-dasharray="2 2"`,
	"exposure":  `fill="#fde9a9" stroke="#000"`,
	"covariate": `fill="#cfe2f3" stroke="#000"`,
	"followup":  `fill="#b6dfc8" stroke="#000"`,
}

func (d *designer) draw(width float64) []byte {
	W := width
	if W <= 0 {
		W = 680
	}
	const (
		margin = 8.0
		arrow  = 16.0 // room for the arrow of an open end
		boxH   = 16.0
		lineH  = 13.0
	)
	// the finite extent of the windows, at least a year each side
	lo, hi := -365.0, 365.0
	for _, r := range d.list {
		for _, b := range []bound{r.start, r.end} {
			if !b.open {
				lo = math.Min(lo, float64(b.v))
				hi = math.Max(hi, float64(b.v)+1)
			}
		}
	}
	f := func(v float64) float64 {
		if v < 0 {
			return -math.Log1p(-v / 30)
		}
		return math.Log1p(v / 30)
	}
	x0, x1 := margin+arrow+24, W-margin-arrow-24 // open ends reach further
	flo, fhi := f(lo), f(hi)
	x := func(day float64) float64 { return x0 + (f(day)-flo)/(fhi-flo)*(x1-x0) }
	day0 := x(0)

	type laid struct {
		r            designRow
		bx, bw       float64 // box
		lines        []string
		tx           float64
		anchor       string
		y, h         float64
		noteLines    []string
		openL, openR bool
	}
	var rows []laid
	y := 40.0
	for _, r := range d.list {
		s, e := r.start, r.end
		if !s.open && !e.open && s.v > e.v {
			s, e = e, s // drawn as written would be negative width
		}
		bx := margin + 12
		if !s.open {
			bx = x(float64(s.v))
		}
		bxe := W - margin - 12
		if !e.open {
			bxe = x(float64(e.v) + 1)
		}
		if bxe-bx < 10 {
			c := (bx + bxe) / 2
			bx, bxe = c-5, c+5
		}
		bw := bxe - bx
		text := r.label + " " + rangeText(s, e)
		if r.kind == "dates" || r.kind == "entry" {
			text = r.label
		}
		tw := textWidth(text, fontSizeSmall, false)
		l := laid{r: r, bx: bx, bw: bw, openL: s.open, openR: e.open}
		switch {
		case tw <= bw-10:
			l.lines, l.tx, l.anchor = []string{text}, bx+bw/2, "middle"
		case tw <= W-margin-(bxe+6):
			l.lines, l.tx, l.anchor = []string{text}, bxe+6, "start"
		case tw <= bx-6-margin:
			l.lines, l.tx, l.anchor = []string{text}, bx-6, "end"
		default:
			right, left := W-margin-(bxe+6), bx-6-margin
			inside := bw - 10
			switch {
			case inside >= right && inside >= left:
				l.lines, l.tx, l.anchor = wrap(text, inside, fontSizeSmall, false), bx+bw/2, "middle"
			case right >= left:
				l.lines, l.tx, l.anchor = wrap(text, right, fontSizeSmall, false), bxe+6, "start"
			default:
				l.lines, l.tx, l.anchor = wrap(text, left, fontSizeSmall, false), bx-6, "end"
			}
		}
		if len(l.lines) > 3 {
			l.lines = append(l.lines[:2], clip(strings.Join(l.lines[2:], " "), W/2, fontSizeSmall, false))
		}
		l.h = math.Max(boxH, float64(len(l.lines))*lineH+3)
		if r.note != "" {
			l.noteLines = wrap(r.note, W-margin-(bx+4), fontSizeSmall, false)
		}
		l.y = y
		y += l.h + 8 + float64(len(l.noteLines))*lineH
		rows = append(rows, l)
	}
	H := y + 26

	s := newSVG(W, H, d.t("cohort_entry")+" ("+d.t("day0")+")")
	s.raw(`<g font-size="9.5">` + "\n")
	// day 0 line and its label
	s.line(day0, 28, day0, y, `stroke="#000" stroke-width="1.5"`)
	s.text(day0, 14, "middle", `font-weight="bold" font-size="11"`, d.t("cohort_entry"))
	s.text(day0, 26, "middle", `font-size="11"`, d.t("day0"))
	for _, l := range rows {
		st := boxStyle[l.r.kind]
		if st == "" {
			st = boxStyle["inclusion"]
		}
		by := l.y + (l.h-boxH)/2
		s.rect(l.bx, by, l.bw, boxH, st+` stroke-width="0.8"`)
		if l.openL {
			s.poly([]float64{l.bx - 12, by + boxH/2, l.bx, by - 2, l.bx, by + boxH + 2}, `fill="#000"`)
		}
		if l.openR {
			e := l.bx + l.bw
			s.poly([]float64{e + 12, by + boxH/2, e, by - 2, e, by + boxH + 2}, `fill="#000"`)
		}
		ty := l.y + (l.h-float64(len(l.lines))*lineH)/2 + lineH - 3
		for i, line := range l.lines {
			s.text(l.tx, ty+float64(i)*lineH, l.anchor, "", line)
		}
		for i, line := range l.noteLines {
			s.text(l.bx+4, l.y+l.h+lineH*float64(i+1)-1, "start", `font-style="italic"`, line)
		}
	}
	s.text(margin, H-8, "start", `fill="#444"`, d.t("not_to_scale"))
	s.raw("</g>\n")
	return s.bytes()
}
