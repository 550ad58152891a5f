package study_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/study"
)

// TestCancelRunning cancels a run while its steps' queries run: they are
// made to wait on a lock the test holds on the flows, as a long scan would
// run. Within 2 s of Cancel returning no query of the run is left in
// pg_stat_activity, the run and its steps are cancelled, its schema is
// dropped, and no step finishes once the lock is released.
func TestCancelRunning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	client := insertOnly(t, pool)
	runID, err := submit(ctx, pool, client, example(t, "comparator-new-users.json"), nil, 0)
	require.NoError(t, err)

	lock, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = lock.Rollback(ctx) }()
	_, err = lock.Exec(ctx, "LOCK TABLE person, enrolment, sdo, sdo_diagnosis, pharmacy, exemption IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)

	worker(t, pool, 2)
	like := "beaver study_run " + itoa(runID) + " step %"
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name LIKE $1 AND state = 'active' AND wait_event_type = 'Lock'`, like).Scan(&waiting))
		if waiting == 2 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the run's two first steps never ran")
		time.Sleep(10 * time.Millisecond)
	}

	t0 := time.Now()
	require.NoError(t, service(pool, client).Cancel(ctx, runID))
	t.Logf("cancel took %s", time.Since(t0))
	deadline = time.Now().Add(2 * time.Second)
	for {
		var left int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name LIKE $1 AND state = 'active'`, like).Scan(&left))
		if left == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "%d queries of the cancelled run still run 2 s after Cancel", left)
		time.Sleep(10 * time.Millisecond)
	}
	var gone bool
	require.NoError(t, pool.QueryRow(ctx, "SELECT to_regnamespace($1) IS NULL", study.SchemaName(runID)).Scan(&gone))
	require.True(t, gone, "the cancelled run's schema is dropped")
	require.NoError(t, lock.Rollback(ctx))

	// Give the workers time to misbehave: nothing of the run may finish.
	time.Sleep(500 * time.Millisecond)
	p, err := service(pool, nil).Status(ctx, runID)
	require.NoError(t, err)
	require.Equal(t, study.StateCancelled, p.State)
	require.Zero(t, p.StepsDone)
	require.Nil(t, p.ETA)
	require.Zero(t, p.DiskBytes)
	for _, s := range p.Steps {
		require.Equal(t, study.StateCancelled, s.State, s.Name)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
