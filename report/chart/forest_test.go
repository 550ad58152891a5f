package chart

import (
	"math"
	"strings"
	"testing"

	"github.com/beaver-analytics/beaver/report/format"
	"github.com/stretchr/testify/require"
)

func forestFixture() []ForestRow {
	return []ForestRow{
		{Label: "Crude", Header: true},
		{Label: "exposure=A", Estimate: 1.5234, Lower: 1.2101, Upper: 1.9177},
		{Label: "Adjusted", Header: true},
		{Label: "exposure=A", Estimate: 1.4871, Lower: 1.1802, Upper: 1.8738},
		{Label: "age", Estimate: 1.0412, Lower: 1.0301, Upper: 1.0524},
		{Label: "sex=M", Estimate: 1.31, Lower: 1.05, Upper: 1.64},
		{Label: "diabetes", Estimate: 0.42, Lower: 0.001, Upper: math.Inf(1)},
		{Label: "rare <term>", Estimate: math.NaN(), Lower: math.NaN(), Upper: math.NaN()},
	}
}

func TestForestGolden(t *testing.T) {
	t.Parallel()
	got, err := Forest(forestFixture(), ForestOptions{Title: "Acute myocardial infarction"})
	require.NoError(t, err)
	golden(t, "forest_en.svg", got)
	s := string(got)
	require.Contains(t, s, ">1.52 (1.21–1.92)</text>")
	require.Contains(t, s, ">0.42 (0.00–NA)</text>")
	require.Contains(t, s, "rare &lt;term&gt;")
	require.Equal(t, 1, strings.Count(s, ">NA</text>"))

	it, err := Forest(forestFixture()[:6], ForestOptions{Lang: format.IT, Measure: "OR"})
	require.NoError(t, err)
	golden(t, "forest_it.svg", it)
	require.Contains(t, string(it), ">1,49 (1,18–1,87)</text>")
	require.Contains(t, string(it), "OR (IC 95%)")
}

func TestForestErrors(t *testing.T) {
	t.Parallel()
	_, err := Forest([]ForestRow{{Label: "x", Estimate: -1}}, ForestOptions{})
	require.ErrorContains(t, err, `row 1 ("x"): ratio -1 is not positive`)
	got, err := Forest(nil, ForestOptions{})
	require.NoError(t, err)
	wellFormed(t, got)
}

func TestLogTicks(t *testing.T) {
	t.Parallel()
	require.Equal(t, []float64{0.1, 1, 10}, logTicks(0.05, 20))
	require.Equal(t, []float64{0.5, 1, 2}, logTicks(0.4, 2.2))
	require.Equal(t, []float64{0.7, 1, 1.5}, logTicks(0.7, 1.8))
	require.Equal(t, []float64{0.9, 1, 1.1}, logTicks(0.85, 1.15))
}
