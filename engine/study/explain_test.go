package study_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/study"
)

// TestExplain: a run submitted with Explain keeps every step's EXPLAIN
// (ANALYZE, BUFFERS) in its profile, with the rows it inserted, and its
// document is the same as a plain run's once the profile is left out.
func TestExplain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	client := worker(t, pool, 2)
	// A name of its own: no step is reused from another test's runs.
	protocol := bytes.Replace(example(t, "hip-fracture-rates.json"), []byte(`"name": "hip-fracture-rates"`), []byte(`"name": "hip-fracture-explain"`), 1)

	var docs [][]byte
	for _, explain := range []bool{true, false} {
		runID, err := submitWith(ctx, pool, client, study.SubmitRequest{Protocol: protocol, Explain: explain})
		require.NoError(t, err)
		p := wait(t, pool, runID)
		require.Equal(t, study.StateDone, p.State, "error: %s", p.Error)
		doc, err := service(pool, nil).ResultsJSON(ctx, runID)
		require.NoError(t, err)
		docs = append(docs, doc)
	}
	var d struct {
		Profile struct {
			Steps []struct {
				Name    string  `json:"name"`
				Rows    *int64  `json:"rows"`
				Explain *string `json:"explain"`
			} `json:"steps"`
		} `json:"profile"`
	}
	require.NoError(t, json.Unmarshal(docs[0], &d))
	require.NotEmpty(t, d.Profile.Steps)
	for _, s := range d.Profile.Steps {
		require.NotNil(t, s.Explain, s.Name)
		require.Contains(t, *s.Explain, "Insert on", s.Name)
		require.Contains(t, *s.Explain, "actual time=", s.Name)
		require.Contains(t, *s.Explain, "Execution Time", s.Name)
		require.NotNil(t, s.Rows, s.Name)
	}
	a, _ := withoutProfile(t, docs[0])
	b, _ := withoutProfile(t, docs[1])
	require.Equal(t, string(a), string(b))
}
