package study

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// Leases make a study resume within a minute after its worker process dies
// (kill -9, a lost host), where River would rescue the dead process's jobs
// only after RescueStuckJobsAfter (hours, see engine.Config). A process
// working a step holds a lease on its study_step row (lease_owner,
// lease_until), renewed by a heartbeat while the step's SQL runs; the
// results job holds one on its run's row. SweepArgs, a periodic job,
// enqueues again the steps and results whose lease ran out. A second job of
// a step is safe: it waits on the step's advisory lock, held by the dead
// process's transaction until PostgreSQL rolls it back, and then finds the
// step either done (nothing to do) or not (it runs it).
const (
	// LeaseTTL is how long a lease lasts without renewal.
	LeaseTTL = 15 * time.Second
	// LeaseRenew is how often the heartbeat renews a lease.
	LeaseRenew = 5 * time.Second
	// SweepInterval is how often the sweeper looks for expired leases.
	SweepInterval = 5 * time.Second
	// SweepQueue is the sweeper's own queue, so that long steps or imports
	// filling the other queues never delay it.
	SweepQueue = "study_sweep"
)

// leaseOwner names this process in lease_owner: host, pid and a random
// suffix (pids are reused across restarts of a container).
var leaseOwner = func() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}()

// LeaseOwner is the lease_owner this process writes.
func LeaseOwner() string { return leaseOwner }

// lease is one held lease, renewed until release.
type lease struct {
	stop chan struct{}
	done chan struct{}
}

// acquireStepLease takes the lease of a step for this process and renews
// it every LeaseRenew until the returned release is called; release clears
// the lease if this process still holds it.
func acquireStepLease(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger, a StepArgs) (release func(), err error) {
	return acquire(ctx, pool, logger,
		`UPDATE study_step SET lease_owner = $3, lease_until = now() + $4::interval
			WHERE run_id = $1 AND name = $2 AND (lease_owner = $3 OR $5)`,
		`UPDATE study_step SET lease_owner = NULL, lease_until = NULL WHERE run_id = $1 AND name = $2 AND lease_owner = $3`,
		a.RunID, a.Step)
}

// acquireResultsLease takes the lease of a run's results job.
func acquireResultsLease(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger, runID int64) (release func(), err error) {
	return acquire(ctx, pool, logger,
		takeResultsLeaseSQL, clearResultsLeaseSQL,
		runID, "")
}

// acquire takes a lease with take (arguments: run, step, owner, TTL, and
// whether to take it from another owner) and starts its heartbeat, which
// renews it with take and "false": a lease the sweeper gave to another
// process is not taken back, and the heartbeat stops renewing it.
func acquire(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger, take, clear string, runID int64, step string) (func(), error) {
	ttl := LeaseTTL.String()
	if _, err := pool.Exec(ctx, take, runID, step, leaseOwner, ttl, true); err != nil {
		return nil, fmt.Errorf("study: run %d %s: take the lease: %w", runID, step, err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	l := &lease{stop: make(chan struct{}), done: make(chan struct{})}
	bg := context.WithoutCancel(ctx)
	go func() {
		defer close(l.done)
		tick := time.NewTicker(LeaseRenew)
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tick.C:
			}
			rctx, cancel := context.WithTimeout(bg, LeaseRenew)
			tag, err := pool.Exec(rctx, take, runID, step, leaseOwner, ttl, false)
			cancel()
			switch {
			case err != nil:
				// The next tick tries again; the lease lasts three ticks.
				logger.Warn("study: renew lease", "run", runID, "step", step, "err", err)
			case tag.RowsAffected() == 0:
				logger.Warn("study: lease lost to the sweeper (this process was taken for dead); another job of it is queued",
					"run", runID, "step", step)
				return
			}
		}
	}()
	return func() {
		close(l.stop)
		<-l.done
		rctx, cancel := context.WithTimeout(bg, 5*time.Second)
		defer cancel()
		if _, err := pool.Exec(rctx, clear, runID, step, leaseOwner); err != nil {
			// It expires by itself; the sweeper then finds the step done or
			// its job retryable.
			logger.Warn("study: release lease", "run", runID, "step", step, "err", err)
		}
	}, nil
}

// stepTx prepares the transaction of a step. It names the step in
// application_name, so that Cancel finds its query in pg_stat_activity
// from any process (cancelQueries). And it makes the step's backend notice
// within a second that its client died even while a long query runs, so
// that PostgreSQL rolls the transaction back and frees the step's advisory
// lock for the job the sweeper enqueues (PostgreSQL 14 and later;
// otherwise the dead process's query runs to its end first).
func stepTx(ctx context.Context, tx pgx.Tx, a StepArgs) error {
	if _, err := tx.Exec(ctx, "SELECT set_config('application_name', $1, true)", stepAppName(a.RunID, a.Step)); err != nil {
		return err
	}
	major, _, _ := strings.Cut(tx.Conn().PgConn().ParameterStatus("server_version"), ".")
	if v, err := strconv.Atoi(major); err != nil || v < 14 {
		return nil
	}
	_, err := tx.Exec(ctx, "SET LOCAL client_connection_check_interval = '1s'")
	return err
}

