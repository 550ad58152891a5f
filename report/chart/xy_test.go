package chart

import (
	"math"
	"strings"
	"testing"

	"github.com/beaver-analytics/beaver/report/format"
	"github.com/stretchr/testify/require"
)

func TestBarsGolden(t *testing.T) {
	t.Parallel()
	cats := []string{"ASL01", "ASL02", "ASL03 & <4>"}
	series := []Series{
		{Label: "crude", Values: []float64{41.2, 35.7, 52.3}, Lower: []float64{38.1, 31.0, 47.9}, Upper: []float64{44.5, 40.9, 57.0}},
		{Label: "standardized", Values: []float64{39.8, 37.1, math.NaN()}, Lower: []float64{36.5, 32.2, math.NaN()}, Upper: []float64{43.2, 42.5, math.NaN()}},
	}
	got, err := Bars(cats, series, XYOptions{Title: "Hip fracture per 10,000 person-years", YLabel: "per 10,000 PY"})
	require.NoError(t, err)
	golden(t, "bars_en.svg", got)
	require.Contains(t, string(got), "ASL03 &amp; &lt;4&gt;")
	// two charts of different content never share pattern ids
	other, err := Bars(cats[:2], []Series{{Label: "x", Values: []float64{1, 2}}}, XYOptions{})
	require.NoError(t, err)
	id := func(b []byte) string { s := string(b); i := strings.Index(s, `<pattern id="`); return s[i+13 : i+13+8] }
	require.NotEqual(t, id(got), id(other))

	it, err := Bars(cats, series, XYOptions{Lang: format.IT, YLabel: "per 10.000 anni-persona"})
	require.NoError(t, err)
	require.Contains(t, string(it), ">per 10.000 anni-persona</text>")
}

func TestLinesGolden(t *testing.T) {
	t.Parallel()
	years := []string{"2012", "2013", "2014", "2015", "2016", "2017", "2018", "2019"}
	series := []Series{
		{Label: "sdo", Values: []float64{10512, 10877, 11020, 10990, 11203, math.NaN(), 11500, 11678}},
		{Label: "pharmacy", Values: []float64{120345, 123456, 125000, 126789, 128000, 130100, 131000, 133333}},
		{Label: "outpatient", Values: []float64{80000, 81000, 80500, 82000, 83000, 84000, 86000, 88000}},
	}
	got, err := Lines(years, series, XYOptions{Title: "Rows per year", XLabel: "Year", YLabel: "Rows"})
	require.NoError(t, err)
	golden(t, "lines_en.svg", got)
	require.Contains(t, string(got), ">150,000</text>")
	require.Equal(t, 4, strings.Count(string(got), "<polyline"), "the missing 2017 breaks the sdo line")
}

func TestXYErrors(t *testing.T) {
	t.Parallel()
	_, err := Bars([]string{"a"}, []Series{{Label: "s", Values: []float64{1, 2}}}, XYOptions{})
	require.ErrorContains(t, err, `chart: bars: series 1 ("s"): 2 values for 1 categories`)
	for _, f := range []func([]string, []Series, XYOptions) ([]byte, error){Bars, Lines} {
		got, err := f(nil, nil, XYOptions{})
		require.NoError(t, err)
		wellFormed(t, got)
	}
}

func TestRowsPerYear(t *testing.T) {
	t.Parallel()
	counts := []YearCount{
		{"sdo", 2013, 10512}, {"pharmacy", 2013, 120345}, {"sdo", 2014, 10877},
		{"pharmacy", 2014, 123456}, {"pharmacy", 2016, 126789}, {"sdo", 2016, 11020}, {"sdo", 2016, 5},
	}
	got, err := RowsPerYear(counts, XYOptions{Lang: format.IT, Title: "Righe per anno"})
	require.NoError(t, err)
	golden(t, "rows_per_year_it.svg", got)
	s := string(got)
	require.Contains(t, s, ">2015</text>", "the missing year is on the axis")
	require.Equal(t, 2, strings.Count(s, "<polyline"), "2015 breaks both lines: 2013-2014 drawn, 2016 a lone marker")
	require.Contains(t, s, ">Anno</text>")
	empty, err := RowsPerYear(nil, XYOptions{})
	require.NoError(t, err)
	wellFormed(t, empty)
}
