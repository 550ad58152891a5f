package chart

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Font is the font family of every chart: DejaVu Sans, installed with
// Chromium's fonts (Debian fonts-dejavu-core), with a generic fallback.
const Font = "DejaVu Sans, Verdana, sans-serif"

// Font sizes, in CSS pixels (1/96 inch): at print scale 9 px is 6.75 pt.
const (
	fontSize      = 11.0
	fontSizeSmall = 9.5
	fontSizeTitle = 12.0
)

// style is how one series is drawn: a colour (Okabe-Ito, readable by the
// colour-blind) and, for black-and-white print, a dash pattern, a marker
// and a hatching.
type style struct {
	color  string
	dash   string // stroke-dasharray, "" for solid
	marker string // "circle", "square", "triangle", "diamond", "cross", "plus"
	fill   string // light fill of bands and bars
}

var styles = []style{
	{"#000000", "", "circle", "#bdbdbd"},
	{"#d55e00", "7 3", "square", "#f3c7a6"},
	{"#0072b2", "2 2", "triangle", "#a6cce3"},
	{"#009e73", "8 3 2 3", "diamond", "#a6dccb"},
	{"#cc79a7", "4 4", "cross", "#ebc7dc"},
	{"#e69f00", "1 3", "plus", "#f5d9a0"},
}

func styleOf(i int) style { return styles[i%len(styles)] }

// svg accumulates an SVG document. Coordinates are written with one decimal
// (0.1 px, below a 600-dpi printer's dot), so that output bytes are
// deterministic and small.
type svg struct {
	b bytes.Buffer
}

func newSVG(w, h float64, title string) *svg {
	s := &svg{}
	s.b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" width="`)
	s.num(w)
	s.b.WriteString(`" height="`)
	s.num(h)
	s.b.WriteString(`" viewBox="0 0 `)
	s.num(w)
	s.b.WriteByte(' ')
	s.num(h)
	s.b.WriteString(`" font-family="` + Font + `" font-size="`)
	s.num(fontSize)
	s.b.WriteString(`" role="img"`)
	if title != "" {
		s.b.WriteString(` aria-label="`)
		s.esc(title)
		s.b.WriteString(`"`)
	}
	s.b.WriteString(">\n")
	if title != "" {
		s.b.WriteString("<title>")
		s.esc(title)
		s.b.WriteString("</title>\n")
	}
	return s
}

func (s *svg) bytes() []byte {
	s.b.WriteString("</svg>\n")
	return s.b.Bytes()
}

// num writes x rounded to one decimal, without a trailing ".0".
func (s *svg) num(x float64) {
	s.b.Write(appendNum(nil, x))
}

func appendNum(dst []byte, x float64) []byte {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return append(dst, '0')
	}
	t := math.Round(x * 10)
	if t == 0 {
		return append(dst, '0')
	}
	n := int64(t)
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	dst = strconv.AppendInt(dst, n/10, 10)
	if r := n % 10; r != 0 {
		dst = append(dst, '.', byte('0'+r))
	}
	return dst
}

// esc writes text escaped for XML character data and attribute values.
func (s *svg) esc(text string) {
	s.b.WriteString(xmlEscape(text))
}

var xmlReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

// xmlEscape escapes text for XML and drops the characters XML 1.0 forbids
// (C0 controls other than tab, newline and carriage return, U+FFFE, U+FFFF,
// invalid UTF-8).
func xmlEscape(text string) string {
	clean := true
	for _, r := range text {
		if !xmlChar(r) {
			clean = false
			break
		}
	}
	if !clean {
		text = strings.Map(func(r rune) rune {
			if xmlChar(r) {
				return r
			}
			return -1
		}, text)
	}
	return xmlReplacer.Replace(text)
}

func xmlChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r == 0xFFFD: // also what an invalid byte decodes to; keep the replacement character
		return true
	case r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
		return false
	}
	return r <= 0x10FFFF
}

func (s *svg) raw(str string) { s.b.WriteString(str) }

// attr writes ` name="value"` with value rounded.
func (s *svg) attr(name string, v float64) {
	s.b.WriteByte(' ')
	s.b.WriteString(name)
	s.b.WriteString(`="`)
	s.num(v)
	s.b.WriteByte('"')
}

func (s *svg) line(x1, y1, x2, y2 float64, extra string) {
	s.b.WriteString("<line")
	s.attr("x1", x1)
	s.attr("y1", y1)
	s.attr("x2", x2)
	s.attr("y2", y2)
	s.b.WriteString(" " + extra + "/>\n")
}

func (s *svg) rect(x, y, w, h float64, extra string) {
	s.b.WriteString("<rect")
	s.attr("x", x)
	s.attr("y", y)
	s.attr("width", w)
	s.attr("height", h)
	s.b.WriteString(" " + extra + "/>\n")
}

// text writes a text element; anchor is "start", "middle" or "end"; extra
// holds further attributes (font-size, weight).
func (s *svg) text(x, y float64, anchor, extra, str string) {
	s.b.WriteString("<text")
	s.attr("x", x)
	s.attr("y", y)
	if anchor != "" && anchor != "start" {
		s.b.WriteString(` text-anchor="` + anchor + `"`)
	}
	if extra != "" {
		s.b.WriteString(" " + extra)
	}
	s.b.WriteByte('>')
	s.esc(str)
	s.b.WriteString("</text>\n")
}

