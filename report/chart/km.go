package chart

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/beaver-analytics/beaver/report/format"
)

// KMSeries is one Kaplan-Meier curve as the results document holds it:
// the estimate after each step (times ascending), optionally its
// confidence limits, the number at risk at each step and censoring times.
type KMSeries struct {
	Label string    // group label, shown in the legend and the risk table
	Time  []float64 // step times (days), ascending
	Surv  []float64 // S(t) from each step on
	Lower []float64 // lower confidence limit of S (nil: none; NaN: none at that step)
	Upper []float64 // upper confidence limit of S
	// NRisk is the number at risk at each step; a negative value is a
	// suppressed count. Nil: the series has no row in the risk table.
	NRisk []int
	// Censored are the times of censoring marks (optional).
	Censored []float64
}

// KMOptions configures KaplanMeier; the zero value draws survival curves
// with the default size and English labels.
type KMOptions struct {
	Lang   format.Lang
	Title  string // above the plot; empty: none
	XLabel string // default "Days since start of follow-up"
	// CumulativeIncidence draws 1 − S(t) (and its limits) instead of S(t),
	// on an axis from 0 to a round number above the highest value.
	CumulativeIncidence bool
	Bands               bool      // shade the confidence bands
	CensorMarks         bool      // draw a tick at each censoring time
	MinCount            int       // numbers at risk below it show as "<k"
	RiskTimes           []float64 // times of the numbers at risk; default the x ticks
	XMax                float64   // end of the time axis; default the last step
	Width               float64   // default 640 px
	PlotHeight          float64   // default 300 px
}

