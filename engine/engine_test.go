package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/engine/access"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestMaintenanceJobInProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	u, err := (&access.Service{Pool: pool}).CreateUser(ctx, access.NewUser{Name: "ana", Role: access.RoleAnalyst, Password: "the-password"})
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "INSERT INTO app_session (token_hash, user_id, expires_at) VALUES ('\\x01', $1, now() - interval '1 hour')", u.ID)
	require.NoError(t, err)

	client, err := engine.NewClient(pool, engine.Config{Workers: 2}, true)
	require.NoError(t, err)
	sub, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	require.NoError(t, client.Start(ctx))
	defer func() {
		stopCtx, c := context.WithTimeout(ctx, 10*time.Second)
		defer c()
		require.NoError(t, engine.Stop(stopCtx, client, time.Second))
	}()
	// The periodic job runs on start.
	select {
	case ev := <-sub:
		require.Equal(t, river.EventKindJobCompleted, ev.Kind)
		require.Equal(t, "beaver.maintenance", ev.Job.Kind)
		require.JSONEq(t, `{"sessions_deleted":1}`, string(ev.Job.Output()))
	case <-time.After(30 * time.Second):
		t.Fatal("maintenance job did not complete")
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := engine.Config{}.WithDefaults()
	require.Greater(t, c.Workers, 0)
	require.Greater(t, c.JobTimeout, time.Minute, "River's 1-minute default would cancel long SQL steps")
	require.GreaterOrEqual(t, c.RescueStuckJobsAfter, c.JobTimeout)
	require.Less(t, c.FetchCooldown, 100*time.Millisecond)
}
