package study_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/engine/study"
)

// stepStates maps a run's steps to their reused_from (0 when the step ran).
func reusedFrom(t *testing.T, pool *pgxpool.Pool, runID int64) map[string]int64 {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT name, coalesce(reused_from, 0) FROM study_step WHERE run_id = $1", runID)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var n string
		var from int64
		require.NoError(t, rows.Scan(&n, &from))
		out[n] = from
	}
	require.NoError(t, rows.Err())
	return out
}

// readable requires every step table of a run to answer with the rows its
// step wrote.
func readable(t *testing.T, pool *pgxpool.Pool, runID int64) {
	t.Helper()
	ctx := context.Background()
	plan, err := service(pool, nil).Plan(ctx, runID)
	require.NoError(t, err)
	for _, s := range plan.Steps {
		var want, got int64
		require.NoError(t, pool.QueryRow(ctx, "SELECT rows FROM study_step WHERE run_id = $1 AND name = $2", runID, s.Name).Scan(&want))
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+s.Table).Scan(&got), "run %d step %s", runID, s.Name)
		require.Equal(t, want, got, "run %d step %s", runID, s.Name)
	}
}

// comparable is a run's stored document without its profile.
func comparable(t *testing.T, pool *pgxpool.Pool, runID int64) string {
	t.Helper()
	doc, err := service(pool, nil).Results(context.Background(), runID)
	require.NoError(t, err)
	doc.Profile = nil
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	return string(b)
}

// TestReuseAndDelete: a second run of an unchanged protocol reuses every
// step and gives the same results; a run whose analyses changed reuses
// every step; a run whose covariate changed reruns only that covariate's
// steps and what reads them. Disk use counts the tables a run holds.
// Deleting the runs that hold the tables hands them over: the later runs
// read the same rows and compute the same results.
func TestReuseAndDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	client := worker(t, pool, 2)
	proto := example(t, "comparator-new-users.json")
	submitWait := func(b []byte) int64 {
		id, err := submit(ctx, pool, client, b, nil, 0)
		require.NoError(t, err)
		p := wait(t, pool, id)
		require.Equal(t, study.StateDone, p.State, "run %d: %s", id, p.Error)
		return id
	}
	run1 := submitWait(proto)
	require.Empty(t, nonZero(reusedFrom(t, pool, run1)), "the first run has nothing to reuse")

	// The data end is computed once for the data version and kept.
	var cached, runEnd string
	require.NoError(t, pool.QueryRow(ctx, `SELECT e.data_end::text, r.data_end::text FROM study_run r
		JOIN study_data_end e ON e.data_version = r.data_version WHERE r.id = $1`, run1).Scan(&cached, &runEnd))
	require.Equal(t, runEnd, cached)

	run2 := submitWait(proto)
	reused := reusedFrom(t, pool, run2)
	for name, from := range reused {
		require.Equal(t, run1, from, "step %s of the unchanged protocol ran again", name)
	}
	p2, err := service(pool, nil).Status(ctx, run2)
	require.NoError(t, err)
	require.Equal(t, p2.StepsTotal, p2.StepsReused)
	require.Equal(t, comparable(t, pool, run1), comparable(t, pool, run2))
	var prof struct {
		Profile struct {
			Steps []struct {
				ReusedFrom *int64 `json:"reused_from"`
			} `json:"steps"`
		} `json:"profile"`
	}
	doc, err := service(pool, nil).ResultsJSON(ctx, run2)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(doc, &prof))
	require.Len(t, prof.Profile.Steps, p2.StepsTotal)
	for _, s := range prof.Profile.Steps {
		require.NotNil(t, s.ReusedFrom)
		require.Equal(t, run1, *s.ReusedFrom)
	}

	// The analyses phase edited: the crude model dropped.
	var p map[string]any
	require.NoError(t, json.Unmarshal(proto, &p))
	phases := p["phases"].(map[string]any)
	var kept []any
	for _, a := range phases["analyses"].([]any) {
		if a.(map[string]any)["name"] != "crude" {
			kept = append(kept, a)
		}
	}
	phases["analyses"] = kept
	edited, err := json.Marshal(p)
	require.NoError(t, err)
	run3 := submitWait(edited)
	require.Empty(t, zero(reusedFrom(t, pool, run3)), "editing the analyses re-ran steps")
	require.NotContains(t, comparable(t, pool, run3), `"crude"`)
	require.Contains(t, comparable(t, pool, run3), `"adjusted"`)

	// A covariate edited: the diabetes exemption's window widened.
	for _, c := range phases["covariates"].([]any) {
		if c.(map[string]any)["name"] == "diabetes_exemption" {
			c.(map[string]any)["window"] = map[string]any{"start": -30, "end": 0}
		}
	}
	edited, err = json.Marshal(p)
	require.NoError(t, err)
	run4 := submitWait(edited)
	plan4, err := service(pool, nil).Plan(ctx, run4)
	require.NoError(t, err)
	ran := zero(reusedFrom(t, pool, run4))
	require.NotEmpty(t, ran)
	for _, s := range plan4.Steps {
		switch {
		case s.Kind == cohort.StepIndex || s.Kind == cohort.StepCohort || s.Kind == cohort.StepEvent:
			require.NotContains(t, ran, s.Name, "step %s does not read the edited covariate", s.Name)
		case strings.HasPrefix(s.Name, "cov_diabetes_exemption_") || s.Kind == cohort.StepDataset:
			require.Contains(t, ran, s.Name, "step %s reads the edited covariate", s.Name)
		}
	}

	// Disk use: what the run's schema holds, summed by hand over its plan.
	plan1, err := service(pool, nil).Plan(ctx, run1)
	require.NoError(t, err)
	var want int64
	for _, s := range plan1.Steps {
		var n int64
		require.NoError(t, pool.QueryRow(ctx, "SELECT pg_total_relation_size(to_regclass($1))", s.Table).Scan(&n))
		want += n
	}
	got, err := service(pool, nil).DiskBytes(ctx, run1)
	require.NoError(t, err)
	require.Positive(t, want)
	require.Equal(t, want, got)
	got, err = service(pool, nil).DiskBytes(ctx, run2)
	require.NoError(t, err)
	require.Zero(t, got, "run 2 holds views only")

	// Deleting run 1 hands its tables to run 2 (the oldest reusing it); run
	// 3 and 4 read them through their views, which follow the tables.
	require.NoError(t, service(pool, client).Delete(ctx, run1))
	_, err = service(pool, nil).Status(ctx, run1)
	require.ErrorIs(t, err, study.ErrNotFound)
	var gone bool
	require.NoError(t, pool.QueryRow(ctx, "SELECT to_regnamespace($1) IS NULL", study.SchemaName(run1)).Scan(&gone))
	require.True(t, gone)
	got, err = service(pool, nil).DiskBytes(ctx, run2)
	require.NoError(t, err)
	require.Equal(t, want, got, "run 2 now holds run 1's tables")
	for _, id := range []int64{run2, run3, run4} {
		readable(t, pool, id)
	}
	require.NoError(t, service(pool, client).Delete(ctx, run2))
	for _, id := range []int64{run3, run4} {
		readable(t, pool, id)
		again, err := service(pool, nil).Analyze(ctx, id)
		require.NoError(t, err)
		b, err := json.Marshal(again)
		require.NoError(t, err)
		var a, s any
		require.NoError(t, json.Unmarshal(b, &a))
		require.NoError(t, json.Unmarshal([]byte(comparable(t, pool, id)), &s))
		require.Equal(t, s, a, "run %d computes other results once the runs it reused are deleted", id)
	}
	// A new run reuses from the runs that now hold the tables.
	run5 := submitWait(proto)
	for name, from := range reusedFrom(t, pool, run5) {
		require.Contains(t, []int64{run3, run4}, from, "step %s", name)
	}
	require.ErrorIs(t, service(pool, client).Delete(ctx, run1), study.ErrNotFound)

	// A submission reads the stored data end (altered here to tell).
	_, err = pool.Exec(ctx, "UPDATE study_data_end SET data_end = data_end - 1")
	require.NoError(t, err)
	run6, err := submit(ctx, pool, client, proto, nil, 0)
	require.NoError(t, err)
	var end6 string
	require.NoError(t, pool.QueryRow(ctx, "SELECT (data_end + 1)::text FROM study_run WHERE id = $1", run6).Scan(&end6))
	require.Equal(t, runEnd, end6, "the data end was computed again instead of read from study_data_end")
	require.NoError(t, service(pool, client).Delete(ctx, run6))
}

