package stats

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Design is a model matrix without intercept column, row-major.
type Design struct {
	Names []string  // term names; a categorical column gives "name=level" for each non-reference level
	N, P  int       // rows and columns
	X     []float64 // N*P, row-major: X[i*P+j]
}

// Design builds the model matrix of the given rows. Columns listed in
// categorical use treatment coding: levels sorted numerically when all parse
// as numbers, otherwise by byte order (sort.Strings, i.e. R with
// LC_COLLATE=C); the first level is the reference. Other covariates must be
// numeric. Terms follow the order of covariates, each categorical column
// expanding in place; every categorical column must be among covariates.
func (f *Frame) Design(rows []int, covariates, categorical []string) (*Design, error) {
	isCat := make(map[string]bool, len(categorical))
	for _, c := range categorical {
		if !slices.Contains(covariates, c) {
			return nil, fmt.Errorf("design: categorical column %q is not among the covariates", c)
		}
		isCat[c] = true
	}
	seen := make(map[string]bool, len(covariates))
	for _, c := range covariates {
		if seen[c] {
			return nil, fmt.Errorf("design: covariate %q listed twice", c)
		}
		seen[c] = true
		if _, err := f.column(c); err != nil {
			return nil, fmt.Errorf("design: %w", err)
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("design: no rows to use")
	}

	// Each covariate becomes one or more columns of X, filled by fill.
	type term struct {
		names []string
		fill  func(x []float64, stride int) // writes len(names) columns starting at x[0]
	}
	terms := make([]term, 0, len(covariates))
	for _, c := range covariates {
		if !isCat[c] {
			v, err := f.Floats(c, rows)
			if err != nil {
				return nil, fmt.Errorf("design: %w", err)
			}
			terms = append(terms, term{names: []string{c}, fill: func(x []float64, stride int) {
				for i, vi := range v {
					x[i*stride] = vi
				}
			}})
			continue
		}
		raw, err := f.Strings(c, rows)
		if err != nil {
			return nil, fmt.Errorf("design: %w", err)
		}
		levels, code, err := factor(c, raw, func(k int) int { return f.Line(rows[k]) })
		if err != nil {
			return nil, fmt.Errorf("design: %w", err)
		}
		names := make([]string, len(levels)-1)
		for l := range names {
			names[l] = c + "=" + levels[l+1]
		}
		terms = append(terms, term{names: names, fill: func(x []float64, stride int) {
			for i, l := range code {
				if l > 0 {
					x[i*stride+l-1] = 1
				}
			}
		}})
	}
	d := &Design{N: len(rows)}
	for _, t := range terms {
		d.Names = append(d.Names, t.names...)
	}
	d.P = len(d.Names)
	d.X = make([]float64, d.N*d.P)
	col := 0
	for _, t := range terms {
		t.fill(d.X[col:], d.P)
		col += len(t.names)
	}
	return d, nil
}

// factor codes a categorical column: it returns the sorted levels and each
// value's level index (0 is the reference). line maps a value's position to
// its file line for errors.
func factor(col string, raw []string, line func(k int) int) (levels []string, code []int, err error) {
	index := map[string]int{}
	keys := make([]string, len(raw))
	for k, s := range raw {
		t := strings.TrimSpace(s)
		if t == "" || t == "NA" {
			return nil, nil, fmt.Errorf("column %q, line %d: missing value", col, line(k))
		}
		keys[k] = t
		if _, ok := index[t]; !ok {
			index[t] = len(levels)
			levels = append(levels, t)
		}
	}
	if len(levels) < 2 {
		return nil, nil, fmt.Errorf("column %q: only one level %q among the rows used", col, levels[0])
	}
	levels = SortLevels(levels)
	for l, s := range levels {
		index[s] = l
	}
	code = make([]int, len(raw))
	for k, t := range keys {
		code[k] = index[t]
	}
	return levels, code, nil
}

// SortLevels returns the levels of a categorical variable in Beaver's order:
// numerically when all parse as numbers (ties, such as "1" and "1.0", by
// bytes), otherwise by byte order (sort.Strings, i.e. R with LC_COLLATE=C).
// The first level is the reference of treatment coding.
func SortLevels(levels []string) []string {
	out := slices.Clone(levels)
	nums := make(map[string]float64, len(out))
	for _, s := range out {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) {
			sort.Strings(out)
			return out
		}
		nums[s] = v
	}
	sort.Slice(out, func(a, b int) bool {
		if nums[out[a]] != nums[out[b]] {
			return nums[out[a]] < nums[out[b]]
		}
		return out[a] < out[b]
	})
	return out
}