// KaplanMeier draws Kaplan-Meier curves as step functions, with optional
// confidence bands and censoring marks, and a numbers-at-risk table under
// the axis when the series carry numbers at risk. Curves of any length are
// drawn in time linear in their steps and with at most a few points per
// 0.1 px column: the drawn curve is the same as with every step.
func KaplanMeier(series []KMSeries, opts KMOptions) ([]byte, error) {
	for i := range series {
		if err := series[i].check(); err != nil {
			return nil, fmt.Errorf("chart: kaplan-meier: series %d (%q): %w", i+1, series[i].Label, err)
		}
	}
	lang := opts.Lang
	W := opts.Width
	if W <= 0 {
		W = 640
	}
	ph := opts.PlotHeight
	if ph <= 0 {
		ph = 300
	}
	xmax := opts.XMax
	if xmax <= 0 {
		for _, s := range series {
			if n := len(s.Time); n > 0 && s.Time[n-1] > xmax {
				xmax = s.Time[n-1]
			}
		}
		if xmax <= 0 {
			xmax = 1
		}
	}
	ci := opts.CumulativeIncidence
	ymin, ymax := 0.0, 1.0
	if ci {
		hi := 0.0
		for _, s := range series {
			for i, v := range s.Surv {
				if s.Time[i] > xmax {
					break
				}
				hi = math.Max(hi, 1-v)
				if opts.Bands && s.Lower != nil && !math.IsNaN(s.Lower[i]) {
					hi = math.Max(hi, 1-s.Lower[i])
				}
			}
		}
		ymax = math.Min(1, niceCeil(hi*1.05))
		if hi == 0 {
			ymax = 0.1
		}
	}
	xTicks := dayTicks(xmax)
	riskTimes := opts.RiskTimes
	if riskTimes == nil {
		riskTimes = xTicks
	}
	withRisk := false
	for _, s := range series {
		withRisk = withRisk || s.NRisk != nil
	}

	// layout
	labelW := 0.0
	for _, s := range series {
		labelW = math.Max(labelW, textWidth(s.Label, fontSizeSmall, false))
	}
	left := 58.0
	if withRisk {
		left = math.Max(left, math.Min(labelW+48, W/3))
	}
	right := 24.0
	top := 8.0
	if opts.Title != "" {
		top += 20
	}
	legendTop := top
	legendRows := legendLayout(series, W-left-right)
	top += 18*float64(legendRows) + 6
	pw := W - left - right
	H := top + ph + 44
	riskTop := H
	if withRisk {
		H += 22 + 16*float64(len(series)) + 4
	}
	sc := scale{x0: left, xk: pw / xmax, y0: top + ymax*ph/(ymax-ymin), yk: -ph / (ymax - ymin), ymin: ymin, ymax: ymax, ci: ci}
	px, py := sc.px, sc.py

	title := opts.Title
	if title == "" {
		title = lang.T("survival")
		if ci {
			title = lang.T("cum_incidence")
		}
	}
	s := newSVG(W, H, title)
	if opts.Title != "" {
		s.text(left, 20, "start", `font-size="12" font-weight="bold"`, opts.Title)
	}
	drawLegend(s, series, left, legendTop, W-left-right)

	// axes and grid
	yTicks := niceTicks(ymin, ymax, 5)
	dec := tickDecimals(yTicks)
	for _, v := range yTicks {
		y := sc.disp(v)
		s.line(left, y, left+pw, y, `stroke="#e0e0e0" stroke-width="0.6"`)
		s.text(left-6, y+3.5, "end", "", format.Number(lang, v, dec))
	}
	ylab := lang.T("survival")
	if ci {
		ylab = lang.T("cum_incidence")
	}
	s.raw(`<text transform="translate(`)
	s.num(left - 44)
	s.raw(" ")
	s.num(top + ph/2)
	s.raw(`) rotate(-90)" text-anchor="middle">`)
	s.esc(ylab)
	s.raw("</text>\n")
	for _, t := range xTicks {
		x := px(t)
		s.line(x, top+ph, x, top+ph+4, `stroke="#000"`)
		s.text(x, top+ph+16, "middle", "", format.Number(lang, t, tickDecimals(xTicks)))
	}
	xlab := opts.XLabel
	if xlab == "" {
		xlab = lang.T("days_since_fu")
	}
	s.text(left+pw/2, top+ph+36, "middle", "", xlab)

	paths := seriesPaths(series, sc, xmax, opts.Bands)

	// bands under the curves
	if opts.Bands {
		for i, se := range series {
			if se.Lower == nil || se.Upper == nil {
				continue
			}
			st := styleOf(i)
			pts := append(paths[i].up, reversePts(paths[i].lo)...)
			s.raw(`<path d="`)
			appendPath(&s.b, pts, true)
			s.raw(`" fill="` + st.fill + `" fill-opacity="0.45" stroke="none"/>` + "\n")
		}
	}
	// curves
	for i, se := range series {
		st := styleOf(i)
		pts := paths[i].curve
		s.raw(`<path d="`)
		appendPath(&s.b, pts, false)
		s.raw(`" fill="none" stroke="` + st.color + `" stroke-width="1.6"`)
		if st.dash != "" {
			s.raw(` stroke-dasharray="` + st.dash + `"`)
		}
		s.raw("/>\n")
		if opts.CensorMarks && len(se.Censored) > 0 {
			s.raw(`<path d="`)
			last := int32(math.MinInt32)
			for _, c := range se.Censored {
				if c > xmax || c < 0 || math.IsNaN(c) {
					continue
				}
				x := px(c)
				if q(x) == last {
					continue
				}
				last = q(x)
				y := py(survAt(se.Time, se.Surv, c))
				s.raw("M")
				s.num(x)
				s.raw(" ")
				s.num(y - 3.5)
				s.raw("v7")
			}
			s.raw(`" stroke="` + st.color + `" stroke-width="1.2" fill="none"/>` + "\n")
		}
	}
	// frame drawn last, over the curves' ends
	s.line(left, top, left, top+ph, `stroke="#000"`)
	s.line(left, top+ph, left+pw, top+ph, `stroke="#000"`)

	if withRisk {
		y := riskTop + 14
		s.text(6, y, "start", `font-weight="bold" font-size="9.5"`, lang.T("number_at_risk"))
		for i, se := range series {
			if se.NRisk == nil {
				continue
			}
			st := styleOf(i)
			yy := y + 16*float64(i+1)
			s.line(6, yy-3.5, 20, yy-3.5, `stroke="`+st.color+`" stroke-width="1.6"`+dashAttr(st))
			s.text(24, yy, "start", `font-size="9.5"`, clip(se.Label, left-48, fontSizeSmall, false))
			for _, t := range riskTimes {
				if t < 0 || t > xmax {
					continue
				}
				s.text(px(t), yy, "middle", `font-size="9.5"`, riskCount(lang, se, t, opts.MinCount))
			}
		}
	}
	return s.bytes(), nil
}

func (se *KMSeries) check() error {
	n := len(se.Time)
	if len(se.Surv) != n {
		return fmt.Errorf("surv has %d values, time %d", len(se.Surv), n)
	}
	if se.Lower != nil && len(se.Lower) != n {
		return fmt.Errorf("lower has %d values, time %d", len(se.Lower), n)
	}
	if se.Upper != nil && len(se.Upper) != n {
		return fmt.Errorf("upper has %d values, time %d", len(se.Upper), n)
	}
	if se.NRisk != nil && len(se.NRisk) != n {
		return fmt.Errorf("n_risk has %d values, time %d", len(se.NRisk), n)
	}
	for i, t := range se.Time {
		if math.IsNaN(t) || math.IsInf(t, 0) || t < 0 {
			return fmt.Errorf("step %d: time %v is not a finite non-negative number", i+1, t)
		}
		if i > 0 && t < se.Time[i-1] {
			return fmt.Errorf("step %d: time %v before the previous step's %v", i+1, t, se.Time[i-1])
		}
	}
	return nil
}

