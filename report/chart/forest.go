package chart

import (
	"fmt"
	"math"

	"github.com/beaver-analytics/beaver/report/format"
)

// ForestRow is one row of a forest plot: a term's ratio and its interval,
// or a heading.
type ForestRow struct {
	Label    string
	Estimate float64 // the ratio; NaN: not estimated (the row says NA)
	Lower    float64 // lower confidence limit; NaN or ≤ 0: none
	Upper    float64 // upper limit; NaN or +Inf: open
	Header   bool    // a heading row (bold, no estimate), e.g. a model's name
}

// ForestOptions configures Forest; the zero value draws hazard ratios.
type ForestOptions struct {
	Lang    format.Lang
	Title   string
	Measure string  // "HR", "OR", "RR"; default "HR"
	Width   float64 // default 640 px
}

// Forest draws ratios with their intervals on a log axis, a line at 1, and
// beside each row the numbers as the report writes them, "1.23 (1.05–1.45)".
// Intervals running off the axis end in an arrow.
func Forest(rows []ForestRow, opts ForestOptions) ([]byte, error) {
	lang := opts.Lang
	W := opts.Width
	if W <= 0 {
		W = 640
	}
	measure := opts.Measure
	if measure == "" {
		measure = "HR"
	}
	for i, r := range rows {
		if r.Header {
			continue
		}
		if !math.IsNaN(r.Estimate) && r.Estimate <= 0 {
			return nil, fmt.Errorf("chart: forest: row %d (%q): ratio %v is not positive", i+1, r.Label, r.Estimate)
		}
	}
	// axis range: every finite limit, and 1
	lo, hi := 1.0, 1.0
	for _, r := range rows {
		for _, v := range []float64{r.Estimate, r.Lower, r.Upper} {
			if v > 0 && !math.IsInf(v, 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	lo, hi = math.Max(lo/1.15, 0.01), math.Min(hi*1.15, 100)
	ticks := logTicks(lo, hi)
	lo, hi = math.Min(lo, ticks[0]), math.Max(hi, ticks[len(ticks)-1])

	labelW := 60.0
	for _, r := range rows {
		indent := 14.0
		if r.Header {
			indent = 4
		}
		labelW = math.Max(labelW, indent+textWidth(r.Label, fontSize, r.Header))
	}
	labelW = math.Min(labelW+8, W*0.36)
	textW := 130.0
	left, right := labelW, textW+8
	pw := W - left - right - 10
	top := 8.0
	if opts.Title != "" {
		top += 20
	}
	top += 18 // column headings
	rowH := 20.0
	ph := rowH * float64(max(len(rows), 1))
	H := top + ph + 48
	lx := func(v float64) float64 {
		return left + 10 + (math.Log(v)-math.Log(lo))/(math.Log(hi)-math.Log(lo))*(pw-10)
	}

	title := opts.Title
	if title == "" {
		title = measure + " " + lang.T("estimate_ci")
	}
	s := newSVG(W, H, title)
	if opts.Title != "" {
		s.text(4, 20, "start", `font-size="12" font-weight="bold"`, opts.Title)
	}
	s.text(W-4, top-6, "end", `font-weight="bold"`, measure+" "+lang.T("estimate_ci"))
	// reference line and axis
	s.line(lx(1), top, lx(1), top+ph, `stroke="#000" stroke-dasharray="3 3"`)
	s.line(left+10, top+ph, left+pw, top+ph, `stroke="#000"`)
	for _, t := range ticks {
		x := lx(t)
		s.line(x, top+ph, x, top+ph+4, `stroke="#000"`)
		s.text(x, top+ph+16, "middle", "", format.Number(lang, t, tickDecimals([]float64{t})))
	}
	s.text(left+10+(pw-10)/2, top+ph+36, "middle", "", measure+" ("+lang.T("log_scale")+")")

	for i, r := range rows {
		y := top + rowH*float64(i) + rowH/2
		if r.Header {
			s.text(4, y+4, "start", `font-weight="bold"`, clip(r.Label, labelW-6, fontSize, true))
			continue
		}
		s.text(14, y+4, "start", "", clip(r.Label, labelW-16, fontSize, false))
		if math.IsNaN(r.Estimate) {
			s.text(W-4, y+4, "end", "", format.NA)
			continue
		}
		s.text(W-4, y+4, "end", "", format.RatioCI(lang, r.Estimate, r.Lower, r.Upper))
		// interval
		l, u := r.Lower, r.Upper
		arrowL, arrowR := !(l > 0) || l < lo, !(u > 0) || math.IsInf(u, 1) || u > hi || math.IsNaN(u)
		xl, xu := lx(math.Max(lo, l)), lx(math.Min(hi, u))
		if !(l > 0) {
			xl = lx(lo)
		}
		if math.IsNaN(u) || math.IsInf(u, 1) {
			xu = lx(hi)
		}
		if !math.IsNaN(l) || !math.IsNaN(u) {
			s.line(xl, y, xu, y, `stroke="#000" stroke-width="1.4"`)
			if arrowL {
				s.poly([]float64{xl, y, xl + 6, y - 3.5, xl + 6, y + 3.5}, `fill="#000"`)
			} else {
				s.line(xl, y-4, xl, y+4, `stroke="#000" stroke-width="1.4"`)
			}
			if arrowR {
				s.poly([]float64{xu, y, xu - 6, y - 3.5, xu - 6, y + 3.5}, `fill="#000"`)
			} else {
				s.line(xu, y-4, xu, y+4, `stroke="#000" stroke-width="1.4"`)
			}
		}
		e := math.Max(lo, math.Min(hi, r.Estimate))
		s.rect(lx(e)-4.5, y-4.5, 9, 9, `fill="#000"`)
	}
	return s.bytes(), nil
}

// logTicks returns round ticks for a log axis over [lo, hi]: the coarsest
// of the sets 10^k, {1, 2, 5}×10^k, {1, 1.5, 2, 3, 5, 7}×10^k and
// {1, 1.25, …}×10^k that puts at least three ticks inside the range.
func logTicks(lo, hi float64) []float64 {
	sets := [][]float64{{1}, {1, 2, 5}, {1, 1.5, 2, 3, 5, 7}, {1, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 7, 8, 9}}
	var best []float64
	for _, set := range sets {
		var ts []float64
		for k := math.Floor(math.Log10(lo)) - 1; k <= math.Ceil(math.Log10(hi)); k++ {
			for _, m := range set {
				v := m * math.Pow(10, k)
				v = math.Round(v*1e6) / 1e6
				if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
					ts = append(ts, v)
				}
			}
		}
		best = ts
		if len(ts) >= 3 {
			break
		}
	}
	if len(best) == 0 {
		best = []float64{1}
	}
	return best
}
