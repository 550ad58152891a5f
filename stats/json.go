package stats

import (
	"math"
	"strconv"
)

// Float is a float64 that encodes to JSON as null when it is NaN or
// infinite, the way R reports NA. Use it for every value in a result that R
// may report as NA (a median not reached, a standard error where S(t)=0).
type Float float64

// NA is the value that encodes as null.
var NA = Float(math.NaN())

// MarshalJSON encodes f with the shortest representation that round-trips,
// or null when f is NaN or ±Inf.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// UnmarshalJSON decodes a number, or null as NA.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = NA
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// IsNA reports whether f is NaN or infinite (encoded as null).
func (f Float) IsNA() bool {
	v := float64(f)
	return math.IsNaN(v) || math.IsInf(v, 0)
}

// Timing reports, in milliseconds, how long reading the input and fitting
// took. It is set by the CLI only; study results leave it nil so that the
// same protocol gives byte-identical documents.
type Timing struct {
	ReadMS float64 `json:"read"`
	FitMS  float64 `json:"fit"`
}

// Test is a chi-square test: statistic, degrees of freedom and p-value.
type Test struct {
	Chi2 Float `json:"chi2"`
	DF   int   `json:"df"`
	P    Float `json:"p"`
}
