// Package engine runs Beaver's background work on River: study steps (with
// the study-engine issue), imports and maintenance. Job arguments carry ids
// only; a deterministic failure returns river.JobCancel, a transient one a
// plain error so that River retries it.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/beaver-analytics/beaver/engine/access"
	"github.com/beaver-analytics/beaver/engine/study"
)

// Config sets how the workers run. Zero values mean the defaults described
// on each field.
type Config struct {
	// Workers is how many jobs this process works at once; default the
	// number of cores.
	Workers int
	// JobTimeout bounds one job. River's default (1 minute) would cancel a
	// long SQL step of a big study, so Beaver's default is 6 hours; steps
	// that are cancelled on purpose stop through JobCancel, not the timeout.
	JobTimeout time.Duration
	// RescueStuckJobsAfter is how long a job may stay "running" before it
	// is taken to belong to a dead process and is retried. River requires it
	// to be at least JobTimeout (a live job must not be run twice), so the
	// default is JobTimeout plus a minute. Quick resumption of the steps of
	// a killed process is the study engine's business (leases with a
	// heartbeat), not the rescuer's.
	RescueStuckJobsAfter time.Duration
	// FetchCooldown is the shortest pause between two fetches of new jobs.
	// River's default (100 ms) caps two workers at about 20 short jobs per
	// second; studies are made of many short per-partition steps, so
	// Beaver's default is 5 ms.
	FetchCooldown time.Duration
	// FetchPollInterval is how often to look for jobs when no notification
	// arrives; default 1 s.
	FetchPollInterval time.Duration
	// Logger receives River's messages; default slog.Default().
	Logger *slog.Logger
	// DataDir, when set on a working client, makes this process import
	// the files dropped in DATA-DIR/inbox/ (see InboxWorker); only the
	// process that owns the data dir (`beaver serve`) sets it.
	DataDir string
	// InboxMinAge is how long a dropped file must stay unchanged before it
	// is imported; default 5 s.
	InboxMinAge time.Duration
	// Notifier tells the admins how inbox imports ended; nil: no one.
	Notifier *Notifier
}

// WithDefaults returns the config with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Workers <= 0 {
		c.Workers = runtime.NumCPU()
	}
	if c.JobTimeout == 0 {
		c.JobTimeout = 6 * time.Hour
	}
	if c.RescueStuckJobsAfter == 0 {
		c.RescueStuckJobsAfter = c.JobTimeout + time.Minute
	}
	if c.FetchCooldown == 0 {
		c.FetchCooldown = 5 * time.Millisecond
	}
	if c.FetchPollInterval == 0 {
		c.FetchPollInterval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.InboxMinAge == 0 {
		c.InboxMinAge = 5 * time.Second
	}
	return c
}

// Client is the River client of one process.
type Client = river.Client[pgx.Tx]

// NewClient returns a River client with every Beaver worker registered. With
// work false it only inserts jobs (for the CLI and the web server's
// enqueueing side).
func NewClient(pool *pgxpool.Pool, cfg Config, work bool) (*Client, error) {
	cfg = cfg.WithDefaults()
	workers := river.NewWorkers()
	river.AddWorker(workers, &MaintenanceWorker{Pool: pool})
	river.AddWorker(workers, &DemoRegionWorker{Pool: pool, Logger: cfg.Logger})
	river.AddWorker(workers, &InboxWorker{Pool: pool, DataDir: cfg.DataDir, Notifier: cfg.Notifier, MinAge: cfg.InboxMinAge, Logger: cfg.Logger})
	river.AddWorker(workers, &study.StepWorker{Pool: pool, Logger: cfg.Logger})
	river.AddWorker(workers, &study.LeasedResultsWorker{ResultsWorker: study.ResultsWorker{Pool: pool, Logger: cfg.Logger}})
	river.AddWorker(workers, &study.SweepWorker{Pool: pool, Logger: cfg.Logger})
	river.AddWorker(workers, &UploadWorker{Pool: pool, Logger: cfg.Logger})
	rc := &river.Config{
		Logger:               riverLogger(cfg.Logger),
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueStuckJobsAfter,
		FetchCooldown:        cfg.FetchCooldown,
		FetchPollInterval:    cfg.FetchPollInterval,
		Workers:              workers,
	}
	if work {
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
		// Study steps have their own queue: its MaxWorkers is the limit on
		// concurrent steps of all runs together on this process.
		rc.Queues[study.Queue] = river.QueueConfig{MaxWorkers: cfg.Workers}
		// The sweeper of dead workers' steps (study.Sweep) has its own queue,
		// so that long steps never delay it.
		rc.Queues[study.SweepQueue] = river.QueueConfig{MaxWorkers: 1}
		if cfg.DataDir != "" {
			rc.Queues[InboxQueue(cfg.DataDir)] = river.QueueConfig{MaxWorkers: 1}
		}
		rc.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return MaintenanceArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true, ID: "maintenance"}),
			river.NewPeriodicJob(river.PeriodicInterval(study.SweepInterval),
				func() (river.JobArgs, *river.InsertOpts) { return study.SweepArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true, ID: "study_sweep"}),
		}
	}
	c, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("engine: new river client: %w", err)
	}
	return c, nil
}

// riverLogger keeps River's own logging at warnings and above.
func riverLogger(l *slog.Logger) *slog.Logger {
	return slog.New(&minLevel{l.Handler(), slog.LevelWarn}).With("component", "river")
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h *minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}
func (h *minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return &minLevel{h.Handler.WithAttrs(a), h.min}
}
func (h *minLevel) WithGroup(n string) slog.Handler { return &minLevel{h.Handler.WithGroup(n), h.min} }

// Stop stops the client: running jobs get grace to finish, then their
// contexts are cancelled so that River returns them to the queue; it waits at
// most until ctx's deadline past the grace period.
func Stop(ctx context.Context, c *Client, grace time.Duration) error {
	soft, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	err := c.Stop(soft)
	if err == nil {
		return nil
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return c.StopAndCancel(ctx)
}

// MaintenanceArgs is the hourly housekeeping job: it deletes expired
// sessions. It runs on every worker host, and more than once is harmless.
type MaintenanceArgs struct{}

// Kind names the job in River's table.
func (MaintenanceArgs) Kind() string { return "beaver.maintenance" }

// InsertOpts keeps at most one maintenance job waiting at a time.
func (MaintenanceArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
}

// MaintenanceWorker works MaintenanceArgs.
type MaintenanceWorker struct {
	river.WorkerDefaults[MaintenanceArgs]
	Pool *pgxpool.Pool
}

// MaintenanceResult is recorded as the job's output.
type MaintenanceResult struct {
	SessionsDeleted int64 `json:"sessions_deleted"`
}

// Work deletes expired sessions and records how many.
func (w *MaintenanceWorker) Work(ctx context.Context, job *river.Job[MaintenanceArgs]) error {
	n, err := (&access.Service{Pool: w.Pool}).DeleteExpiredSessions(ctx)
	if err != nil {
		return fmt.Errorf("engine: maintenance: %w", err)
	}
	return river.RecordOutput(ctx, MaintenanceResult{SessionsDeleted: n})
}
