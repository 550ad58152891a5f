package chart

import (
	"bytes"
	"math"
)

// polyline collects the points of a path in pixels and drops, within each
// column of 0.1 px (the precision SVG coordinates are written with), every
// point but the column's first, lowest, highest and last, in their order.
// The points all round to the same x, so the path drawn is the same
// vertical stroke from the same entry to the same exit: the curve does not
// change, however many steps it has (M4 aggregation, Jugel et al., VLDB
// 2014, at the output's own resolution).
type polyline struct {
	out []int32 // x, y in tenths of a pixel, consecutive duplicates removed

	open        bool
	col         int32 // the current column's x
	first, last int32 // its first and last y
	lo, hi      int32 // its lowest and highest y
	loAt, hiAt  int   // the order in which they came
	n           int   // points in the column
}

// q rounds a coordinate in pixels to tenths (half up; math.Floor is one
// instruction on amd64, math.Round is not).
func q(v float64) int32 { return int32(math.Floor(v*10 + 0.5)) }

// add appends the point (x, y) in pixels.
func (p *polyline) add(x, y float64) {
	cx, cy := q(x), q(y)
	if p.open && cx == p.col {
		p.n++
		if cy < p.lo {
			p.lo, p.loAt = cy, p.n
		}
		if cy > p.hi {
			p.hi, p.hiAt = cy, p.n
		}
		p.last = cy
		return
	}
	p.flush()
	p.open, p.col, p.first, p.last, p.lo, p.hi = true, cx, cy, cy, cy, cy
	p.n, p.loAt, p.hiAt = 0, 0, 0
}

// addStep appends the two points of a step at x: (x, from) then (x, to),
// with one rounding of x.
func (p *polyline) addStep(x, from, to float64) {
	cx, cf, ct := q(x), q(from), q(to)
	if !p.open || cx != p.col {
		p.flush()
		p.open, p.col, p.first, p.last, p.lo, p.hi = true, cx, cf, cf, cf, cf
		p.n, p.loAt, p.hiAt = 0, 0, 0
	} else {
		p.n++
		if cf < p.lo {
			p.lo, p.loAt = cf, p.n
		}
		if cf > p.hi {
			p.hi, p.hiAt = cf, p.n
		}
	}
	p.n++
	if ct < p.lo {
		p.lo, p.loAt = ct, p.n
	}
	if ct > p.hi {
		p.hi, p.hiAt = ct, p.n
	}
	p.last = ct
}

// flush writes the current column's first, extreme and last points.
func (p *polyline) flush() {
	if !p.open {
		return
	}
	p.emit(p.col, p.first)
	if p.loAt <= p.hiAt {
		p.emit(p.col, p.lo)
		p.emit(p.col, p.hi)
	} else {
		p.emit(p.col, p.hi)
		p.emit(p.col, p.lo)
	}
	p.emit(p.col, p.last)
	p.open = false
}

func (p *polyline) emit(x, y int32) {
	n := len(p.out)
	if n >= 2 && p.out[n-2] == x && p.out[n-1] == y {
		return
	}
	// the previous point is redundant when it lies on the straight segment
	// from the one before it to this one, going on in the same direction
	if n >= 4 {
		ax, ay, bx, by := p.out[n-4], p.out[n-3], p.out[n-2], p.out[n-1]
		if (ay == by && by == y && (ax < bx) == (bx < x)) || (ax == bx && bx == x && (ay < by) == (by < y)) {
			p.out[n-2], p.out[n-1] = x, y
			return
		}
	}
	p.out = append(p.out, x, y)
}

// points ends the path and returns its points.
func (p *polyline) points() []int32 {
	p.flush()
	return p.out
}

// appendPath writes the points as SVG path data: M, then H and V where one
// coordinate stays, L otherwise.
func appendPath(b *bytes.Buffer, pts []int32, closed bool) {
	var tmp []byte
	for i := 0; i+1 < len(pts); i += 2 {
		x, y := pts[i], pts[i+1]
		switch {
		case i == 0:
			b.WriteByte('M')
			tmp = appendTenths(tmp[:0], x)
			b.Write(tmp)
			b.WriteByte(' ')
			tmp = appendTenths(tmp[:0], y)
			b.Write(tmp)
		case y == pts[i-1]:
			b.WriteByte('H')
			tmp = appendTenths(tmp[:0], x)
			b.Write(tmp)
		case x == pts[i-2]:
			b.WriteByte('V')
			tmp = appendTenths(tmp[:0], y)
			b.Write(tmp)
		default:
			b.WriteByte('L')
			tmp = appendTenths(tmp[:0], x)
			b.Write(tmp)
			b.WriteByte(' ')
			tmp = appendTenths(tmp[:0], y)
			b.Write(tmp)
		}
	}
	if closed {
		b.WriteByte('Z')
	}
}

func appendTenths(dst []byte, v int32) []byte {
	return appendNum(dst, float64(v)/10)
}
