package study_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/study"
)

// withoutProfile decodes a results document and drops its profile.
func withoutProfile(t *testing.T, doc []byte) ([]byte, map[string]json.RawMessage) {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(doc, &m))
	require.Contains(t, m, "profile")
	delete(m, "profile")
	b, err := json.Marshal(m) // keys sorted; values as stored
	require.NoError(t, err)
	return b, m
}

// TestResults runs the comparator example twice on the same region: both
// runs end done with a results document whose crude and adjusted Cox
// analyses have the term exposure=A with finite estimates, and the two
// documents are byte-identical once the profile is left out. The planted
// truth is not asserted: the region is too small.
func TestResults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	client := worker(t, pool, 4)

	var docs [][]byte
	for range 2 {
		runID, err := study.Submit(ctx, pool, client, example(t, "comparator-new-users.json"), nil, 0)
		require.NoError(t, err)
		p := wait(t, pool, runID)
		require.Equal(t, study.StateDone, p.State, "error: %s", p.Error)
		doc, err := study.Results(ctx, pool, runID)
		require.NoError(t, err)
		docs = append(docs, doc)
	}
	a, m := withoutProfile(t, docs[0])
	b, _ := withoutProfile(t, docs[1])
	require.Equal(t, string(a), string(b))

	var analyses map[string]struct {
		Kind   string          `json:"kind"`
		Error  string          `json:"error"`
		Result json.RawMessage `json:"result"`
	}
	require.NoError(t, json.Unmarshal(m["analyses"], &analyses))
	type coxResult struct {
		N            *int64 `json:"n"`
		Events       *int64 `json:"events"`
		Suppressed   bool   `json:"suppressed"`
		Coefficients []struct {
			Term string   `json:"term"`
			Coef *float64 `json:"coef"`
			SE   *float64 `json:"se"`
			HR   *float64 `json:"hr"`
		} `json:"coefficients"`
	}
	for name, terms := range map[string][]string{
		"crude":    {"exposure=A"},
		"adjusted": {"exposure=A", "age", "sex=M", "diabetes"},
	} {
		r, ok := analyses[name]
		require.True(t, ok, name)
		require.Equal(t, "cox", r.Kind)
		require.Empty(t, r.Error, name)
		var cr coxResult
		require.NoError(t, json.Unmarshal(r.Result, &cr))
		require.True(t, cr.Events != nil || cr.Suppressed, name)
		got := []string{}
		for _, c := range cr.Coefficients {
			got = append(got, c.Term)
			require.NotNil(t, c.Coef, "%s %s", name, c.Term)
			require.NotNil(t, c.SE, "%s %s", name, c.Term)
			require.False(t, math.IsInf(*c.Coef, 0) || math.IsNaN(*c.Coef))
			require.Positive(t, *c.SE)
		}
		require.Equal(t, terms, got, name)
	}
	require.Equal(t, "kaplan_meier", analyses["km"].Kind)
	require.Empty(t, analyses["km"].Error)

	// Attrition: persons summed over partitions, counts below 5 suppressed.
	var attr []struct {
		Label      string `json:"label"`
		Persons    *int64 `json:"persons"`
		Suppressed bool   `json:"suppressed"`
	}
	require.NoError(t, json.Unmarshal(m["attrition"], &attr))
	require.NotEmpty(t, attr)
	require.NotNil(t, attr[0].Persons)
	for _, l := range attr {
		require.Equal(t, l.Persons == nil, l.Suppressed && l.Persons == nil, l.Label)
		if l.Persons != nil {
			require.GreaterOrEqual(t, *l.Persons, int64(study.MinCount))
		}
	}

	// The table1 analysis (descriptive) is not computed yet: it is a
	// warning, not a failure of the run.
	var warnings []string
	require.NoError(t, json.Unmarshal(m["warnings"], &warnings))
	require.NotEmpty(t, warnings)
}

// TestDataEnd: the last day of data is the latest event date in the flows,
// not the import date (which would run follow-up on to the day of import).
func TestDataEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	client := insertOnly(t, pool)
	runID, err := study.Submit(ctx, pool, client, example(t, "comparator-new-users.json"), nil, 0)
	require.NoError(t, err)
	var dataEnd, importDate, latest time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT r.data_end, i.import_date FROM study_run r
		JOIN etl_data_version v ON v.version = r.data_version JOIN etl_import i ON i.id = v.import_id
		WHERE r.id = $1`, runID).Scan(&dataEnd, &importDate))
	require.NoError(t, pool.QueryRow(ctx, `SELECT max(dispensing_date) FROM pharmacy`).Scan(&latest))
	require.True(t, dataEnd.Before(importDate), "data end %s, import %s", dataEnd, importDate)
	require.False(t, dataEnd.Before(latest), "data end %s before the latest dispensing %s", dataEnd, latest)
	require.Equal(t, 2019, dataEnd.Year(), "a region of 8 years from 2012 ends in 2019")
}

// TestResultsOtherExamples: the time-dependent Cox analysis reads its
// counting-process dataset and names the term current_use; rates come by
// group. Neither run fails whatever the analyses give on a tiny region.
func TestResultsOtherExamples(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	client := worker(t, pool, 4)
	type analysis struct {
		Kind   string          `json:"kind"`
		Form   string          `json:"form"`
		Error  string          `json:"error"`
		Result json.RawMessage `json:"result"`
	}
	results := func(file string) map[string]analysis {
		runID, err := study.Submit(ctx, pool, client, example(t, file), nil, 0)
		require.NoError(t, err)
		p := wait(t, pool, runID)
		require.Equal(t, study.StateDone, p.State, "error: %s", p.Error)
		doc, err := study.Results(ctx, pool, runID)
		require.NoError(t, err)
		var d struct {
			Analyses map[string]analysis `json:"analyses"`
		}
		require.NoError(t, json.Unmarshal(doc, &d))
		return d.Analyses
	}

	cu := results("current-use.json")
	td := cu["time-dependent"]
	require.Equal(t, "counting_process", td.Form)
	require.Equal(t, "baseline", cu["baseline"].Form)
	if td.Error == "" {
		require.Contains(t, string(td.Result), `"term": "current_use"`)
	} else {
		t.Logf("time-dependent: %s", td.Error)
	}

	hf := results("hip-fracture-rates.json")
	r := hf["rates-by-asl"]
	require.Equal(t, "rates", r.Kind)
	require.Empty(t, r.Error)
	var rates struct {
		Groups []struct {
			Group *string  `json:"group"`
			Crude *float64 `json:"crude"`
		} `json:"groups"`
	}
	require.NoError(t, json.Unmarshal(r.Result, &rates))
	require.NotEmpty(t, rates.Groups)
	require.NotNil(t, rates.Groups[0].Group)
}
