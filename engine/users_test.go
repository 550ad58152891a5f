package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestCreateUserValidates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	cases := []struct {
		name, user string
		role       engine.Role
		password   string
		want       error
		msg        string
	}{
		{"ok", "ana", engine.RoleAnalyst, "long-enough-1", nil, ""},
		{"bad name", "ana smith", engine.RoleAnalyst, "long-enough-1", engine.ErrInvalid, "user name"},
		{"bad role", "bob", "boss", "long-enough-1", engine.ErrInvalid, `role "boss"`},
		{"short password", "bob", engine.RoleAdmin, "short", engine.ErrInvalid, "at least 10"},
		{"duplicate", "ana", engine.RoleAdmin, "long-enough-2", engine.ErrConflict, `user "ana"`},
	}
	for _, tc := range cases {
		u, err := engine.CreateUser(ctx, pool, tc.user, tc.role, tc.password)
		if tc.want == nil {
			require.NoError(t, err, tc.name)
			require.NotZero(t, u.ID)
			continue
		}
		require.True(t, errors.Is(err, tc.want), "%s: got %v", tc.name, err)
		require.Contains(t, err.Error(), tc.msg, tc.name)
	}
	n, err := engine.CountUsers(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

func TestLoginAndSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	_, err := engine.CreateUser(ctx, pool, "ana", engine.RoleAnalyst, "the-password")
	require.NoError(t, err)

	_, _, err = engine.Login(ctx, pool, "ana", "wrong-password")
	require.ErrorIs(t, err, engine.ErrUnauthorized)
	_, _, err = engine.Login(ctx, pool, "nobody", "the-password")
	require.ErrorIs(t, err, engine.ErrUnauthorized)

	token, u, err := engine.Login(ctx, pool, "ana", "the-password")
	require.NoError(t, err)
	require.Equal(t, engine.RoleAnalyst, u.Role)
	got, err := engine.SessionUser(ctx, pool, token)
	require.NoError(t, err)
	require.Equal(t, u.ID, got.ID)

	// The table holds only the token's hash.
	var stored int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM app_session WHERE token_hash = convert_to($1, 'UTF8')", token).Scan(&stored))
	require.Zero(t, stored)

	// An expired session is refused and removed by maintenance.
	_, err = pool.Exec(ctx, "UPDATE app_session SET expires_at = now() - interval '1 second'")
	require.NoError(t, err)
	_, err = engine.SessionUser(ctx, pool, token)
	require.ErrorIs(t, err, engine.ErrUnauthorized)

	// A disabled user's live session is refused.
	token2, _, err := engine.Login(ctx, pool, "ana", "the-password")
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "UPDATE app_user SET disabled_at = now()")
	require.NoError(t, err)
	_, err = engine.SessionUser(ctx, pool, token2)
	require.ErrorIs(t, err, engine.ErrUnauthorized)

	require.NoError(t, engine.Logout(ctx, pool, token2))
	_, err = engine.SessionUser(ctx, pool, "")
	require.ErrorIs(t, err, engine.ErrUnauthorized)
}

func TestMaintenanceJobInProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	u, err := engine.CreateUser(ctx, pool, "ana", engine.RoleAnalyst, "the-password")
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
