package library

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// systemOfSource is the code system of each source of an area criterion
// (engine/etl/areas/areas.json).
var systemOfSource = map[string]string{
	"sdo_diagnosis":       "icd9cm_dx",
	"er_diagnosis":        "icd9cm_dx",
	"exemption":           "exemption",
	"pharmacy":            "atc",
	"direct_distribution": "atc",
}

// suffixOfSystem names an area's list of a system: <area>_<suffix>.
var suffixOfSystem = map[string]string{"icd9cm_dx": "dx", "exemption": "exemption", "atc": "drugs"}

// TestAreasAgree: the library's area lists and the ETL's areas of interest
// (read from the repository's areas.json, not a copy) hold the same codes:
// for every area and code system, <area>_<dx|exemption|drugs>@<latest>
// has exactly the prefixes of every criterion of that system; and every
// area list of the library belongs to such a criterion.
func TestAreasAgree(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../engine/etl/areas/areas.json")
	require.NoError(t, err)
	var doc struct {
		Areas []struct {
			Name     string `json:"name"`
			Criteria []struct {
				Source   string   `json:"source"`
				Prefixes []string `json:"prefixes"`
			} `json:"criteria"`
		} `json:"areas"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.NotEmpty(t, doc.Areas)
	latest := map[string]*List{}
	for _, l := range All() {
		if l.Area != "" {
			latest[l.Name] = l // All is sorted by name@version
		}
	}
	seen := map[string]bool{}
	for _, a := range doc.Areas {
		for _, c := range a.Criteria {
			if len(c.Prefixes) == 0 {
				continue // birth certificates: no codes
			}
			sys, ok := systemOfSource[c.Source]
			require.True(t, ok, "area %s: source %s has no code system here: add it", a.Name, c.Source)
			name := a.Name + "_" + suffixOfSystem[sys]
			l := latest[name]
			require.NotNil(t, l, "area %s, source %s: no library list %s", a.Name, c.Source, name)
			require.Equal(t, sys, l.System, name)
			require.Equal(t, a.Name, l.Area, name)
			require.Equal(t, sorted(c.Prefixes), sorted(l.Include.Prefixes), "%s vs area %s source %s", l.Ref(), a.Name, c.Source)
			require.Empty(t, l.Include.Codes, name)
			require.Empty(t, l.Include.Ranges, name)
			require.Nil(t, l.Exclude, name)
			seen[name] = true
		}
	}
	for name := range latest {
		require.True(t, seen[name], "library list %s matches no area criterion", name)
	}
	require.Len(t, seen, 13, "5 areas: 4 × (dx, exemption, drugs) + maternal_child_dx")
}

// TestGet: references name a version; errors say what exists.
func TestGet(t *testing.T) {
	t.Parallel()
	l, err := Get("diabetes_drugs@1")
	require.NoError(t, err)
	require.Equal(t, "atc", l.System)
	require.Equal(t, []string{"A10"}, l.Include.Prefixes)
	for ref, msg := range map[string]string{
		"diabetes_drugs":    `library: reference "diabetes_drugs": write name@version, e.g. diabetes_drugs@1`,
		"diabetes_drugs@2":  `library: no version "2" of diabetes_drugs (have diabetes_drugs@1)`,
		"nothing@1":         `library: no shipped list "nothing" (see docs/protocol.md for the library)`,
		"Diabetes_drugs@1 ": `library: reference "Diabetes_drugs@1 ": write name@version, e.g. diabetes_drugs@1`,
	} {
		_, err := Get(ref)
		require.EqualError(t, err, msg, ref)
	}
}

// TestVersionsPinned: a released version never changes. The prefixes of
// every list version are pinned here; changing a list means adding a new
// version to lists.json (and a line here), never editing an old one.
func TestVersionsPinned(t *testing.T) {
	t.Parallel()
	pinned := map[string][]string{
		"diabetes_dx@1":              {"250"},
		"diabetes_exemption@1":       {"013"},
		"diabetes_drugs@1":           {"A10"},
		"cardiovascular_dx@1":        {"39", "40", "41", "42", "43", "44", "45"},
		"cardiovascular_exemption@1": {"002", "021", "031"},
		"cardiovascular_drugs@1":     {"C01", "C03", "C07", "C08", "C09", "C10", "B01"},
		"respiratory_dx@1":           {"46", "47", "48", "49", "50", "51"},
		"respiratory_exemption@1":    {"007", "024", "057"},
		"respiratory_drugs@1":        {"R03"},
		"oncology_dx@1":              {"14", "15", "16", "17", "18", "19", "200", "201", "202", "203", "204", "205", "206", "207", "208", "V580", "V581"},
		"oncology_exemption@1":       {"048"},
		"oncology_drugs@1":           {"L01", "L02"},
		"maternal_child_dx@1":        {"63", "64", "65", "66", "67", "V27"},
	}
	all := All()
	require.Len(t, all, len(pinned))
	for _, l := range all {
		want, ok := pinned[l.Ref()]
		require.True(t, ok, "%s is not pinned: add it to this test", l.Ref())
		require.Equal(t, want, l.Include.Prefixes, l.Ref())
	}
}

func sorted(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}