// SweepArgs is the periodic job that enqueues again the steps and results
// whose worker died.
type SweepArgs struct{}

// Kind names the job in River's table.
func (SweepArgs) Kind() string { return "beaver.study_sweep" }

// InsertOpts puts the sweeper on its own queue.
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: SweepQueue, MaxAttempts: 1}
}

// SweepWorker works SweepArgs.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Pool   *pgxpool.Pool
	Logger *slog.Logger
}

// SweepResult is recorded as the sweep job's output.
type SweepResult struct {
	Steps   int `json:"steps"`
	Results int `json:"results"`
}

// Work runs one sweep.
func (w *SweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	res, err := sweep(ctx, w.Pool, river.ClientFromContext[pgx.Tx](ctx))
	if err != nil {
		return err
	}
	if res.Steps+res.Results > 0 {
		logger := w.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.Warn("study: work of dead workers enqueued again", "steps", res.Steps, "results", res.Results)
	}
	return river.RecordOutput(ctx, res)
}

// sweep enqueues a new job for every queued or running step of a live run
// whose lease ran out, or which has no lease while River has been running
// its job for longer than two lease lifetimes (the process died between
// fetching the job and taking the lease), and a new results job for every
// live run whose steps are all done and whose results lease ran out (or
// is missing while a results job of it has been running that long). The old
// jobs are cancelled; the steps' done marks are untouched.
func sweep(ctx context.Context, pool *pgxpool.Pool, client *river.Client[pgx.Tx]) (SweepResult, error) {
	var res SweepResult
	stale := (2 * LeaseTTL).String()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		steps, err := staleSteps(ctx, tx, stale)
		if err != nil {
			return fmt.Errorf("find expired step leases: %w", err)
		}
		for _, l := range steps {
			ins, err := client.InsertTx(ctx, tx, StepArgs{RunID: l.run, Step: l.name}, nil)
			if err != nil {
				return fmt.Errorf("enqueue run %d step %s again: %w", l.run, l.name, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE study_step SET state = 'queued', queued_at = now(), job_id = $3,
				lease_owner = NULL, lease_until = NULL WHERE run_id = $1 AND name = $2`, l.run, l.name, ins.Job.ID); err != nil {
				return fmt.Errorf("enqueue run %d step %s again: %w", l.run, l.name, err)
			}
			if err := cancelJob(ctx, tx, client, l.job); err != nil {
				return err
			}
		}
		res.Steps = len(steps)

		runs, err := staleResults(ctx, tx, stale, ResultsArgs{}.Kind())
		if err != nil {
			return fmt.Errorf("find expired results leases: %w", err)
		}
		for _, l := range runs {
			if _, err := client.InsertTx(ctx, tx, ResultsArgs{RunID: l.run}, nil); err != nil {
				return fmt.Errorf("enqueue the results of run %d again: %w", l.run, err)
			}
			if err := clearResultsLease(ctx, tx, l.run); err != nil {
				return fmt.Errorf("enqueue the results of run %d again: %w", l.run, err)
			}
			for _, id := range l.jobs {
				if err := cancelJob(ctx, tx, client, &id); err != nil {
					return err
				}
			}
		}
		res.Results = len(runs)
		return nil
	})
	if err != nil {
		return SweepResult{}, fmt.Errorf("study: sweep: %w", err)
	}
	return res, nil
}

// cancelJob cancels the job of a dead worker, so that River's rescuer does
// not run it again hours later (it would only find its step done).
func cancelJob(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], id *int64) error {
	if id == nil {
		return nil
	}
	if _, err := client.JobCancelTx(ctx, tx, *id); err != nil && !errors.Is(err, river.ErrNotFound) {
		return fmt.Errorf("cancel job %d: %w", *id, err)
	}
	return nil
}

// LeasedResultsWorker is the ResultsWorker with a lease on the run held
// while it works, so that the sweeper enqueues the results again when its
// process dies.
type LeasedResultsWorker struct {
	ResultsWorker
}

// Work holds the run's results lease around ResultsWorker.Work.
func (w *LeasedResultsWorker) Work(ctx context.Context, job *river.Job[ResultsArgs]) error {
	release, err := acquireResultsLease(ctx, w.Pool, w.Logger, job.Args.RunID)
	if err != nil {
		return err
	}
	defer release()
	return w.ResultsWorker.Work(ctx, job)
}
