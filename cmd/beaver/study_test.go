package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// TestStudyRunInProcess: with no serve or worker running, `beaver study
// run` works the run itself and prints its progress as JSON.
func TestStudyRunInProcess(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	out, code := runBeaver(t, "", "synth", "--persons", "300", "--years", "8", "--seed", "4", "--load", "--database-url", url)
	require.Equal(t, 0, code, out)
	out, code = runBeaver(t, "", "study", "run", "../../docs/examples/comparator-new-users.json", "--wait", "--json", "--database-url", url)
	require.Equal(t, 0, code, out)
	var p struct {
		RunID      int64  `json:"run_id"`
		State      string `json:"state"`
		StepsDone  int    `json:"steps_done"`
		StepsTotal int    `json:"steps_total"`
	}
	require.NoError(t, json.Unmarshal([]byte(out[strings.Index(out, "{\n"):]), &p), out)
	require.Equal(t, "done", p.State)
	require.Equal(t, p.StepsTotal, p.StepsDone)
	out, code = runBeaver(t, "", "study", "status", "1", "--database-url", url)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "run 1: done")
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