// scale maps times and estimates to pixels; estimates are clamped to
// [ymin, ymax] after 1 − S when ci.
type scale struct {
	x0, xk, y0, yk, ymin, ymax float64
	ci                         bool
}

func (c scale) px(t float64) float64 { return c.x0 + t*c.xk }

// py maps an estimate of S(t).
func (c scale) py(v float64) float64 {
	if c.ci {
		v = 1 - v
	}
	return c.disp(v)
}

// disp maps a value of the y axis as shown.
func (c scale) disp(v float64) float64 {
	if v < c.ymin {
		v = c.ymin
	} else if v > c.ymax {
		v = c.ymax
	}
	return c.y0 + v*c.yk
}

// kmPaths are the downsampled paths of one series.
type kmPaths struct{ curve, up, lo []int32 }

// seriesPaths computes every series' paths; the three paths of a long
// series (over 50,000 steps) are computed in parallel.
func seriesPaths(series []KMSeries, sc scale, xmax float64, bands bool) []kmPaths {
	out := make([]kmPaths, len(series))
	var wg sync.WaitGroup
	for i := range series {
		se := &series[i]
		p := &out[i]
		jobs := []func(){func() { p.curve = stairs(se.Time, se.Surv, nil, sc, xmax) }}
		if bands && se.Lower != nil && se.Upper != nil {
			jobs = append(jobs,
				func() { p.up = stairs(se.Time, se.Upper, se.Surv, sc, xmax) },
				func() { p.lo = stairs(se.Time, se.Lower, se.Surv, sc, xmax) })
		}
		for _, job := range jobs {
			if len(se.Time) > 50_000 {
				wg.Go(job)
			} else {
				job()
			}
		}
	}
	wg.Wait()
	return out
}

// stairs returns the downsampled step path of ys (NaN: the value of alt at
// that step, or the step is skipped) from time 0 to the last step within
// xmax.
func stairs(ts, ys, alt []float64, sc scale, xmax float64) []int32 {
	var p polyline
	prev := sc.py(1)
	p.add(sc.px(0), prev)
	for i, t := range ts {
		if t > xmax {
			p.add(sc.px(xmax), prev)
			break
		}
		v := ys[i]
		if v != v { // NaN
			if alt == nil || alt[i] != alt[i] {
				continue
			}
			v = alt[i]
		}
		y := sc.py(v)
		p.addStep(sc.px(t), prev, y)
		prev = y
	}
	return p.points()
}

func reversePts(pts []int32) []int32 {
	out := make([]int32, 0, len(pts))
	for i := len(pts) - 2; i >= 0; i -= 2 {
		out = append(out, pts[i], pts[i+1])
	}
	return out
}

// survAt is S(t): the estimate of the last step at or before t.
func survAt(ts, ss []float64, t float64) float64 {
	i := sort.Search(len(ts), func(i int) bool { return ts[i] > t })
	if i == 0 {
		return 1
	}
	return ss[i-1]
}

// riskCount is the number at risk at time t: that of the first step at or
// after t (nobody leaves between steps), 0 after the last step.
func riskCount(lang format.Lang, se KMSeries, t float64, k int) string {
	i := sort.SearchFloat64s(se.Time, t)
	n := 0
	if i < len(se.Time) {
		n = se.NRisk[i]
	}
	if n < 0 {
		return format.Count(lang, nil, k)
	}
	return format.Count(lang, &n, k)
}

func dashAttr(st style) string {
	if st.dash == "" {
		return ""
	}
	return ` stroke-dasharray="` + st.dash + `"`
}

// tickDecimals is the number of decimals that writes every tick exactly.
func tickDecimals(ts []float64) int {
	d := 0
	for _, t := range ts {
		for d < 6 && math.Abs(t*math.Pow(10, float64(d))-math.Round(t*math.Pow(10, float64(d)))) > 1e-6 {
			d++
		}
	}
	return d
}

// legendLayout returns how many rows the legend of the series takes.
func legendLayout(series []KMSeries, width float64) int {
	if len(series) < 2 {
		return 0
	}
	rows, x := 1, 0.0
	for _, s := range series {
		w := 30 + textWidth(s.Label, fontSize, false) + 18
		if x > 0 && x+w > width {
			rows++
			x = 0
		}
		x += w
	}
	return rows
}

// drawLegend writes the legend (a line sample and the label per series);
// one series needs none.
func drawLegend(s *svg, series []KMSeries, left, top, width float64) {
	if len(series) < 2 {
		return
	}
	x, y := 0.0, top+12
	for i, se := range series {
		st := styleOf(i)
		w := 30 + textWidth(se.Label, fontSize, false) + 18
		if x > 0 && x+w > width {
			x = 0
			y += 18
		}
		s.line(left+x, y-4, left+x+24, y-4, `stroke="`+st.color+`" stroke-width="1.6"`+dashAttr(st))
		s.text(left+x+30, y, "start", "", se.Label)
		x += w
	}
}
