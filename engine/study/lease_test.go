package study_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/study"
)

// TestSweep: the sweeper enqueues again a step whose lease ran out, and one
// whose job River has been running for long without a lease, cancels their
// old jobs, and leaves live leases and done steps alone; then it enqueues
// the results of a run whose steps are all done and whose results lease
// ran out.
func TestSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	client := insertOnly(t, pool)
	runID, err := submit(ctx, pool, client, example(t, "comparator-new-users.json"), nil, 0)
	require.NoError(t, err)

	var names []string
	rows, err := pool.Query(ctx, "SELECT name FROM study_step WHERE run_id = $1 AND state = 'queued' ORDER BY name", runID)
	require.NoError(t, err)
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		names = append(names, n)
	}
	require.NoError(t, rows.Err())
	require.GreaterOrEqual(t, len(names), 3, "the example starts with several independent steps")
	expired, live, noLease := names[0], names[1], names[2]
	jobOf := func(step string) int64 {
		var id int64
		require.NoError(t, pool.QueryRow(ctx, "SELECT job_id FROM study_step WHERE run_id = $1 AND name = $2", runID, step).Scan(&id))
		return id
	}
	oldExpired, oldLive, oldNoLease := jobOf(expired), jobOf(live), jobOf(noLease)
	_, err = pool.Exec(ctx, `UPDATE study_step SET state = 'running', attempts = 1, lease_owner = 'dead',
		lease_until = now() - interval '1 second' WHERE run_id = $1 AND name = $2`, runID, expired)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE study_step SET state = 'running', attempts = 1, lease_owner = 'alive',
		lease_until = now() + interval '1 hour' WHERE run_id = $1 AND name = $2`, runID, live)
	require.NoError(t, err)
	// River fetched noLease's job a minute ago, and its process died
	// before it took the lease.
	_, err = pool.Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() - interval '1 minute'
		WHERE id = ANY ($1)`, []int64{oldNoLease, oldLive})
	require.NoError(t, err)

	res, err := service(pool, client).Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, study.SweepResult{Steps: 2}, res)
	for _, s := range []struct {
		name  string
		old   int64
		moved bool
	}{{expired, oldExpired, true}, {noLease, oldNoLease, true}, {live, oldLive, false}} {
		var state string
		var owner *string
		var jobState string
		require.NoError(t, pool.QueryRow(ctx, `SELECT s.state, s.lease_owner, j.state FROM study_step s
			JOIN river_job j ON j.id = s.job_id WHERE s.run_id = $1 AND s.name = $2`, runID, s.name).Scan(&state, &owner, &jobState))
		if !s.moved {
			require.Equal(t, s.old, jobOf(s.name), s.name)
			require.Equal(t, "running", state, s.name)
			require.Equal(t, "alive", *owner, s.name)
			continue
		}
		require.NotEqual(t, s.old, jobOf(s.name), s.name)
		require.Equal(t, "queued", state, s.name)
		require.Nil(t, owner, s.name)
		require.Equal(t, "available", jobState, s.name)
		var oldState string
		var cancelAsked bool
		require.NoError(t, pool.QueryRow(ctx, `SELECT state, metadata ? 'cancel_attempted_at' FROM river_job WHERE id = $1`,
			s.old).Scan(&oldState, &cancelAsked))
		require.True(t, oldState == "cancelled" || cancelAsked, "%s: old job %s", s.name, oldState)
	}
	res, err = service(pool, client).Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, study.SweepResult{}, res, "a second sweep finds nothing")

	// Every step done, the results job's process dead.
	_, err = pool.Exec(ctx, `UPDATE study_step SET state = 'done' WHERE run_id = $1`, runID)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE study_run SET state = 'running', lease_owner = 'dead', lease_until = now() - interval '1 second'
		WHERE id = $1`, runID)
	require.NoError(t, err)
	res, err = service(pool, client).Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, study.SweepResult{Results: 1}, res)
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'beaver.study_results'
		AND (args->>'run_id')::bigint = $1 AND state = 'available'`, runID).Scan(&n))
	require.Equal(t, 1, n)
	res, err = service(pool, client).Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, study.SweepResult{}, res)
}