// marker draws a series marker of the given kind centred on (x, y).
func (s *svg) marker(kind string, x, y, r float64, color string) {
	fill := ` fill="` + color + `" stroke="` + color + `"`
	switch kind {
	case "square":
		s.rect(x-r*0.85, y-r*0.85, 1.7*r, 1.7*r, fill[1:])
	case "triangle":
		s.poly([]float64{x, y - r*1.1, x + r, y + r*0.8, x - r, y + r*0.8}, fill[1:])
	case "diamond":
		s.poly([]float64{x, y - r*1.2, x + r, y, x, y + r*1.2, x - r, y}, fill[1:])
	case "cross":
		st := `stroke="` + color + `" stroke-width="1.5"`
		s.line(x-r, y-r, x+r, y+r, st)
		s.line(x-r, y+r, x+r, y-r, st)
	case "plus":
		st := `stroke="` + color + `" stroke-width="1.5"`
		s.line(x-r, y, x+r, y, st)
		s.line(x, y-r, x, y+r, st)
	default:
		s.b.WriteString("<circle")
		s.attr("cx", x)
		s.attr("cy", y)
		s.attr("r", r)
		s.b.WriteString(fill + "/>\n")
	}
}

func (s *svg) poly(pts []float64, extra string) {
	s.b.WriteString(`<polygon points="`)
	for i := 0; i < len(pts); i += 2 {
		if i > 0 {
			s.b.WriteByte(' ')
		}
		s.num(pts[i])
		s.b.WriteByte(',')
		s.num(pts[i+1])
	}
	s.b.WriteString(`" ` + extra + "/>\n")
}

// latin1Widths holds dejavuWidths below U+0100, for speed.
var latin1Widths = func() (t [256][2]uint16) {
	for r, w := range dejavuWidths {
		if r < 256 {
			t[r] = w
		}
	}
	return t
}()

// textWidth estimates the width in px of str in DejaVu Sans at size px,
// from the font's advance widths (no kerning).
func textWidth(str string, size float64, bold bool) float64 {
	var w int
	for _, r := range str {
		var a [2]uint16
		if r < 256 && latin1Widths[r][0] != 0 {
			a = latin1Widths[r]
		} else if x, ok := dejavuWidths[r]; ok {
			a = x
		} else {
			a = [2]uint16{700, 760}
		}
		if bold {
			w += int(a[1])
		} else {
			w += int(a[0])
		}
	}
	return float64(w) * size / 1000
}

// wrap breaks str into lines no wider than width px (a word longer than
// the width stands alone on its line). Linear in the length of str.
func wrap(str string, width, size float64, bold bool) []string {
	space := textWidth(" ", size, bold)
	var lines []string
	var cur strings.Builder
	curW := 0.0
	// split on plain spaces only: a no-break space (U+00A0) keeps its words
	for _, w := range strings.Split(str, " ") {
		if w == "" {
			continue
		}
		ww := textWidth(w, size, bold)
		if cur.Len() > 0 && curW+space+ww > width {
			lines = append(lines, cur.String())
			cur.Reset()
			curW = 0
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
			curW += space
		}
		cur.WriteString(w)
		curW += ww
	}
	if cur.Len() > 0 || len(lines) == 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// clip shortens str with an ellipsis to fit width px. Linear in the
// length of str.
func clip(str string, width, size float64, bold bool) string {
	if textWidth(str, size, bold) <= width {
		return str
	}
	room := width - textWidth("…", size, bold)
	w := 0.0
	end := 0
	for i, r := range str {
		w += textWidth(string(r), size, bold)
		if w > room {
			break
		}
		end = i + utf8.RuneLen(r)
	}
	if end == 0 {
		return "…"
	}
	return strings.TrimSpace(str[:end]) + "…"
}

// niceTicks returns about n round tick values covering [lo, hi]
// (steps of 1, 2 or 5 × 10^k).
func niceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) || math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(hi-lo, 0) {
		return []float64{lo}
	}
	step := niceStep((hi - lo) / float64(n))
	var ts []float64
	start := math.Ceil(lo/step-1e-9) * step
	for v := start; v <= hi+step*1e-9; v += step {
		ts = append(ts, math.Round(v/step)*step)
		if len(ts) > 100 {
			break
		}
	}
	return ts
}

func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	f := raw / mag
	switch {
	case f <= 1:
		return mag
	case f <= 2:
		return 2 * mag
	case f <= 5:
		return 5 * mag
	}
	return 10 * mag
}

// niceCeil rounds v up to a round number (1, 2, 2.5, 5 × 10^k).
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	for _, f := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if v <= f*mag*(1+1e-12) {
			return f * mag
		}
	}
	return 10 * mag
}

// dayTicks returns ticks for a time axis in days from 0 to max: multiples
// of a year (365 days, or several) when it covers three years or more,
// round numbers otherwise.
func dayTicks(max float64) []float64 {
	if max >= 3*365 {
		years := math.Ceil(max / 365 / 8)
		step := years * 365
		var ts []float64
		for v := 0.0; v <= max+1e-9; v += step {
			ts = append(ts, v)
		}
		return ts
	}
	return niceTicks(0, max, 6)
}
