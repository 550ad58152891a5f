package main

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// stepMark is what a finished step leaves: a step run again changes both.
type stepMark struct {
	Attempts int
	Finished time.Time
}

// doneSteps maps the done steps of a run to their marks, and names a
// running one.
func doneSteps(t *testing.T, pool *pgxpool.Pool, runID int64) (map[string]stepMark, string) {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT name, state, attempts, finished_at FROM study_step WHERE run_id = $1", runID)
	require.NoError(t, err)
	defer rows.Close()
	done := map[string]stepMark{}
	var running string
	for rows.Next() {
		var name, state string
		var m stepMark
		var fin *time.Time
		require.NoError(t, rows.Scan(&name, &state, &m.Attempts, &fin))
		switch state {
		case "done":
			m.Finished = *fin
			done[name] = m
		case "running":
			running = name
		}
	}
	require.NoError(t, rows.Err())
	return done, running
}

// TestStudyResumesAfterKill: `kill -9` of the only worker while a step of
// a run is running; a new worker finishes the run within a minute (the
// leases of engine/study/lease.go, not River's rescuer, which waits hours),
// without running again any step done before the kill, and the results
// equal those of an uninterrupted run.
func TestStudyResumesAfterKill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	out, code := runBeaver(t, "", "synth", "--persons", "3000", "--years", "8", "--seed", "4", "--load", "--database-url", url)
	require.Equal(t, 0, code, out)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	const example = "../../docs/examples/comparator-new-users.json"

	// The uninterrupted run, worked in-process; then deleted, or the next
	// run would reuse all its steps and run none.
	out, code = runBeaver(t, "", "study", "run", example, "--wait", "--database-url", url)
	require.Equal(t, 0, code, out)
	ref := documentOf(t, pool, 1)
	out, code = runBeaver(t, "", "study", "delete", "1", "--database-url", url)
	require.Equal(t, 0, code, out)

	workerUp := func() *proc {
		p := start(t, nil, "worker", "--workers", "1", "--database-url", url)
		deadline := time.Now().Add(30 * time.Second)
		for {
			var up bool
			require.NoError(t, pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM river_leader WHERE expires_at > now())").Scan(&up))
			if up {
				return p
			}
			require.True(t, time.Now().Before(deadline), "the worker did not start:\n%s", p.Stderr())
			time.Sleep(20 * time.Millisecond)
		}
	}
	w := workerUp()
	out, code = runBeaver(t, "", "study", "run", example, "--database-url", url)
	require.Equal(t, 0, code, out)
	const runID = 2

	// Kill the worker while a step runs, after some are done; when the
	// kill lands between two steps, start another worker and try again.
	var before map[string]stepMark
	var killed string
	for try := 0; killed == ""; try++ {
		require.Less(t, try, 5, "never caught a step running")
		deadline := time.Now().Add(60 * time.Second)
		for {
			var ok bool
			require.NoError(t, pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM study_step WHERE run_id = $1 AND state = 'running')
				AND EXISTS (SELECT 1 FROM study_step WHERE run_id = $1 AND state = 'done')`, runID).Scan(&ok))
			if ok {
				break
			}
			require.True(t, time.Now().Before(deadline), "no step ran:\n%s", w.Stderr())
			time.Sleep(2 * time.Millisecond)
		}
		require.NoError(t, w.cmd.Process.Kill()) // SIGKILL
		<-w.done
		before, killed = doneSteps(t, pool, runID)
		w = workerUp()
	}
	killedAt := time.Now()

	deadline := killedAt.Add(60 * time.Second)
	var state study.State
	for {
		var err error
		state, err = runState(ctx, pool, runID)
		require.NoError(t, err)
		if state.Ended() {
			break
		}
		require.True(t, time.Now().Before(deadline), "run %d not done within a minute of the kill:\n%s", runID, w.Stderr())
		time.Sleep(100 * time.Millisecond)
	}
	require.Equal(t, study.StateDone, state, w.Stderr())
	t.Logf("resumed and done %s after the kill (step %s was running)", time.Since(killedAt).Round(time.Millisecond), killed)

	after, running := doneSteps(t, pool, runID)
	require.Empty(t, running)
	for name, m := range before {
		require.Equal(t, m, after[name], "step %s was done before the kill and ran again", name)
	}
	// The killed step's transaction was rolled back when its connection
	// died, and the step ran again to its end.
	require.Contains(t, after, killed)
	require.GreaterOrEqual(t, after[killed].Attempts, 2, "step %s", killed)

	got := documentOf(t, pool, runID)
	require.Equal(t, ref, got, "results of the resumed run differ from the uninterrupted run's")
	terminate(t, w)
}
