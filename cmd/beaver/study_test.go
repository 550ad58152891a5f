package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// TestStudyRunInProcess: with no serve or worker running, `beaver study
// run` works the run itself and, with --wait --json, prints the results
// document; a second run of the same protocol reuses every step; status
// shows the reuse and the disk used; delete hands the tables over.
func TestStudyRunInProcess(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	out, code := runBeaver(t, "", "synth", "--persons", "300", "--years", "8", "--seed", "4", "--load", "--database-url", url)
	require.Equal(t, 0, code, out)
	const example = "../../docs/examples/comparator-new-users.json"
	out, code = runBeaver(t, "", "study", "run", example, "--wait", "--json", "--database-url", url)
	require.Equal(t, 0, code, out)
	var doc struct {
		ProtocolHash string                     `json:"protocol_hash"`
		Attrition    []json.RawMessage          `json:"attrition"`
		Analyses     map[string]json.RawMessage `json:"analyses"`
	}
	require.NoError(t, json.Unmarshal([]byte(out[strings.Index(out, "{\n"):]), &doc), out)
	require.Len(t, doc.ProtocolHash, 64)
	require.NotEmpty(t, doc.Attrition)
	require.Contains(t, doc.Analyses, "adjusted")
	out, code = runBeaver(t, "", "study", "status", "1", "--database-url", url)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "run 1: done")
	require.Regexp(t, `, [0-9.]+ [KMG]iB on disk,`, out)

	// The readable summary of a second run: every step reused.
	out, code = runBeaver(t, "", "study", "run", example, "--wait", "--database-url", url)
	require.Equal(t, 0, code, out)
	require.Regexp(t, `run 2: done in \S+, (\d+) steps \(\d+ reused\)`, out)
	m := regexp.MustCompile(`(\d+) steps \((\d+) reused\)`).FindStringSubmatch(out)
	require.Equal(t, m[1], m[2], out)
	require.Contains(t, out, "attrition:")
	require.Regexp(t, `exposure=A +HR [0-9.]+ \([0-9.]+ to [0-9.]+\), p `, out)
	out, code = runBeaver(t, "", "study", "status", "2", "--database-url", url)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "reused from run 1")
	require.Contains(t, out, ", 0 B on disk,")

	out, code = runBeaver(t, "", "study", "delete", "1", "--database-url", url)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "run 1 deleted")
	out, code = runBeaver(t, "", "study", "status", "2", "--database-url", url)
	require.Equal(t, 0, code, out)
	require.Regexp(t, `, [0-9.]+ [KMG]iB on disk,`, out, "run 2 holds the tables of the deleted run 1")
	out, code = runBeaver(t, "", "study", "results", "2", "--database-url", url)
	require.Equal(t, 0, code, out)
	out, code = runBeaver(t, "", "study", "status", "1", "--database-url", url)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "no such run")
	out, code = runBeaver(t, "", "study", "cancel", "99", "--database-url", url)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "no such run")
}

// TestStudyResults: `beaver study results` prints the document of a done
// run as JSON, or a summary, and refuses a run without results.
func TestStudyResults(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	out, code := runBeaver(t, "", "synth", "--persons", "300", "--years", "8", "--seed", "4", "--load", "--database-url", url)
	require.Equal(t, 0, code, out)
	out, code = runBeaver(t, "", "study", "run", "../../docs/examples/comparator-new-users.json", "--wait", "--database-url", url)
	require.Equal(t, 0, code, out)
	out, code = runBeaver(t, "", "study", "results", "1", "--json", "--database-url", url)
	require.Equal(t, 0, code, out)
	var doc struct {
		ProtocolHash string                     `json:"protocol_hash"`
		Analyses     map[string]json.RawMessage `json:"analyses"`
		Profile      json.RawMessage            `json:"profile"`
	}
	require.NoError(t, json.Unmarshal([]byte(out[strings.Index(out, "{\n"):]), &doc), out)
	require.Len(t, doc.ProtocolHash, 64)
	require.Contains(t, doc.Analyses, "crude")
	require.Contains(t, doc.Analyses, "adjusted")
	require.NotEmpty(t, doc.Profile)
	out, code = runBeaver(t, "", "study", "results", "1", "--database-url", url)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "exposure=A")
	require.Contains(t, out, "attrition:")
	out, code = runBeaver(t, "", "study", "results", "99", "--database-url", url)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "no such run")
}

// TestStudyWarnings: the protocol's design warnings (cohort.Check) are
// printed by `beaver study run` at submission, and by `study status` and
// `study results` (issue 15, point 1: they were never shown); a database
// without data says what to run, which the engine's error does not.
func TestStudyWarnings(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	b, err := os.ReadFile("../../docs/examples/hip-fracture-rates.json")
	require.NoError(t, err)
	var p map[string]any
	require.NoError(t, json.Unmarshal(b, &p))
	phases := p["phases"].(map[string]any)
	covs := phases["covariates"].([]any)
	extra := map[string]any{}
	for k, v := range covs[0].(map[string]any) {
		extra[k] = v
	}
	extra["name"] = "unused_copy"
	phases["covariates"] = append(covs, extra)
	b, err = json.Marshal(p)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "protocol.json")
	require.NoError(t, os.WriteFile(file, b, 0o644))

	out, code := runBeaver(t, "", "study", "run", file, "--database-url", url)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "no data has been imported yet: run `beaver etl load` or `beaver synth --load` first")

	out, code = runBeaver(t, "", "synth", "--persons", "200", "--years", "8", "--seed", "4", "--load", "--database-url", url)
	require.Equal(t, 0, code, out)
	want := fmt.Sprintf(`warning: phases.covariates[%d]: covariate "unused_copy" is not used by any analysis or transformation`, len(covs))
	out, code = runBeaver(t, "", "study", "run", file, "--wait", "--database-url", url)
	require.Equal(t, 0, code, out)
	require.Equal(t, 2, strings.Count(out, want), "at submission and in the results: %s", out)
	for _, cmd := range []string{"status", "results"} {
		out, code = runBeaver(t, "", "study", cmd, "1", "--database-url", url)
		require.Equal(t, 0, code, out)
		require.Contains(t, out, want, cmd)
	}
}
