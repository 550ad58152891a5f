package codelists

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestShipped(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"charlson_quan2005", "mcs_corrao2017"}, Names())
	_, err := Get("elixhauser")
	require.Error(t, err)

	// MCS: 34 conditions whose weights sum to 154 (shared/data/SOURCES.md).
	mcs := MustGet("mcs_corrao2017")
	require.Len(t, mcs.Conditions, 34)
	var sum float64
	all := map[string]bool{}
	for _, c := range mcs.Conditions {
		sum += c.Weight
		all[c.ID] = true
	}
	require.Equal(t, 154.0, sum)
	require.Equal(t, 154.0, mcs.Score(all), "MCS has no superseding rules")

	// Charlson: 17 categories, 1987 weights, three superseding rules.
	cci := MustGet("charlson_quan2005")
	require.Len(t, cci.Conditions, 17)
	require.Equal(t, 2.0, cci.Score(map[string]bool{"diab": true, "diabwc": true}))
	require.Equal(t, 6.0, cci.Score(map[string]bool{"canc": true, "metacanc": true}))
	require.Equal(t, 3.0, cci.Score(map[string]bool{"mld": true, "msld": true}))
	require.Equal(t, 1.0+1+1, cci.Score(map[string]bool{"diab": true, "mld": true, "canc": false, "ami": true}))
}

// TestMatches: codes at the edges of ranges and the MAL_VASCOL correction
// (4431 → 4431-4439, docs/comorbidity.md).
func TestMatches(t *testing.T) {
	t.Parallel()
	cond := func(scheme, id string) *Condition {
		for _, c := range MustGet(scheme).Conditions {
			if c.ID == id {
				return &c
			}
		}
		t.Fatalf("no condition %s", id)
		return nil
	}
	for _, tc := range []struct {
		scheme, id, code string
		want             bool
	}{
		{"mcs_corrao2017", "MAL_VASCOL", "4435", true},
		{"mcs_corrao2017", "MAL_VASCOL", "4430", false},
		{"mcs_corrao2017", "CANCRO_NOMET", "1729", true},
		{"mcs_corrao2017", "CANCRO_NOMET", "1730", false},
		{"mcs_corrao2017", "CANCRO_NOMET", "V1005", true},
		{"mcs_corrao2017", "AB_ALCOL", "30393", true},
		{"mcs_corrao2017", "AB_ALCOL", "30394", false},
		{"mcs_corrao2017", "CEREBRO", "4359", true},
		{"charlson_quan2005", "ami", "4119", false},
		{"charlson_quan2005", "rend", "V5631", true},
		{"charlson_quan2005", "diab", "2504", false},
	} {
		c := cond(tc.scheme, tc.id)
		require.Equal(t, tc.want, c.ICD9Dx.Matches(tc.code), "%s %s %s", tc.scheme, tc.id, tc.code)
	}
	require.True(t, cond("mcs_corrao2017", "PARKINSON").ATC.Matches("N04BA02"))
	require.False(t, cond("mcs_corrao2017", "FAR_CORONARY").ATC.Matches("B01AC06"))
}
