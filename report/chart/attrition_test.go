package chart

import (
	"strings"
	"testing"

	"github.com/beaver-analytics/beaver/report/format"
	"github.com/stretchr/testify/require"
)

func attritionFixture() []AttritionStep {
	return []AttritionStep{
		{Label: "index entries", Persons: 25630, Entries: 25630},
		{Label: "one exposure group on day 0", Persons: 25610, Entries: 25610},
		{Label: "no AMI admission in the year before", Persons: 25412, Entries: 25412},
		{Label: "a criterion with a long label that wraps & <escapes> on two lines at least", Persons: 25409, Entries: 25409},
		{Label: "tiny", Persons: -1, Entries: -1},
	}
}

func TestAttritionGolden(t *testing.T) {
	t.Parallel()
	got, err := Attrition(attritionFixture(), AttritionOptions{MinCount: 5})
	require.NoError(t, err)
	golden(t, "attrition_en.svg", got)
	s := string(got)
	require.Contains(t, s, "n = 25,630 persons")
	require.Contains(t, s, "Excluded: 198 persons")
	require.Contains(t, s, "Excluded: &lt;5 persons", "3 excluded is below 5")
	require.Contains(t, s, "Excluded: not shown<")
	require.Contains(t, s, "n = &lt;5 persons")
	require.NotContains(t, s, "(25")

	steps := attritionFixture()
	steps[2].Entries = 25500
	it, err := Attrition(steps, AttritionOptions{Lang: format.IT, MinCount: 5, Title: "Coorte"})
	require.NoError(t, err)
	golden(t, "attrition_it.svg", it)
	require.Contains(t, string(it), "n = 25.412 persone (25.500 ingressi)")
	require.True(t, strings.Contains(string(it), "Esclusi: 198 persone (110"), "entries excluded: 25,610 - 25,500")
}

func TestAttritionEmpty(t *testing.T) {
	t.Parallel()
	got, err := Attrition(nil, AttritionOptions{})
	require.NoError(t, err)
	wellFormed(t, got)
}

// TestAttritionNoneExcluded: two equal shown counts exclude 0, which is
// shown (it hides nothing), not "<5".
func TestAttritionNoneExcluded(t *testing.T) {
	t.Parallel()
	got, err := Attrition([]AttritionStep{{Label: "a", Persons: 18, Entries: 18}, {Label: "b", Persons: 18, Entries: 18}}, AttritionOptions{MinCount: 5})
	require.NoError(t, err)
	require.Contains(t, string(got), "Excluded: 0 persons")
}
