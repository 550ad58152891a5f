package suppress_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/report/results"
	"github.com/beaver-analytics/beaver/report/suppress"
	"github.com/beaver-analytics/beaver/stats"
)

// smallCounts lists every count from 1 to k-1 in a JSON document.
func smallCounts(t *testing.T, b []byte, k float64) []string {
	t.Helper()
	out, err := suppress.SmallCounts(b, int64(k))
	require.NoError(t, err)
	return out
}

// TestDocumentsHaveNoSmallCounts raises k to 10 on the example documents
// (computed with k = 5): no count from 1 to 9 remains anywhere.
func TestDocumentsHaveNoSmallCounts(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../results/testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		doc, err := results.Decode(b)
		require.NoError(t, err, f)
		before := smallCounts(t, b, 10)
		suppress.Document(doc, 10)
		out, err := json.Marshal(doc)
		require.NoError(t, err)
		require.Empty(t, smallCounts(t, out, 10), "%s", f)
		require.Equal(t, 10, doc.MinCount)
		t.Logf("%s: %d counts from 1 to 9 hidden", filepath.Base(f), len(before))
	}
}

func ptr(n int64) results.Count { return &n }

func str(s string) *string { return &s }

// TestRatesLeak: naive suppression hides 3 events but shows 53.10 per
// 1,000 person-years beside 56.50 person-years (53.10 × 56.50 / 1000 = 3).
func TestRatesLeak(t *testing.T) {
	t.Parallel()
	r := &results.Rates{Per: 1000, Groups: []results.GroupRate{
		{GroupRate: &stats.GroupRate{Group: str("A"), Events: 40, PersonTime: 800, Crude: 50, CrudeLower: 35, CrudeUpper: 68, RateRatio: stats.NA, RRLower: stats.NA, RRUpper: stats.NA}, Events: ptr(40)},
		{GroupRate: &stats.GroupRate{Group: str("B"), Events: 3, PersonTime: 56.5, Crude: 53.10, CrudeLower: 11, CrudeUpper: 155, RateRatio: 1.062, RRLower: 0.33, RRUpper: 3.4}, Events: ptr(3)},
	}}
	doc := &results.Document{MinCount: 5, Analyses: map[string]*results.AnalysisResult{"r": {Kind: results.KindRates, Result: r}}}
	suppress.Document(doc, 5)
	b := r.Groups[1]
	require.Nil(t, b.Events)
	require.True(t, b.Suppressed)
	for _, f := range []stats.Float{b.Crude, b.CrudeLower, b.CrudeUpper, b.RateRatio, b.RRLower, b.RRUpper} {
		require.True(t, math.IsNaN(float64(f)), "a figure that gives the events back with the person-time")
	}
	require.EqualValues(t, 50, r.Groups[0].Crude, "the other group keeps its rate")
}

// TestDescriptiveLeaks: a binary count of 6 at 75% shown beside its
// group's n gives n = 8 and the hidden complement 2; a categorical level
// hidden alone is n minus the shown ones.
func TestDescriptiveLeaks(t *testing.T) {
	t.Parallel()
	pct := func(f float64) *stats.Float { v := stats.Float(f); return &v }
	d := &results.Descriptive{By: "exposure", Reference: str("A"),
		Groups: []results.DescGroup{{Group: str("A"), N: ptr(8)}, {Group: str("B"), N: ptr(100)}},
		Variables: []results.DescVar{
			{Covariate: "diabetes", Type: results.VarBinary, Groups: []results.DescCell{
				{N: ptr(8), Missing: ptr(0), Count: ptr(6), Percent: pct(75)},
				{N: ptr(100), Missing: ptr(0), Count: ptr(40), Percent: pct(40)},
			}, SMD: []stats.Float{stats.NA, 0.7}},
			{Covariate: "region", Type: results.VarCategorical, Groups: []results.DescCell{
				{N: ptr(8), Missing: ptr(0)}, {N: ptr(100), Missing: ptr(0)},
			}, Levels: []results.DescLevel{
				{Level: "north", Groups: []results.DescLevelCut{{Count: ptr(8), Percent: 100}, {Count: ptr(2), Percent: 2}}},
				{Level: "south", Groups: []results.DescLevelCut{{Count: ptr(0), Percent: 0}, {Count: ptr(60), Percent: 60}}},
				{Level: "centre", Groups: []results.DescLevelCut{{Count: ptr(0), Percent: 0}, {Count: ptr(38), Percent: 38}}},
			}, SMD: []stats.Float{stats.NA, 0.5}},
		}}
	doc := &results.Document{MinCount: 5, Analyses: map[string]*results.AnalysisResult{"t": {Kind: results.KindDescriptive, Result: d}}}
	suppress.Document(doc, 5)
	bin := d.Variables[0].Groups[0]
	require.Nil(t, bin.Count, "6 of 8: the complement 2 is small")
	require.True(t, math.IsNaN(float64(*bin.Percent)))
	require.True(t, math.IsNaN(float64(d.Variables[0].SMD[1])), "the SMD against a hidden reference count")
	lv := d.Variables[1].Levels
	require.Nil(t, lv[0].Groups[1].Count, "2 in the north of B")
	require.Nil(t, lv[2].Groups[1].Count, "and the smallest other level, so that 100 − shown does not give the 2")
	require.NotNil(t, lv[1].Groups[1].Count)
}

// TestAttritionLeak: lines of 100 and 98 persons show 2 excluded.
func TestAttritionLeak(t *testing.T) {
	t.Parallel()
	doc := &results.Document{MinCount: 5, Attrition: []results.AttritionLine{
		{Line: 0, Persons: ptr(100), Entries: ptr(120)},
		{Line: 1, Persons: ptr(98), Entries: ptr(110)},
		{Line: 2, Persons: ptr(90), Entries: ptr(100)},
	}}
	suppress.Document(doc, 5)
	require.Nil(t, doc.Attrition[1].Persons)
	require.NotNil(t, doc.Attrition[1].Entries, "120 → 110 → 100 shows 10 each")
	require.EqualValues(t, 90, *doc.Attrition[2].Persons)
}
