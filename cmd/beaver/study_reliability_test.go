package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/schema/pgserver"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// Reliability of the study engine with real processes: a PostgreSQL
// restart under a running worker, two worker processes sharing the
// database, two runs at once. Each compares the results with those of an
// uninterrupted run worked in-process on the same data, deleted before the
// run under test so that it does not reuse their steps.

const (
	comparatorExample = "../../docs/examples/comparator-new-users.json"
	ratesExample      = "../../docs/examples/hip-fracture-rates.json"
)

// referenceResults runs each protocol in-process on url, one after the
// other, and returns their documents without profile; the runs are then
// deleted.
func referenceResults(t *testing.T, pool *pgxpool.Pool, url string, protocols ...string) []string {
	t.Helper()
	var out []string
	for _, p := range protocols {
		o, code := runBeaver(t, "", "study", "run", p, "--wait", "--database-url", url)
		require.Equal(t, 0, code, o)
		id := lastRun(t, pool)
		out = append(out, documentOf(t, pool, id))
		o, code = runBeaver(t, "", "study", "delete", strconv.FormatInt(id, 10), "--database-url", url)
		require.Equal(t, 0, code, o)
	}
	return out
}

// documentOf is a run's results document without its profile.
func documentOf(t *testing.T, pool *pgxpool.Pool, runID int64) string {
	t.Helper()
	doc, err := (&study.Service{Pool: pool}).Results(context.Background(), runID)
	require.NoError(t, err)
	doc.Profile = nil
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	return string(b)
}

// lastRun is the id of the newest run.
func lastRun(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	runs, err := (&study.Service{Pool: pool}).List(context.Background(), study.ListFilter{Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, runs)
	return runs[0].ID
}

// runState reads a run's state.
func runState(ctx context.Context, pool *pgxpool.Pool, runID int64) (study.State, error) {
	runs, err := (&study.Service{Pool: pool}).List(ctx, study.ListFilter{RunID: runID})
	if err != nil {
		return "", err
	}
	if len(runs) == 0 {
		return "", study.ErrNotFound
	}
	return runs[0].State, nil
}

// startWorker starts `beaver worker` and waits until it works jobs.
func startWorker(t *testing.T, url string, workers int) *proc {
	t.Helper()
	p := start(t, nil, "worker", "--workers", strconv.Itoa(workers), "--database-url", url)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.Stderr(), "beaver worker is running") {
		require.True(t, time.Now().Before(deadline), "the worker did not start:\n%s", p.Stderr())
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// submit submits a run to the running workers and returns its id.
func submit(t *testing.T, pool *pgxpool.Pool, url, protocol string) int64 {
	t.Helper()
	out, code := runBeaver(t, "", "study", "run", protocol, "--json", "--database-url", url)
	require.Equal(t, 0, code, out)
	return lastRun(t, pool)
}

// waitEnded polls a run until it ends and returns its state; logs is what
// to show when it does not end within the deadline.
func waitEnded(t *testing.T, pool *pgxpool.Pool, runID int64, within time.Duration, logs func() string) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		state, err := runState(context.Background(), pool, runID)
		if err == nil && state.Ended() {
			return string(state)
		}
		require.True(t, time.Now().Before(deadline), "run %d not ended within %s (last error %v):\n%s", runID, within, err, logs())
		time.Sleep(100 * time.Millisecond)
	}
}

