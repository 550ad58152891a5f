package schema_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/schema"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestMigrationsAreNumberedInOrder(t *testing.T) {
	t.Parallel()
	ms := schema.Migrations()
	require.NotEmpty(t, ms)
	for i, m := range ms {
		require.Equal(t, i+1, m.Version)
		require.NotEmpty(t, m.SQL)
	}
	require.Equal(t, len(ms), schema.Latest())
}

func TestMigrateIsIdempotentAndCurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t) // already migrated once, from the template
	require.NoError(t, schema.Migrate(ctx, pool, slog.New(slog.DiscardHandler)))
	st, err := schema.CheckStatus(ctx, pool)
	require.NoError(t, err)
	require.True(t, st.Current(), "status %+v", st)
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM beaver_migration").Scan(&n))
	require.Equal(t, schema.Latest(), n)
	for _, table := range []string{"app_user", "app_session", "study", "study_run", "audit_log", "river_job"} {
		var ok bool
		require.NoError(t, pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok))
		require.True(t, ok, "table %s missing", table)
	}
}

func TestMigrateFreshDatabaseFromScratch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	// Wipe everything the template put there, then migrate from nothing.
	_, err := pool.Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
	require.NoError(t, err)
	st, err := schema.CheckStatus(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, 0, st.App)
	require.Equal(t, 0, st.River)
	require.NoError(t, schema.Migrate(ctx, pool, nil))
	st, err = schema.CheckStatus(ctx, pool)
	require.NoError(t, err)
	require.True(t, st.Current(), "status %+v", st)
}

func TestRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	_, err := pool.Exec(ctx, "INSERT INTO beaver_migration (version, name) VALUES ($1, 'from_the_future')", schema.Latest()+1)
	require.NoError(t, err)
	err = schema.Migrate(ctx, pool, nil)
	require.True(t, errors.Is(err, schema.ErrTooNew), "got %v", err)
	require.Contains(t, err.Error(), "upgrade beaver")
	_, err = schema.CheckStatus(ctx, pool)
	require.ErrorIs(t, err, schema.ErrTooNew)
}

func TestConcurrentMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	pools := make([]*pgxpool.Pool, 3)
	for i := range pools {
		p, err := pgxpool.New(ctx, url)
		require.NoError(t, err)
		t.Cleanup(p.Close)
		pools[i] = p
	}
	_, err := pools[0].Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
	require.NoError(t, err)
	errs := make(chan error, len(pools))
	for _, p := range pools {
		go func() { errs <- schema.Migrate(ctx, p, nil) }()
	}
	for range pools {
		require.NoError(t, <-errs)
	}
	st, err := schema.CheckStatus(ctx, pools[0])
	require.NoError(t, err)
	require.True(t, st.Current())
}
