package codelists

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

	// A list must say what was verified, even that nothing was.
	bare := *mcs
	bare.Verified = " "
	require.ErrorContains(t, bare.check(), "verified is required")
	require.NoError(t, mcs.check())
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

// TestVersionPinned fails when a shipped list's codes, weights or
// superseding rules change without its version being raised: the compiled
// steps bind the codes, but results and documents name a list by version,
// so two different lists must never share one. On a deliberate change,
// raise the version in the file and put the new version and digest here.
func TestVersionPinned(t *testing.T) {
	t.Parallel()
	pins := map[string]struct{ version, digest string }{
		"charlson_quan2005": {"1", "f1fbffac8fec6c52df43d12290cf16db4a423491583c18f1ebac92294fa50045"},
		"mcs_corrao2017":    {"1", "ab4b2f72bdbd08cf0cfa029ffe2eb9e58f2208caaf5a926ec87147392cfe1711"},
	}
	require.Len(t, pins, len(Names()), "every shipped list is pinned")
	for _, name := range Names() {
		s := MustGet(name)
		pin, ok := pins[name]
		require.True(t, ok, "no pin for %s", name)
		require.Equal(t, pin.version, s.Version, "%s: version changed; update the pin with the new digest", name)
		require.Equal(t, pin.digest, digest(t, s), "%s: codes, weights or superseding rules changed: raise its version", name)
	}
}

// digest hashes what the compiler reads of a scheme (ids, weights, codes,
// superseding rules), leaving out titles, notes and provenance.
func digest(t *testing.T, s *Scheme) string {
	type row struct {
		ID           string
		Weight       float64
		ICD9Dx, ATC  *CodeSet
		SupersededBy string
	}
	var rows []row
	for _, c := range s.Conditions {
		rows = append(rows, row{c.ID, c.Weight, c.ICD9Dx, c.ATC, c.SupersededBy})
	}
	raw, err := json.Marshal(rows)
	require.NoError(t, err)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}
