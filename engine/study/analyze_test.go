package study

import (
	"math"
	"strings"
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
	// The plan's keys go to the lines whose text they match (a label
	// that differs, from another software version, keeps none).
	got := attrition(f, []cohort.Label{{Text: "index entries", Key: "index_days"}, {Text: "another", Key: "alive"}})
	require.Len(t, got, 2)
	require.Equal(t, "index_days", got[0].Key)
	require.Empty(t, got[1].Key)
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

// TestRatesReference: a rates analysis takes its rate ratios against the
// covariate's protocol reference, as Cox does (issue 15, point 5: it took
// the first sorted level). Expected values by hand: A has 2 events in 20
// person-years, B 4 in 10; RR of A vs B = (2/20)/(4/10) = 0.25, Wald
// interval exp(log 0.25 ± 1.959964·sqrt(1/2 + 1/4)) as
// epitools::rateratio(method = "wald").
func TestRatesReference(t *testing.T) {
	t.Parallel()
	var grp []any
	var tm, ev []any
	add := func(g string, n, events int, days float64) {
		for k := range n {
			grp = append(grp, g)
			tm = append(tm, days)
			ev = append(ev, k < events)
		}
	}
	add("A", 10, 2, 2*DaysPerYear)
	add("B", 5, 4, 2*DaysPerYear)
	f := frameOf(len(grp), map[string][]any{"cov_exposure": grp, "out_x_time": tm, "out_x_event": ev})
	a := cohort.Analysis{Name: "r", Kind: cohort.AnalysisRates, Outcome: "x", By: "exposure"}
	v, err := crudeRates(f, a, map[string]string{"exposure": "B"})
	require.NoError(t, err)
	require.Equal(t, "B", *v.Reference)
	gA, gB := v.Groups[0], v.Groups[1]
	require.Equal(t, "A", *gA.Group)
	require.InDelta(t, 0.25, float64(gA.RateRatio), 1e-12)
	se := math.Sqrt(1.0/2 + 1.0/4)
	require.InDelta(t, math.Exp(math.Log(0.25)-1.959963984540054*se), float64(gA.RRLower), 1e-9)
	require.InDelta(t, math.Exp(math.Log(0.25)+1.959963984540054*se), float64(gA.RRUpper), 1e-9)
	require.True(t, gB.RateRatio.IsNA(), "the reference has no ratio")

	// Without a reference: against the first level, as before.
	v, err = crudeRates(f, a, nil)
	require.NoError(t, err)
	require.Equal(t, "A", *v.Reference)
	require.True(t, v.Groups[0].RateRatio.IsNA())
	require.InDelta(t, 4.0, float64(v.Groups[1].RateRatio), 1e-12)

	_, err = crudeRates(f, a, map[string]string{"exposure": "C"})
	require.ErrorContains(t, err, `the reference level "C" does not occur`)
}

// TestCoxDroppedTermAndProfileCI: a covariate with no variation is left out
// as R leaves it (the analysis is fitted and warns, naming it: issue 14,
// point 14), and "ci": "profile" gives the fit's profile-likelihood limits
// (issue 15, point 7; stats checks them against R).
func TestCoxDroppedTermAndProfileCI(t *testing.T) {
	t.Parallel()
	f := frameOf(10, map[string][]any{
		"out_o_time":   {int32(1), int32(2), int32(3), int32(4), int32(5), int32(6), int32(7), int32(8), int32(9), int32(10)},
		"out_o_event":  {true, false, true, true, false, true, false, true, true, false},
		"cov_exposure": {"A", "B", "A", "B", "A", "B", "A", "B", "A", "B"},
		"cov_c":        {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0},
	})
	a := cohort.Analysis{Name: "adj", Kind: cohort.AnalysisCox, Outcome: "o", Covariates: []string{"exposure", "c"}}
	res, warns, err := coxBaseline(f, a, map[string]string{"exposure": "B"})
	require.NoError(t, err)
	require.Equal(t, []string{"c"}, res.Dropped)
	require.NotEmpty(t, warns)
	require.Contains(t, strings.Join(warns, "\n"), `"c"`)

	a.CI = "profile"
	prof, _, err := coxBaseline(f, a, map[string]string{"exposure": "B"})
	require.NoError(t, err)
	require.Equal(t, "profile", prof.CI)
	wald := res.Coefficients[0]
	pl := prof.Coefficients[0]
	require.Equal(t, wald.HR, pl.HR, "the estimate is the same")
	require.NotEqual(t, wald.HRLower, pl.HRLower, "the limits are the profile's")
}
