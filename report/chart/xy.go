package chart

import (
	"fmt"
	"hash/fnv"
	"math"

	"github.com/beaver-analytics/beaver/report/format"
)

// Series is one group of values over the categories of a bar or line
// chart, with an optional interval per value.
type Series struct {
	Label  string
	Values []float64 // one per category; NaN: missing
	Lower  []float64 // optional lower limits (error bars)
	Upper  []float64 // optional upper limits
}

// XYOptions configures Bars and Lines.
type XYOptions struct {
	Lang   format.Lang
	Title  string
	XLabel string
	YLabel string
	Width  float64 // default 640 px
	Height float64 // of the plot area; default 260 px
}

// Bars draws grouped vertical bars, one group per category and one bar per
// series, from zero, with error bars where the series has limits. Series
// differ by colour and hatching, so that they read in black and white.
func Bars(categories []string, series []Series, opts XYOptions) ([]byte, error) {
	return xyChart("bars", categories, series, opts)
}

// Lines draws one line per series over the categories (years, say), with
// a dash pattern and a marker per series; a missing value breaks the line.
func Lines(categories []string, series []Series, opts XYOptions) ([]byte, error) {
	return xyChart("lines", categories, series, opts)
}

func xyChart(kind string, cats []string, series []Series, opts XYOptions) ([]byte, error) {
	for i, s := range series {
		if len(s.Values) != len(cats) {
			return nil, fmt.Errorf("chart: %s: series %d (%q): %d values for %d categories", kind, i+1, s.Label, len(s.Values), len(cats))
		}
		if (s.Lower != nil && len(s.Lower) != len(cats)) || (s.Upper != nil && len(s.Upper) != len(cats)) {
			return nil, fmt.Errorf("chart: %s: series %d (%q): limits do not match the %d categories", kind, i+1, s.Label, len(cats))
		}
	}
	lang := opts.Lang
	W := opts.Width
	if W <= 0 {
		W = 640
	}
	ph := opts.Height
	if ph <= 0 {
		ph = 260
	}
	hi := 0.0
	for _, s := range series {
		for j, v := range s.Values {
			for _, x := range []float64{v, at(s.Upper, j)} {
				if !math.IsNaN(x) && !math.IsInf(x, 0) {
					hi = math.Max(hi, x)
				}
			}
		}
	}
	ymax := niceCeil(hi * 1.05)
	if hi == 0 {
		ymax = 1
	}
	ticks := niceTicks(0, ymax, 5)
	dec := tickDecimals(ticks)
	tickW := 0.0
	for _, t := range ticks {
		tickW = math.Max(tickW, textWidth(format.Number(lang, t, dec), fontSize, false))
	}
	left := tickW + 14
	if opts.YLabel != "" {
		left += 18
	}
	right := 12.0
	top := 8.0
	if opts.Title != "" {
		top += 20
	}
	labels := make([]string, len(series))
	for i, s := range series {
		labels[i] = s.Label
	}
	legendRows := legendRowsOf(labels, W-left-right)
	legendTop := top
	top += 18*float64(legendRows) + 6
	pw := W - left - right
	band := pw / float64(max(len(cats), 1))
	catW := 0.0
	for _, c := range cats {
		catW = math.Max(catW, textWidth(c, fontSize, false))
	}
	rotate := catW > band-4
	bottom := 22.0
	if rotate {
		bottom = 12 + catW*0.72
	}
	if opts.XLabel != "" {
		bottom += 20
	}
	H := top + ph + bottom + 4
	py := func(v float64) float64 {
		v = math.Max(0, math.Min(ymax, v))
		return top + (ymax-v)/ymax*ph
	}

	title := opts.Title
	if title == "" {
		title = opts.YLabel
	}
	s := newSVG(W, H, title)
	id := chartID(kind, cats, series, opts)
	if kind == "bars" {
		s.raw("<defs>\n")
		for i := range series {
			st := styleOf(i)
			fmt.Fprintf(&s.b, `<pattern id="%s-%d" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(%d)"><rect width="6" height="6" fill="%s"/>%s</pattern>`+"\n",
				id, i, []int{0, 45, -45, 0, 90, 45}[i%6], st.fill, hatch(i))
		}
		s.raw("</defs>\n")
	}
	if opts.Title != "" {
		s.text(4, 20, "start", `font-size="12" font-weight="bold"`, opts.Title)
	}
	for _, t := range ticks {
		y := py(t)
		s.line(left, y, left+pw, y, `stroke="#e0e0e0" stroke-width="0.6"`)
		s.text(left-6, y+3.5, "end", "", format.Number(lang, t, dec))
	}
	if opts.YLabel != "" {
		s.raw(`<text transform="translate(12 `)
		s.num(top + ph/2)
		s.raw(`) rotate(-90)" text-anchor="middle">`)
		s.esc(opts.YLabel)
		s.raw("</text>\n")
	}
	for j, c := range cats {
		x := left + band*(float64(j)+0.5)
		if rotate {
			s.raw(`<text transform="translate(`)
			s.num(x + 3)
			s.raw(" ")
			s.num(top + ph + 10)
			s.raw(`) rotate(-45)" text-anchor="end">`)
			s.esc(c)
			s.raw("</text>\n")
		} else {
			s.text(x, top+ph+16, "middle", "", c)
		}
	}
	if opts.XLabel != "" {
		s.text(left+pw/2, H-8, "middle", "", opts.XLabel)
	}
	if len(cats) == 0 || len(series) == 0 {
		s.text(left+pw/2, top+ph/2, "middle", "", lang.T("no_data"))
	}

	n := float64(max(len(series), 1))
	for i, se := range series {
		st := styleOf(i)
		if kind == "bars" {
			bw := band * 0.8 / n
			for j, v := range se.Values {
				if math.IsNaN(v) {
					continue
				}
				x := left + band*float64(j) + band*0.1 + bw*float64(i)
				s.rect(x, py(v), bw, py(0)-py(v), fmt.Sprintf(`fill="url(#%s-%d)" stroke="%s" stroke-width="0.8"`, id, i, "#000"))
				errorBar(s, x+bw/2, at(se.Lower, j), at(se.Upper, j), py)
			}
			continue
		}
		// lines
		var pts []float64
		flush := func() {
			if len(pts) >= 4 {
				s.raw(`<polyline points="`)
				for k := 0; k < len(pts); k += 2 {
					if k > 0 {
						s.raw(" ")
					}
					s.num(pts[k])
					s.raw(",")
					s.num(pts[k+1])
				}
				s.raw(`" fill="none" stroke="` + st.color + `" stroke-width="1.6"` + dashAttr(st) + "/>\n")
			}
			pts = pts[:0]
		}
		for j, v := range se.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				flush()
				continue
			}
			pts = append(pts, left+band*(float64(j)+0.5), py(v))
		}
		flush()
		for j, v := range se.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			x := left + band*(float64(j)+0.5)
			errorBar(s, x, at(se.Lower, j), at(se.Upper, j), py)
			s.marker(st.marker, x, py(v), 3.2, st.color)
		}
	}
	s.line(left, top, left, top+ph, `stroke="#000"`)
	s.line(left, top+ph, left+pw, top+ph, `stroke="#000"`)
	// legend
	if len(series) > 1 {
		x, y := 0.0, legendTop+12
		for i, l := range labels {
			st := styleOf(i)
			w := 30 + textWidth(l, fontSize, false) + 18
			if x > 0 && x+w > pw {
				x = 0
				y += 18
			}
			if kind == "bars" {
				s.rect(left+x+4, y-10, 16, 11, fmt.Sprintf(`fill="url(#%s-%d)" stroke="#000" stroke-width="0.8"`, id, i))
			} else {
				s.line(left+x, y-4, left+x+24, y-4, `stroke="`+st.color+`" stroke-width="1.6"`+dashAttr(st))
				s.marker(st.marker, left+x+12, y-4, 3.2, st.color)
			}
			s.text(left+x+30, y, "start", "", l)
			x += w
		}
	}
	return s.bytes(), nil
}

