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
		runID, err := submit(ctx, pool, client, example(t, "comparator-new-users.json"), nil, 0)
		require.NoError(t, err)
		p := wait(t, pool, runID)
		require.Equal(t, study.StateDone, p.State, "error: %s", p.Error)
		doc, err := service(pool, nil).ResultsJSON(ctx, runID)
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

	// The table1 analysis (descriptive): exposure groups A and B, SMDs of
	// A against the reference B (null for B).
	var t1 struct {
		Reference string `json:"reference"`
		Groups    []struct {
			Group string `json:"group"`
		} `json:"groups"`
		Variables []struct {
			Covariate string     `json:"covariate"`
			SMD       []*float64 `json:"smd"`
		} `json:"variables"`
	}
	require.Empty(t, analyses["table1"].Error)
	require.NoError(t, json.Unmarshal(analyses["table1"].Result, &t1))
	require.Equal(t, "B", t1.Reference)
	require.Len(t, t1.Groups, 2)
	require.Len(t, t1.Variables, 3)
	require.NotNil(t, t1.Variables[0].SMD[0], "age SMD of A")
	require.Nil(t, t1.Variables[0].SMD[1])
}

// TestDataEnd: the last day of data is the latest event date in the flows,
// not the import date (which would run follow-up on to the day of import).
func TestDataEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	client := insertOnly(t, pool)
	runID, err := submit(ctx, pool, client, example(t, "comparator-new-users.json"), nil, 0)
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
		runID, err := submit(ctx, pool, client, example(t, file), nil, 0)
		require.NoError(t, err)
		p := wait(t, pool, runID)
		require.Equal(t, study.StateDone, p.State, "error: %s", p.Error)
		doc, err := service(pool, nil).ResultsJSON(ctx, runID)
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
			Group    *string  `json:"group"`
			Crude    *float64 `json:"crude"`
			Adjusted *float64 `json:"adjusted"`
		} `json:"groups"`
		Standardized bool `json:"standardized"`
	}
	require.NoError(t, json.Unmarshal(r.Result, &rates))
	require.NotEmpty(t, rates.Groups)
	require.NotNil(t, rates.Groups[0].Group)
	// Directly standardized by age class and sex to the registry on the
	// index date (the cohort itself): at least one ASL has an adjusted rate.
	adjusted := 0
	for _, g := range rates.Groups {
		if g.Adjusted != nil {
			adjusted++
			require.False(t, math.IsNaN(*g.Adjusted) || *g.Adjusted < 0)
		}
	}
	require.Positive(t, adjusted, "result: %s", r.Result)
	require.True(t, rates.Standardized)
}

// TestResultsModels: logistic and linear fits give finite coefficients on
// the region; a stratified Cox analysis gives one result per sex.
func TestResultsModels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	client := worker(t, pool, 4)
	var p map[string]any
	require.NoError(t, json.Unmarshal(example(t, "comparator-new-users.json"), &p))
	phases := p["phases"].(map[string]any)
	phases["analyses"] = append(phases["analyses"].([]any),
		map[string]any{"name": "logit", "kind": "logistic", "outcome": "ami", "horizon": 180, "covariates": []string{"age"}},
		map[string]any{"name": "lm", "kind": "linear", "dependent": "age", "covariates": []string{"exposure", "sex", "diabetes"}},
		map[string]any{"name": "by-sex", "kind": "cox", "outcome": "ami", "covariates": []string{"exposure"}, "stratify_by": "sex"},
	)
	b, err := json.Marshal(p)
	require.NoError(t, err)
	runID, err := submit(ctx, pool, client, b, nil, 0)
	require.NoError(t, err)
	pr := wait(t, pool, runID)
	require.Equal(t, study.StateDone, pr.State, "error: %s", pr.Error)
	doc, err := service(pool, nil).ResultsJSON(ctx, runID)
	require.NoError(t, err)
	var d struct {
		Analyses map[string]struct {
			Kind   string          `json:"kind"`
			Error  string          `json:"error"`
			Result json.RawMessage `json:"result"`
		} `json:"analyses"`
	}
	require.NoError(t, json.Unmarshal(doc, &d))
	for name, terms := range map[string][]string{
		"logit": {"(Intercept)", "age"},
		"lm":    {"(Intercept)", "exposure=A", "sex=M", "diabetes"},
	} {
		r := d.Analyses[name]
		require.Empty(t, r.Error, name)
		var res struct {
			Coefficients []struct {
				Term string   `json:"term"`
				Coef *float64 `json:"coef"`
				SE   *float64 `json:"se"`
			} `json:"coefficients"`
		}
		require.NoError(t, json.Unmarshal(r.Result, &res))
		got := []string{}
		for _, c := range res.Coefficients {
			got = append(got, c.Term)
			require.NotNil(t, c.Coef, "%s %s", name, c.Term)
			require.NotNil(t, c.SE, "%s %s", name, c.Term)
			require.Positive(t, *c.SE)
		}
		require.Equal(t, terms, got, name)
	}
	var st struct {
		StratifyBy string `json:"stratify_by"`
		Classes    []struct {
			Class string `json:"class"`
		} `json:"classes"`
	}
	require.NoError(t, json.Unmarshal(d.Analyses["by-sex"].Result, &st))
	require.Equal(t, "sex", st.StratifyBy)
	require.Len(t, st.Classes, 2)
	require.Equal(t, "F", st.Classes[0].Class)
	require.Equal(t, "M", st.Classes[1].Class)
}
