package study

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
)

func TestAttritionSuppressed(t *testing.T) {
	t.Parallel()
	f := frameOf(4, map[string][]any{
		"line":    {int32(0), int32(1), int32(0), int32(1)},
		"label":   {"index entries", "criterion", "index entries", "criterion"},
		"persons": {int64(10), int64(2), int64(7), int64(2)},
		"entries": {int64(11), int64(2), int64(7), int64(2)},
	})
	got := attrition(f)
	require.Len(t, got, 2)
	require.Equal(t, int64(17), *got[0].Persons)
	require.Equal(t, int64(18), *got[0].Entries)
	require.False(t, got[0].Suppressed)
	require.Nil(t, got[1].Persons, "4 persons is below 5")
	require.Nil(t, got[1].Entries)
	require.True(t, got[1].Suppressed)
}

// TestCoxSeparation: an exposure whose reference level has no event
// (separation) fails the analysis with a message naming the term.
func TestCoxSeparation(t *testing.T) {
	t.Parallel()
	f := frameOf(8, map[string][]any{
		"out_o_time":   {int32(1), int32(2), int32(3), int32(4), int32(5), int32(6), int32(7), int32(8)},
		"out_o_event":  {true, true, true, true, false, false, false, false},
		"cov_exposure": {"A", "A", "A", "A", "B", "B", "B", "B"},
	})
	a := cohort.Analysis{Name: "crude", Kind: cohort.AnalysisCox, Outcome: "o", Covariates: []string{"exposure"}}
	res, _, err := coxBaseline(f, a, map[string]string{"exposure": "B"})
	require.Nil(t, res)
	require.ErrorContains(t, err, "did not converge")
	require.ErrorContains(t, err, "exposure=A")
}

func TestDesignReference(t *testing.T) {
	t.Parallel()
	f := frameOf(4, map[string][]any{
		"cov_g": {"A", "B", "C", nil},
		"cov_x": {1.5, 2.0, 3.0, 4.0},
		"cov_b": {true, false, true, true},
	})
	m, dropped, err := design(f, []int{0, 1, 2, 3}, []string{"g", "x", "b"}, "cov_", map[string]string{"g": "B"})
	require.NoError(t, err)
	require.Equal(t, 1, dropped)
	require.Equal(t, []string{"g=A", "g=C", "x", "b"}, m.names)
	require.Equal(t, []string{"g", "g", "x", "b"}, m.terms)
	require.Equal(t, []float64{1, 0, 1.5, 1, 0, 0, 2, 0, 0, 1, 3, 1}, m.x)
}