// waitMidRun waits until a step of the run is running and another done.
func waitMidRun(t *testing.T, pool *pgxpool.Pool, runID int64, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var ok bool
		require.NoError(t, pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM study_step WHERE run_id = $1 AND state = 'running')
			AND EXISTS (SELECT 1 FROM study_step WHERE run_id = $1 AND state = 'done')`, runID).Scan(&ok))
		if ok {
			return
		}
		require.True(t, time.Now().Before(deadline), "no step of run %d ran:\n%s", runID, logs())
		time.Sleep(2 * time.Millisecond)
	}
}

// TestStudySurvivesPostgresRestart restarts the database server (a cluster
// of the test's own) while a worker runs a step of a run: the worker
// reconnects, the step interrupted is retried, and the run completes with
// the results of an uninterrupted run.
func TestStudySurvivesPostgresRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "beaver-restart-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	cfg := pgserver.Config{Dir: dir, Logger: slog.New(slog.DiscardHandler),
		Settings: map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}}
	srv, err := pgserver.Start(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = srv.Stop(context.Background())
		_ = os.RemoveAll(dir)
	})
	url := srv.DatabaseURL()
	out, code := runBeaver(t, "", "synth", "--persons", "2000", "--years", "8", "--seed", "5", "--load", "--database-url", url)
	require.Equal(t, 0, code, out)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	ref := referenceResults(t, pool, url, comparatorExample)

	w := startWorker(t, url, 2)
	runID := submit(t, pool, url, comparatorExample)
	waitMidRun(t, pool, runID, w.Stderr)
	var running []string
	rows, err := pool.Query(ctx, "SELECT name FROM study_step WHERE run_id = $1 AND state = 'running'", runID)
	require.NoError(t, err)
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		running = append(running, n)
	}
	require.NoError(t, rows.Err())

	require.NoError(t, srv.Stop(ctx)) // a fast shutdown: every session is ended
	srv, err = pgserver.Start(ctx, cfg)
	require.NoError(t, err)
	restarted := time.Now()

	require.Equal(t, "done", waitEnded(t, pool, runID, 3*time.Minute, w.Stderr), w.Stderr())
	t.Logf("done %s after the restart (running then: %v)", time.Since(restarted).Round(time.Millisecond), running)
	require.Equal(t, ref[0], documentOf(t, pool, runID), "results after a restart differ from an uninterrupted run's")
	select {
	case err := <-w.done:
		t.Fatalf("the worker exited (%v) instead of reconnecting:\n%s", err, w.Stderr())
	default:
	}
	terminate(t, w)
}

// workersOf counts the River clients (one per process) that worked the
// step jobs of a run.
func workersOf(t *testing.T, pool *pgxpool.Pool, runID int64) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(DISTINCT a) FROM river_job j, unnest(j.attempted_by) a
		WHERE j.kind = 'beaver.study_step' AND (j.args->>'run_id')::bigint = $1`, runID).Scan(&n))
	return n
}

// TestStudyTwoWorkers: two `beaver worker` processes on one database both
// pick up steps of a run, which completes with the results of a run worked
// by one process.
func TestStudyTwoWorkers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	out, code := runBeaver(t, "", "synth", "--persons", "2000", "--years", "8", "--seed", "6", "--load", "--database-url", url)
	require.Equal(t, 0, code, out)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	ref := referenceResults(t, pool, url, comparatorExample)

	w1 := startWorker(t, url, 1)
	w2 := startWorker(t, url, 1)
	logs := func() string { return w1.Stderr() + "\n---\n" + w2.Stderr() }
	runID := submit(t, pool, url, comparatorExample)
	require.Equal(t, "done", waitEnded(t, pool, runID, 3*time.Minute, logs), logs())
	require.Equal(t, 2, workersOf(t, pool, runID), "both worker processes work steps")
	require.Equal(t, ref[0], documentOf(t, pool, runID))
	terminate(t, w1)
	terminate(t, w2)
}

// TestStudyTwoRunsAtOnce: two runs of different protocols submitted
// together share one worker's steps; both complete with the results they
// have when run alone.
func TestStudyTwoRunsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	out, code := runBeaver(t, "", "synth", "--persons", "2000", "--years", "8", "--seed", "7", "--load", "--database-url", url)
	require.Equal(t, 0, code, out)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	ref := referenceResults(t, pool, url, comparatorExample, ratesExample)

	w := startWorker(t, url, 2)
	a := submit(t, pool, url, comparatorExample)
	b := submit(t, pool, url, ratesExample)
	// The second is under way while the first is, as a rule (the log says):
	// River takes the jobs of both runs in the order they were enqueued.
	waitMidRun(t, pool, b, w.Stderr)
	aState, err := runState(ctx, pool, a)
	require.NoError(t, err)
	aEnded := aState.Ended()
	require.Equal(t, "done", waitEnded(t, pool, a, 3*time.Minute, w.Stderr), w.Stderr())
	require.Equal(t, "done", waitEnded(t, pool, b, 3*time.Minute, w.Stderr), w.Stderr())
	t.Logf("run %d had ended when run %d was under way: %v", a, b, aEnded)
	require.Equal(t, ref[0], documentOf(t, pool, a))
	require.Equal(t, ref[1], documentOf(t, pool, b))
	terminate(t, w)
}
