package statscli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ratesTestdata holds the epitools references (stats/testdata/rates/rates_ref.R,
// R 4.2.2, epitools 0.5-10.1).
var ratesTestdata = filepath.Join("..", "testdata", "rates")

func TestRatesCommand(t *testing.T) {
	t.Parallel()
	code, doc, stderr := runJSON(t, "rates", "--csv", filepath.Join(ratesTestdata, "fleiss.csv"), "--events", "births",
		"--persontime", "population", "--group", "order", "--strata", "age",
		"--standard", filepath.Join(ratesTestdata, "fleiss_standard.csv"), "--per", "100000")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "rates", doc["model"])
	assert.Equal(t, 100000.0, doc["per"])
	assert.Contains(t, doc, "timing_ms")
	groups := doc["groups"].([]any)
	require.Len(t, groups, 4)
	g1 := groups[0].(map[string]any)
	assert.Equal(t, "1", g1["group"])
	// ageadjust.direct(cnt[,'1'], pop[,'1'], stdpop=apply(pop, 1, mean)) × 1e5 (testdata/rates/ageadjust.csv).
	assert.InDelta(t, 76.379394596520094, g1["adjusted"], 1e-9)
	assert.InDelta(t, 67.716861997669305, g1["adjusted_lower"], 1e-9)
	assert.InDelta(t, 85.984895161251575, g1["adjusted_upper"], 1e-9)
	assert.InDelta(t, 56.347505460374169, g1["crude"], 1e-9)
	for _, k := range []string{"rate_ratio", "rr_lower", "rr_upper"} {
		require.Contains(t, g1, k)
		assert.Nil(t, g1[k])
	}
	g4 := groups[3].(map[string]any)
	assert.Equal(t, "4+", g4["group"])
	// rateratio(colSums(cnt), colSums(pop), method='wald')$measure (testdata/rates/rateratio.csv).
	assert.InDelta(t, 5.8968076778344658, g4["rate_ratio"], 1e-12)
	assert.InDelta(t, 5.2718814840124351, g4["rr_lower"], 1e-12)
	assert.InDelta(t, 6.5958123100487889, g4["rr_upper"], 1e-12)
	assert.Equal(t, 1191.0, g4["events"]) // 1+72+231+323+333+231
}

func TestRatesCommandPerPerson(t *testing.T) {
	t.Parallel()
	// One row per person, no strata: adjusted null, default per 1000.
	dir := t.TempDir()
	p := filepath.Join(dir, "people.csv")
	require.NoError(t, os.WriteFile(p, []byte("id,ev,fu,arm\n1,1,2.5,b\n2,0,4,b\n3,1,1,a\n4,,3,a\n5,0,NA,a\n6,0,1,a\n"), 0o600))
	code, doc, stderr := runJSON(t, "rates", "--csv", p, "--events", "ev", "--persontime", "fu", "--group", "arm")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, 1000.0, doc["per"])
	groups := doc["groups"].([]any)
	a := groups[0].(map[string]any)
	assert.Equal(t, "a", a["group"])
	assert.Equal(t, 1.0, a["events"])
	assert.Equal(t, 2.0, a["persontime"]) // rows 4 and 5 have a missing value
	assert.Equal(t, 500.0, a["crude"])
	assert.Nil(t, a["adjusted"])
	b := groups[1].(map[string]any)
	assert.InDelta(t, (1/6.5)/(1/2.0), b["rate_ratio"], 1e-12)
}

func TestRatesCommandErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	data := write("d.csv", "ev,pt,age\n1,10,young\n2,20,old\n")
	neg := write("neg.csv", "ev,pt,age\n1,10,young\n-2,20,old\n")
	stdOK := write("std.csv", "stratum,population\nyoung,5\nold,5\n")
	stdMissing := write("std2.csv", "stratum,population\nyoung,5\n")
	stdDup := write("std3.csv", "stratum,population\nyoung,5\nyoung,3\nold,1\n")
	stdCols := write("std4.csv", "age,n\nyoung,5\n")
	base := []string{"rates", "--csv", data, "--events", "ev", "--persontime", "pt"}
	with := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no csv", []string{"rates", "--events", "ev", "--persontime", "pt"}, 2, "--csv is required"},
		{"no events", []string{"rates", "--csv", data, "--persontime", "pt"}, 2, "--events is required"},
		{"no persontime", []string{"rates", "--csv", data, "--events", "ev"}, 2, "--persontime is required"},
		{"strata alone", with("--strata", "age"), 2, "--strata needs --standard"},
		{"standard alone", with("--standard", stdOK), 2, "--standard needs --strata"},
		{"per", with("--per", "0"), 2, "--per 0"},
		{"conf level", with("--conf-level", "1"), 2, "--conf-level 1"},
		{"missing column", with("--group", "arm"), 1, `column "arm" not found`},
		{"negative events", []string{"rates", "--csv", neg, "--events", "ev", "--persontime", "pt"}, 1, `column "ev", line 3: -2`},
		{"stratum not in standard", with("--strata", "age", "--standard", stdMissing), 1, `stratum "old" is in the data but not in the standard population`},
		{"duplicate standard", with("--strata", "age", "--standard", stdDup), 1, `line 3: stratum "young" listed twice`},
		{"standard columns", with("--strata", "age", "--standard", stdCols), 1, `column "stratum" not found`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			code := Run(tc.args, &out, &errb)
			assert.Equal(t, tc.code, code, errb.String())
			assert.Contains(t, errb.String(), tc.msg)
			assert.Empty(t, out.String())
		})
	}
	code, doc, stderr := runJSON(t, with("--strata", "age", "--standard", stdOK)...)
	require.Equal(t, 0, code, stderr)
	g := doc["groups"].([]any)[0].(map[string]any)
	assert.Nil(t, g["group"])
	// dsr = 0.5·1/10 + 0.5·2/20 per 1000.
	assert.InDelta(t, 100.0, g["adjusted"], 1e-9)
}