// aliasing is what dropAliased found: the reduced design, the original
// index of each kept column, and the dropped columns with the reason.
type aliasing struct {
	d        *Design
	keep     []int
	dropped  []string
	warnings []string
}

// dropAliased removes from d, as R's lm and glm report NA for them, the
// columns with no variation and then, one at a time, the first column that
// bad reports as a linear combination of the intercept and the columns
// before it (bad returns its index among d's columns, or -1). model names
// the R function in the warnings.
func dropAliased(d *Design, model string, bad func(*Design) int) aliasing {
	a := aliasing{d: d, keep: make([]int, d.P)}
	for j := range a.keep {
		a.keep[j] = j
	}
	why := map[int]string{}
	var varying []int
	for j := range d.P {
		constant := true
		for i := 1; i < d.N && constant; i++ {
			constant = d.X[i*d.P+j] == d.X[j]
		}
		if constant && d.N > 0 {
			why[j] = fmt.Sprintf("it has no variation (all values are %v)", d.X[j])
			continue
		}
		varying = append(varying, j)
	}
	a.d, a.keep = subsetDesign(d, varying), varying
	for {
		j := bad(a.d)
		if j < 0 {
			break
		}
		why[a.keep[j]] = "it is a linear combination of the intercept and the terms before it (aliased)"
		a.keep = slices.Delete(slices.Clone(a.keep), j, j+1)
		a.d = subsetDesign(d, a.keep)
	}
	for j := range d.P {
		if w, ok := why[j]; ok {
			a.dropped = append(a.dropped, d.Names[j])
			a.warnings = append(a.warnings, fmt.Sprintf("term %q was left out of the model: %s; its coefficient is NA, as R's %s reports it", d.Names[j], w, model))
		}
	}
	return a
}

// subsetDesign returns the columns cols of d (d itself when all are kept).
func subsetDesign(d *Design, cols []int) *Design {
	if len(cols) == d.P {
		return d
	}
	s := &Design{N: d.N, P: len(cols), Names: make([]string, len(cols)), X: make([]float64, d.N*len(cols))}
	for k, j := range cols {
		s.Names[k] = d.Names[j]
	}
	for i := range d.N {
		row, out := d.X[i*d.P:(i+1)*d.P], s.X[i*s.P:(i+1)*s.P]
		for k, j := range cols {
			out[k] = row[j]
		}
	}
	return s
}

// The magnitudes of covariate values (and of a linear model's outcome) the
// fitters accept: 0, or between MinMagnitude and MaxMagnitude. Squares and
// sums over a billion rows of such values stay far from overflow and from
// subnormal numbers; outside, a fit fails with "singular" or a non-finite
// log-likelihood, so the value is refused up front with its column and row.
const (
	MaxMagnitude = 1e100
	MinMagnitude = 1e-100
)

// valueProblem says what is wrong with a covariate value, or "" when it is
// fine: not finite, or outside the magnitudes the fitters accept.
func valueProblem(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Sprintf("%v is not a finite number", v)
	case v == 0:
		return ""
	case math.Abs(v) > MaxMagnitude:
		return fmt.Sprintf("%v is too large: values must be 0 or of magnitude %g to %g; rescale the column", v, MinMagnitude, MaxMagnitude)
	case math.Abs(v) < MinMagnitude:
		return fmt.Sprintf("%v is too small: values must be 0 or of magnitude %g to %g (subnormal and near-zero values lose precision); rescale the column", v, MinMagnitude, MaxMagnitude)
	}
	return ""
}

// RowError reports an invalid value of a linear or logistic fit's input in
// one row (0-based index into the outcome and the design's rows), so that a
// caller can name the line of its file.
type RowError struct {
	Model  string // "linear" or "logistic"
	Row    int
	Column string // the outcome's role "outcome", or the design column's name
	Msg    string
}

func (e *RowError) Error() string {
	return fmt.Sprintf("%s: column %q, row %d: %s", e.Model, e.Column, e.Row+1, e.Msg)
}

// checkValues returns a *RowError for the first value of d (and of y, when
// not nil) that valueProblem refuses.
func checkValues(model string, y []float64, d *Design) error {
	for i, v := range y {
		if msg := valueProblem(v); msg != "" {
			return &RowError{Model: model, Row: i, Column: "outcome", Msg: msg}
		}
	}
	for k, v := range d.X {
		if msg := valueProblem(v); msg != "" {
			return &RowError{Model: model, Row: k / d.P, Column: d.Names[k%d.P], Msg: msg}
		}
	}
	return nil
}
