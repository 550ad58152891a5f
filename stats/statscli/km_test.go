package statscli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kmTestdata is the directory of the Kaplan-Meier references (made by
// stats/testdata/km/km_ref.R with R 4.2.2 and survival 3.5-3).
var kmTestdata = filepath.Join("..", "testdata", "km")

// runJSON runs `beaver stats` and decodes its output.
func runJSON(t *testing.T, args ...string) (int, map[string]any, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(args, &out, &errb)
	var doc map[string]any
	if code == 0 {
		require.NoError(t, json.Unmarshal(out.Bytes(), &doc), out.String())
	}
	return code, doc, errb.String()
}

func TestKMCommand(t *testing.T) {
	t.Parallel()
	code, doc, stderr := runJSON(t, "km", "--csv", filepath.Join(kmTestdata, "lung.csv"), "--time", "time", "--event", "status", "--group", "sex")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "km", doc["model"])
	assert.Contains(t, doc, "timing_ms")
	groups := doc["groups"].([]any)
	require.Len(t, groups, 2)
	g1 := groups[0].(map[string]any)
	// summary(survfit(Surv(time, status) ~ sex, data=lung))$table: sex=1 median 270 (212, 310), n 138, events 112.
	assert.Equal(t, "1", g1["group"])
	assert.Equal(t, 270.0, g1["median"])
	assert.Equal(t, 212.0, g1["median_lower"])
	assert.Equal(t, 310.0, g1["median_upper"])
	assert.Equal(t, 138.0, g1["n"])
	assert.Equal(t, 112.0, g1["events"])
	step := g1["steps"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"time": 11.0, "n_risk": 138.0, "n_event": 3.0, "n_censor": 0.0,
		"surv": step["surv"], "std_err": step["std_err"], "lower": step["lower"], "upper": step["upper"]}, step)
	assert.InDelta(t, 0.978260869565217, step["surv"], 1e-12)
	// survdiff(Surv(time, status) ~ sex, data=lung): chisq 10.3267419548856 on 1 df.
	lr := doc["logrank"].(map[string]any)
	assert.InDelta(t, 10.326741954885632, lr["chi2"], 1e-9)
	assert.Equal(t, 1.0, lr["df"])
	assert.InDelta(t, 0.0013111645203554882, lr["p"], 1e-12)
}

func TestKMCommandStrataAndUngrouped(t *testing.T) {
	t.Parallel()
	// survdiff(Surv(time, status) ~ sex + strata(ph.ecog), data=lung): the row missing ph.ecog is dropped.
	code, doc, stderr := runJSON(t, "km", "--csv", filepath.Join(kmTestdata, "lung.csv"), "--time", "time", "--event", "status",
		"--group", "sex", "--strata", "ph.ecog", "--conf-type", "plain")
	require.Equal(t, 0, code, stderr)
	assert.InDelta(t, 10.795059633496416, doc["logrank"].(map[string]any)["chi2"], 1e-9)
	assert.Equal(t, "plain", doc["conf_type"])

	// Ungrouped: group null, logrank null; median not reached is null.
	code, doc, stderr = runJSON(t, "km", "--csv", filepath.Join(kmTestdata, "notreached.csv"), "--time", "time", "--event", "status")
	require.Equal(t, 0, code, stderr)
	assert.Nil(t, doc["logrank"])
	require.Contains(t, doc, "logrank")
	g := doc["groups"].([]any)[0].(map[string]any)
	require.Contains(t, g, "group")
	assert.Nil(t, g["group"])
	assert.Nil(t, g["median"])
	assert.Equal(t, 8.0, g["median_lower"])
}

func TestKMCommandErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("t,e,g\n1,1,a\n-2,0,b\n3,1,a\n"), 0o600))
	noev := filepath.Join(dir, "noev.csv")
	require.NoError(t, os.WriteFile(noev, []byte("t,e,g\n1,0,a\n2,0,b\n"), 0o600))
	lung := filepath.Join(kmTestdata, "lung.csv")
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no csv", []string{"km", "--time", "t", "--event", "e"}, 2, "--csv is required"},
		{"no time", []string{"km", "--csv", lung, "--event", "e"}, 2, "--time is required"},
		{"no event", []string{"km", "--csv", lung, "--time", "time"}, 2, "--event is required"},
		{"strata alone", []string{"km", "--csv", lung, "--time", "time", "--event", "status", "--strata", "sex"}, 2, "--strata needs --group"},
		{"conf type", []string{"km", "--csv", lung, "--time", "time", "--event", "status", "--conf-type", "logit"}, 2, `--conf-type "logit"`},
		{"conf level", []string{"km", "--csv", lung, "--time", "time", "--event", "status", "--conf-level", "95"}, 2, "--conf-level 95"},
		{"missing column", []string{"km", "--csv", lung, "--time", "days", "--event", "status"}, 1, `column "days" not found`},
		{"negative time", []string{"km", "--csv", bad, "--time", "t", "--event", "e"}, 1, `column "t", line 3: time -2`},
		{"event not 0/1", []string{"km", "--csv", lung, "--time", "time", "--event", "sex"}, 1, `column "sex"`},
		{"missing file", []string{"km", "--csv", filepath.Join(dir, "nope.csv"), "--time", "t", "--event", "e"}, 1, "nope.csv"},
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
	// No events: curves are printed, the log-rank test is null with its reason.
	code, doc, stderr := runJSON(t, "km", "--csv", noev, "--time", "t", "--event", "e", "--group", "g")
	require.Equal(t, 0, code, stderr)
	assert.Nil(t, doc["logrank"])
	assert.Equal(t, "log-rank: no events", doc["logrank_error"])
}
