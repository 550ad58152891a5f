package chart

import (
	"math"

	"github.com/beaver-analytics/beaver/report/format"
)

// AttritionStep is one line of the attrition table: the persons and cohort
// entries left after it. A negative count is one the results document
// suppressed.
type AttritionStep struct {
	Label   string
	Persons int
	Entries int
}

// AttritionOptions configures Attrition.
type AttritionOptions struct {
	Lang     format.Lang
	Title    string
	MinCount int     // counts below it (and suppressed ones) show as "<k"
	Width    float64 // default 640 px
}

// Attrition draws a CONSORT-like flow: one box per step with the persons
// (and entries, when they differ) left, and beside each arrow a box with
// those the step excluded. An excluded count is shown only when both
// counts it is the difference of are shown, and as "<k" below k.
func Attrition(steps []AttritionStep, opts AttritionOptions) ([]byte, error) {
	lang := opts.Lang
	W := opts.Width
	if W <= 0 {
		W = 640
	}
	k := opts.MinCount
	boxW := W * 0.52
	boxX := 8.0
	exW := W - boxX - boxW - 40
	exX := W - exW - 4
	cx := boxX + boxW/2
	lineH := 14.0
	top := 8.0
	if opts.Title != "" {
		top += 22
	}
	cnt := func(n int) string {
		if n < 0 {
			return format.Count(lang, nil, k)
		}
		return format.Count(lang, &n, k)
	}
	text := func(st AttritionStep) []string {
		lines := wrap(st.Label, boxW-16, fontSize, true)
		n := "n = " + cnt(st.Persons) + " " + lang.T("persons")
		if st.Entries != st.Persons {
			n += " (" + cnt(st.Entries) + " " + lang.T("entries") + ")"
		}
		return append(lines, n)
	}
	type placed struct {
		lines []string
		y, h  float64
	}
	var boxes []placed
	y := top
	gap := 46.0
	for _, st := range steps {
		ls := text(st)
		h := float64(len(ls))*lineH + 12
		boxes = append(boxes, placed{ls, y, h})
		y += h + gap
	}
	H := math.Max(y-gap+8, top+40)
	title := opts.Title
	if title == "" {
		title = lang.T("attrition")
	}
	s := newSVG(W, H, title)
	if opts.Title != "" {
		s.text(4, 18, "start", `font-size="12" font-weight="bold"`, opts.Title)
	}
	if len(steps) == 0 {
		s.text(W/2, top+20, "middle", "", lang.T("no_data"))
	}
	for i, b := range boxes {
		s.rect(boxX, b.y, boxW, b.h, `fill="#fff" stroke="#000" stroke-width="1"`)
		for j, l := range b.lines {
			attr := `font-weight="bold"`
			if j == len(b.lines)-1 {
				attr = ""
			}
			s.text(cx, b.y+6+lineH*float64(j+1)-3, "middle", attr, l)
		}
		if i == 0 {
			continue
		}
		prev := boxes[i-1]
		y0, y1 := prev.y+prev.h, b.y
		s.line(cx, y0, cx, y1-6, `stroke="#000" stroke-width="1.2"`)
		s.poly([]float64{cx, y1, cx - 4, y1 - 7, cx + 4, y1 - 7}, `fill="#000"`)
		// excluded, beside the arrow
		ym := (y0 + y1) / 2
		p, c := steps[i-1], steps[i]
		ex := lang.T("excluded") + ": " + excluded(lang, p.Persons, c.Persons, k) + " " + lang.T("persons")
		if excluded(lang, p.Persons, c.Persons, k) == "" {
			ex = lang.T("excluded") + ": " + lang.T("not_shown")
		} else if p.Entries != p.Persons || c.Entries != c.Persons {
			ex += " (" + excluded(lang, p.Entries, c.Entries, k) + " " + lang.T("entries") + ")"
		}
		ls := wrap(ex, exW-12, fontSizeSmall, false)
		eh := float64(len(ls))*13 + 8
		s.line(cx, ym, exX-6, ym, `stroke="#000" stroke-width="1"`)
		s.poly([]float64{exX, ym, exX - 7, ym - 4, exX - 7, ym + 4}, `fill="#000"`)
		s.rect(exX, ym-eh/2, exW, eh, `fill="#f2f2f2" stroke="#000" stroke-width="0.8"`)
		for j, l := range ls {
			s.text(exX+6, ym-eh/2+4+13*float64(j+1)-3, "start", `font-size="9.5"`, l)
		}
	}
	return s.bytes(), nil
}

// excluded is the difference of two shown counts, "<k" when it is from 1
// to k-1, or "" when either count was suppressed (or below k).
func excluded(lang format.Lang, before, after, k int) string {
	if before < 0 || after < 0 || before < k || after < k {
		return ""
	}
	d := before - after
	if d == 0 {
		return "0" // two equal shown counts: nothing to hide
	}
	return format.Count(lang, &d, k)
}
