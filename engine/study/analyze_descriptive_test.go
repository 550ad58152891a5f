package study

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/report/results"
)

// TestSMD checks the standardized differences against hand computations.
func TestSMD(t *testing.T) {
	t.Parallel()
	const tol = 1e-9
	// (10 − 8) / sqrt((2² + 4²)/2) = 2 / sqrt(10) = 0.63245553203
	require.InDelta(t, 0.6324555320336759, SMDContinuous(10, 2, 8, 4), tol)
	// (0.5 − 0.2) / sqrt((0.5·0.5 + 0.2·0.8)/2) = 0.3 / sqrt(0.205) = 0.66258915645
	require.InDelta(t, 0.6625891564490792, SMDBinary(0.5, 0.2), tol)
	// Two levels: the categorical SMD is the absolute binary one.
	require.InDelta(t, 0.6625891564490792, SMDCategorical([]float64{0.5, 0.5}, []float64{0.8, 0.2}), tol)
	// Three levels, p1 = (.5, .3, .2), p0 = (.2, .3, .5), first level left
	// out: d = (0, −0.3); S11 = (.3·.7 + .3·.7)/2 = 0.21, S22 = (.2·.8 +
	// .5·.5)/2 = 0.205, S12 = −(.3·.2 + .3·.5)/2 = −0.105; det = 0.032025;
	// d'S⁻¹d = 0.09 · 0.21 / 0.032025 = 0.59016393; sqrt = 0.76822127960.
	require.InDelta(t, 0.7682212795973759, SMDCategorical([]float64{.5, .3, .2}, []float64{.2, .3, .5}), tol)
	// The level left out does not matter.
	require.InDelta(t, 0.7682212795973759, SMDCategorical([]float64{.2, .5, .3}, []float64{.5, .2, .3}), tol)
	require.InDelta(t, 0.7682212795973759, SMDCategorical([]float64{.3, .2, .5}, []float64{.3, .5, .2}), tol)
	// A level absent from both groups is left out.
	require.InDelta(t, 0.7682212795973759, SMDCategorical([]float64{0, .5, .3, .2}, []float64{0, .2, .3, .5}), tol)
	require.Zero(t, SMDContinuous(3, 0, 3, 0))
	require.InDelta(t, 52.0, quantile7([]float64{50, 52, 54, 56, 58}, 0.25), tol)
	require.InDelta(t, 51.0, quantile7([]float64{50, 52}, 0.5), tol)
}

// TestDescriptive: a table on a few rows, checked by hand. Group A: age
// 50, 52, 54, 56, 58 twice (mean 54, SD² = 80/9), diabetes 5 of 10; group
// B (the reference): age 60…64 twice (mean 62, SD² = 20/9), diabetes 8 of
// 10; group C: 2 rows (suppressed). SMD of age, A vs B: −8 / sqrt((80/9 +
// 20/9)/2) = −24/sqrt(50) = −3.39411254970; of diabetes: (0.5 − 0.8) /
// sqrt((0.25 + 0.16)/2) = −0.66258915645.
func TestDescriptive(t *testing.T) {
	t.Parallel()
	var grp, age, dia []any
	for k := range 10 {
		grp = append(grp, "A")
		age = append(age, int32(50+2*(k%5)))
		dia = append(dia, k < 5)
		grp = append(grp, "B")
		age = append(age, int32(60+k%5))
		dia = append(dia, k < 8)
	}
	grp = append(grp, "C", "C")
	age = append(age, int32(70), nil)
	dia = append(dia, true, false)
	f := frameOf(len(grp), map[string][]any{"cov_exposure": grp, "cov_age": age, "cov_diabetes": dia})
	a := cohort.Analysis{Name: "table1", Kind: cohort.AnalysisDescriptive, By: "exposure", Covariates: []string{"age", "diabetes"}}
	v, warns, err := descriptive(f, a, map[string]string{"exposure": "B"})
	require.NoError(t, err)
	require.Empty(t, warns)
	require.Equal(t, "B", *v.Reference)
	require.Len(t, v.Groups, 3)
	require.Equal(t, int64(10), *v.Groups[0].N)
	require.Nil(t, v.Groups[2].N)
	require.True(t, v.Groups[2].Suppressed)

	ageV := v.Variables[0]
	require.Equal(t, "continuous", string(ageV.Type))
	require.InDelta(t, 54.0, float64(*ageV.Groups[0].Mean), 1e-12)
	require.InDelta(t, 2.9814239699997196, float64(*ageV.Groups[0].SD), 1e-12) // sqrt(80/9)
	require.InDelta(t, 54.0, float64(*ageV.Groups[0].Median), 1e-12)
	require.InDelta(t, 52.0, float64(*ageV.Groups[0].Q1), 1e-12)
	require.InDelta(t, 56.0, float64(*ageV.Groups[0].Q3), 1e-12)
	require.InDelta(t, -3.394112549695428, float64(ageV.SMD[0]), 1e-12)
	require.True(t, ageV.SMD[1].IsNA(), "the reference has no SMD")
	require.True(t, ageV.SMD[2].IsNA(), "C is suppressed")
	require.True(t, ageV.Groups[2].Mean.IsNA())

	diaV := v.Variables[1]
	require.Equal(t, "binary", string(diaV.Type))
	require.Equal(t, int64(5), *diaV.Groups[0].Count)
	require.InDelta(t, 50.0, float64(*diaV.Groups[0].Percent), 1e-12)
	require.InDelta(t, -0.6625891564490792, float64(diaV.SMD[0]), 1e-12)
}

// TestStratified: one result per class, in class order.
func TestStratified(t *testing.T) {
	t.Parallel()
	var grp, sex, age []any
	for k := range 40 {
		grp = append(grp, []string{"A", "B"}[k%2])
		sex = append(sex, []string{"M", "F"}[(k/2)%2])
		age = append(age, float64(40+k))
	}
	f := frameOf(40, map[string][]any{"cov_exposure": grp, "cov_sex": sex, "cov_age": age})
	a := cohort.Analysis{Name: "t", Kind: cohort.AnalysisDescriptive, By: "exposure", Covariates: []string{"age"}, StratifyBy: "sex"}
	res, _, err := stratified(f, a, &analysisEnv{}, false)
	require.NoError(t, err)
	v := res.(*results.Stratified)
	require.Len(t, v.Classes, 2)
	require.Equal(t, "F", v.Classes[0].Class)
	require.Equal(t, "M", v.Classes[1].Class)
	for _, c := range v.Classes {
		require.Empty(t, c.Error)
		require.Equal(t, int64(20), *c.N)
		d := c.Result.(*results.Descriptive)
		require.Equal(t, int64(10), *d.Groups[0].N)
	}
}
