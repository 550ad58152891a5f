package engine

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/engine/synth"
)

// DemoRegionArgs loads a synthetic region into an empty database, so that
// a first `make run` has data to study. It does nothing once any import
// has been published.
type DemoRegionArgs struct {
	Persons int    `json:"persons"`
	Years   int    `json:"years"`
	Seed    uint64 `json:"seed"`
}

// Kind names the job in River's table.
func (DemoRegionArgs) Kind() string { return "beaver.demo_region" }

// InsertOpts keeps a single demo load queued or running.
func (DemoRegionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// DemoRegionWorker works DemoRegionArgs: it writes the region with
// `beaver synth` into a temporary directory and imports it through the
// validated import path.
type DemoRegionWorker struct {
	river.WorkerDefaults[DemoRegionArgs]
	Pool   *pgxpool.Pool
	Logger *slog.Logger
}

// Timeout lets the load run as long as it needs.
func (w *DemoRegionWorker) Timeout(*river.Job[DemoRegionArgs]) time.Duration { return -1 }

// HasPublishedData reports whether any import has been published.
func HasPublishedData(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	var ok bool
	err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM etl_data_version)").Scan(&ok)
	return ok, err
}

// Work generates and imports the region unless data is already there.
func (w *DemoRegionWorker) Work(ctx context.Context, job *river.Job[DemoRegionArgs]) error {
	has, err := HasPublishedData(ctx, w.Pool)
	if err != nil {
		return fmt.Errorf("demo region: %w", err)
	}
	if has {
		w.Logger.Info("demo region not loaded: the database already holds data")
		return nil
	}
	dir, err := os.MkdirTemp("", "beaver-demo-")
	if err != nil {
		return fmt.Errorf("demo region: %w", err)
	}
	defer os.RemoveAll(dir)
	cfg := synth.Config{Persons: job.Args.Persons, Years: job.Args.Years, Seed: job.Args.Seed}
	w.Logger.Info("generating the demo region", "persons", cfg.Persons, "years", cfg.Years, "seed", cfg.Seed)
	if _, err := synth.WriteCSV(ctx, cfg, dir, nil); err != nil {
		return river.JobCancel(fmt.Errorf("demo region: generate: %w", err))
	}
	paths, err := synth.Files(dir)
	if err != nil {
		return river.JobCancel(err)
	}
	res, err := etl.Load(ctx, w.Pool, paths, etl.Options{StartedBy: "demo region", Logger: w.Logger,
		AfterPublish: func(ctx context.Context, version int64) error { return etl.AfterPublish(ctx, w.Pool, version) }})
	if err != nil {
		return fmt.Errorf("demo region: import: %w", err)
	}
	w.Logger.Info("demo region loaded", "data_version", res.DataVersion, "rows", res.RowsPublished, "rejected", res.RowsRejected)
	return nil
}