func at(xs []float64, i int) float64 {
	if xs == nil {
		return math.NaN()
	}
	return xs[i]
}

func errorBar(s *svg, x, lo, hi float64, py func(float64) float64) {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return
	}
	st := `stroke="#000" stroke-width="1.1"`
	s.line(x, py(lo), x, py(hi), st)
	s.line(x-3.5, py(lo), x+3.5, py(lo), st)
	s.line(x-3.5, py(hi), x+3.5, py(hi), st)
}

// hatch is the hatching of the i-th series' bars (none for the first).
func hatch(i int) string {
	switch i % 6 {
	case 0:
		return ""
	case 3:
		return `<circle cx="3" cy="3" r="1.1" fill="#000"/>`
	}
	return `<line x1="0" y1="0" x2="0" y2="6" stroke="#000" stroke-width="1.2"/>`
}

func legendRowsOf(labels []string, width float64) int {
	if len(labels) < 2 {
		return 0
	}
	rows, x := 1, 0.0
	for _, l := range labels {
		w := 30 + textWidth(l, fontSize, false) + 18
		if x > 0 && x+w > width {
			rows++
			x = 0
		}
		x += w
	}
	return rows
}

// chartID is a deterministic id prefix for the chart's definitions, from
// its content, so that several charts inlined in one page do not share ids.
func chartID(kind string, cats []string, series []Series, opts XYOptions) string {
	h := fnv.New64a()
	fmt.Fprint(h, kind, cats, opts.Title, opts.XLabel, opts.YLabel)
	for _, s := range series {
		fmt.Fprint(h, s.Label, s.Values, s.Lower, s.Upper)
	}
	return fmt.Sprintf("c%x", h.Sum64()>>16)
}
