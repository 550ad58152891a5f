package engine_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

func TestDemoRegionLoadsOnceIntoAnEmptyDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	client, err := engine.NewClient(pool, engine.Config{Workers: 1, Logger: slog.New(slog.DiscardHandler)}, true)
	require.NoError(t, err)
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	defer cancel()
	require.NoError(t, client.Start(ctx))
	defer func() {
		stopCtx, c := context.WithTimeout(ctx, 10*time.Second)
		defer c()
		_ = engine.Stop(stopCtx, client, time.Second)
	}()
	run := func(seed uint64) {
		t.Helper()
		_, err := client.Insert(ctx, engine.DemoRegionArgs{Persons: 300, Years: 2, Seed: seed}, nil)
		require.NoError(t, err)
		for {
			select {
			case ev := <-events:
				if ev.Job.Kind != "beaver.demo_region" {
					continue
				}
				require.Equal(t, river.EventKindJobCompleted, ev.Kind, "demo job: %v", ev.Job.Errors)
				return
			case <-time.After(90 * time.Second):
				t.Fatal("demo region job did not finish")
			}
		}
	}
	has, err := engine.HasPublishedData(ctx, pool)
	require.NoError(t, err)
	require.False(t, has)
	run(7)
	var persons, versions int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM person").Scan(&persons))
	require.GreaterOrEqual(t, persons, 300, "residents plus newborns and immigrants")
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM etl_data_version").Scan(&versions))
	require.Equal(t, 1, versions)
	var areas int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM area_person").Scan(&areas))
	require.Positive(t, areas, "areas are materialized after the demo import")

	// Once data is there, another demo job changes nothing.
	run(8)
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM etl_data_version").Scan(&versions))
	require.Equal(t, 1, versions)
}