func nonZero(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func zero(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v == 0 {
			out[k] = v
		}
	}
	return out
}

// TestFairShare: the ready steps of two runs submitted one after the other
// (nothing to reuse: no step of the first is done yet)
// get River priorities by their rank in their own run, so that the order
// River takes jobs in (priority, then scheduled time, then id) alternates
// between the runs instead of finishing the first run's backlog first.
func TestFairShare(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	c := insertOnly(t, pool)
	a, err := submit(ctx, pool, c, example(t, "comparator-new-users.json"), nil, 0)
	require.NoError(t, err)
	b, err := submit(ctx, pool, c, example(t, "comparator-new-users.json"), nil, 0)
	require.NoError(t, err)
	for _, run := range []int64{a, b} {
		var queued int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM study_step WHERE run_id = $1 AND state = 'queued'", run).Scan(&queued))
		require.Greater(t, queued, 2*study.FairShare, "run %d has too few ready steps to tell", run)
		rows, err := pool.Query(ctx, `SELECT j.priority, count(*) FROM river_job j JOIN study_step s ON s.job_id = j.id
			WHERE s.run_id = $1 GROUP BY j.priority ORDER BY j.priority`, run)
		require.NoError(t, err)
		got := map[int]int{}
		for rows.Next() {
			var p, n int
			require.NoError(t, rows.Scan(&p, &n))
			got[p] = n
		}
		require.NoError(t, rows.Err())
		want := map[int]int{}
		for i := range queued {
			want[min(1+i/study.FairShare, 4)]++
		}
		require.Equal(t, want, got, "run %d", run)
	}
	// The first 2×FairShare jobs River would take: FairShare of each run.
	rows, err := pool.Query(ctx, `SELECT (args->>'run_id')::bigint FROM river_job WHERE queue = $1 AND state = 'available'
		ORDER BY priority, scheduled_at, id LIMIT $2`, study.Queue, 2*study.FairShare)
	require.NoError(t, err)
	per := map[int64]int{}
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		per[id]++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, map[int64]int{a: study.FairShare, b: study.FairShare}, per)
}
