package chart

import (
	"math"
	"slices"
	"strconv"
)

// YearCount is the number of rows of one flow in one calendar year, as the
// import's diagnostics count them.
type YearCount struct {
	Flow string
	Year int
	Rows int64
}

// RowsPerYear draws the data diagnostics' rows per year, one line per
// flow (flows in byte order), years from the first to the last without
// gaps: a year a flow has no row in is a missing value, which breaks its
// line, so a missing period shows.
func RowsPerYear(counts []YearCount, opts XYOptions) ([]byte, error) {
	var flows []string
	lo, hi := math.MaxInt, math.MinInt
	for _, c := range counts {
		if !slices.Contains(flows, c.Flow) {
			flows = append(flows, c.Flow)
		}
		lo, hi = min(lo, c.Year), max(hi, c.Year)
	}
	slices.Sort(flows)
	var years []string
	if len(counts) > 0 && hi-lo < 500 {
		for y := lo; y <= hi; y++ {
			years = append(years, strconv.Itoa(y))
		}
	}
	series := make([]Series, len(flows))
	for i, f := range flows {
		series[i] = Series{Label: f, Values: make([]float64, len(years))}
		for j := range years {
			series[i].Values[j] = math.NaN()
		}
	}
	for _, c := range counts {
		i, j := slices.Index(flows, c.Flow), c.Year-lo
		if j >= 0 && j < len(years) {
			if math.IsNaN(series[i].Values[j]) {
				series[i].Values[j] = 0
			}
			series[i].Values[j] += float64(c.Rows)
		}
	}
	if opts.XLabel == "" {
		opts.XLabel = opts.Lang.T("year")
	}
	if opts.YLabel == "" {
		opts.YLabel = opts.Lang.T("rows")
	}
	return Lines(years, series, opts)
}
