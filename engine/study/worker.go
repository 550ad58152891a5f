package study

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/schema"
)

// StepArgs is the job of one plan step of one run: ids only, the SQL is
// recompiled from the run's stored protocol.
type StepArgs struct {
	RunID int64  `json:"run_id"`
	Step  string `json:"step"`
}

// Kind names the job in River's table.
func (StepArgs) Kind() string { return "beaver.study_step" }

// InsertOpts puts steps on the study queue. No River unique options: a
// stray job of a waiting step completes without work, and a unique key
// would then block the step's real job; the run's row lock is what makes
// each step enqueued once.
func (StepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 10}
}

// StepWorker works StepArgs.
type StepWorker struct {
	river.WorkerDefaults[StepArgs]
	Pool   *pgxpool.Pool
	Logger *slog.Logger

	mu    sync.Mutex
	plans map[int64]*cohort.Plan // compiled plans by run id
}

// StepResult is recorded as the job's output.
type StepResult struct {
	Rows   int64  `json:"rows"`
	WallMS int64  `json:"wall_ms"`
	Skip   string `json:"skipped,omitempty"`
}

// Work runs one step in named stages, each error saying which failed:
// read the run's and the step's state (a step not to run is skipped),
// compile the step (the run's plan, checked against the stored step ID),
// take the step's lease, mark it running, and execute it: DROP, Create and
// SQL, the step's done mark and the enqueuing of its ready successors, in
// one transaction. A failure of the execution is transient (River
// retries) or fails the step and the run (failed).
func (w *StepWorker) Work(ctx context.Context, job *river.Job[StepArgs]) error {
	a := job.Args
	st, err := readStepState(ctx, w.Pool, a.RunID, a.Step)
	if errors.Is(err, errNoRun) {
		return river.JobCancel(fmt.Errorf("study: run %d has no step %q (deleted?)", a.RunID, a.Step))
	}
	if err != nil {
		return stageError(a, "read state", err)
	}
	if st.run == StateFailed || st.run == StateCancelled {
		return river.RecordOutput(ctx, StepResult{Skip: "run " + string(st.run)})
	}
	if st.step == StateWaiting || st.step == StateFailed || st.step == StateCancelled {
		// Not enqueued by the engine (a stray or duplicated job): a
		// waiting step runs only once its inputs are done.
		return river.RecordOutput(ctx, StepResult{Skip: "step " + string(st.step)})
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	if st.step == StateDone {
		// Done by an earlier attempt whose job did not complete: only make
		// sure the successors are enqueued.
		return w.finish(ctx, client, a, nil)
	}
	step, failure, err := w.compile(ctx, a, st.stepID)
	if err != nil {
		return stageError(a, "compile", err)
	}
	if failure != "" {
		kind := ""
		if step != nil {
			kind = step.Kind
		}
		return w.fail(ctx, client, a, kind, failure)
	}
	release, err := acquireStepLease(ctx, w.Pool, w.logger(), a) // lease.go: resumption after a crash
	if err != nil {
		return err
	}
	defer release()
	if err := markRunning(ctx, w.Pool, a); err != nil {
		return stageError(a, "mark running", err)
	}
	res, err := w.execute(ctx, client, a, step, st.explain)
	if err == nil {
		return river.RecordOutput(ctx, res)
	}
	return w.failed(ctx, client, job, step, err)
}

// stageError says which stage of a step failed.
func stageError(a StepArgs, stage string, err error) error {
	return fmt.Errorf("study: run %d step %s: %s: %w", a.RunID, a.Step, stage, err)
}

// logger is the worker's logger, slog's default without one.
func (w *StepWorker) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.Default()
	}
	return w.Logger
}

// compile returns the step of the run's plan, compiled once per process,
// or why the step cannot run in this software version (a failure for the
// user): not in the plan, or compiled differently than at submission.
func (w *StepWorker) compile(ctx context.Context, a StepArgs, storedID string) (*cohort.Step, string, error) {
	plan, err := w.plan(ctx, a.RunID)
	if err != nil {
		return nil, "", err
	}
	step := plan.Step(a.Step)
	if step == nil {
		return nil, fmt.Sprintf("step %s is not in the plan this software compiles from the run's protocol; resubmit the study", a.Step), nil
	}
	if storedID != step.ID {
		return step, fmt.Sprintf("step %s compiles differently in this software version than when the run was submitted; resubmit the study", a.Step), nil
	}
	return step, "", nil
}

// markRunning marks the step running (one attempt more) and its run
// running from its first step on.
func markRunning(ctx context.Context, pool *pgxpool.Pool, a StepArgs) error {
	if _, err := pool.Exec(ctx, `UPDATE study_step SET state = 'running', attempts = attempts + 1, started_at = now()
		WHERE run_id = $1 AND name = $2 AND state IN ('queued', 'running')`, a.RunID, a.Step); err != nil {
		return err
	}
	return startRun(ctx, pool, a.RunID)
}

// execute runs the step's statements, its done mark and the enqueuing of
// its successors in one transaction; errRunOver when the run ended or
// another job of the step finished first.
func (w *StepWorker) execute(ctx context.Context, client *river.Client[pgx.Tx], a StepArgs, step *cohort.Step, explainOn bool) (StepResult, error) {
	began := time.Now()
	var res StepResult
	err := pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		// Two jobs of one step (at-least-once delivery, a rescued job whose
		// first worker still runs) take turns; the second finds it done.
		if err := stepTx(ctx, tx, a); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", fmt.Sprintf("study_step/%d/%s", a.RunID, a.Step)); err != nil {
			return err
		}
		var now State
		if err := tx.QueryRow(ctx, "SELECT state FROM study_step WHERE run_id = $1 AND name = $2", a.RunID, a.Step).Scan(&now); err != nil {
			return err
		}
		if now != StateQueued && now != StateRunning {
			return errRunOver
		}
		if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+step.Table); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, step.Create); err != nil {
			return err
		}
		// On Citus, the empty table becomes distributed by person, so
		// that the statement, and every later one that joins it, runs on
		// each shard where the persons' rows are (the plan says which).
		if step.Distribute {
			if err := schema.DistributeTable(ctx, tx, step.Table); err != nil {
				return err
			}
		}
		var rows int64
		if explainOn {
			// EXPLAIN ANALYZE executes the INSERT; the plan's text is kept
			// with the step and its rows counted from the table.
			plan, err := explainStep(ctx, tx, step.SQL, step.Args)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE study_step SET explain = $3 WHERE run_id = $1 AND name = $2", a.RunID, a.Step, plan); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+step.Table).Scan(&rows); err != nil {
				return err
			}
		} else {
			tag, err := tx.Exec(ctx, step.SQL, step.Args...)
			if err != nil {
				return err
			}
			rows = tag.RowsAffected()
		}
		// Later steps join this table: without statistics the planner
		// guesses its size and selectivities (autovacuum analyses a new
		// table only after a delay, usually after the run), and picks nested
		// loops over tens of thousands of rows. Sampling costs milliseconds.
		if _, err := tx.Exec(ctx, "ANALYZE "+step.Table); err != nil {
			return err
		}
		res = StepResult{Rows: rows, WallMS: time.Since(began).Milliseconds()}
		return w.complete(ctx, tx, client, a, res)
	})
	return res, err
}

// failed handles an error of execute: nothing to do when the run ended;
// a retry (a plain error) when it is transient; else the step and the run
// fail, with the database's error in words a user can act on, or the
// client's own.
func (w *StepWorker) failed(ctx context.Context, client *river.Client[pgx.Tx], job *river.Job[StepArgs], step *cohort.Step, err error) error {
	a := job.Args
	if errors.Is(err, errRunOver) || w.runEnded(a.RunID) {
		// Cancel stops the queries of a cancelled run's steps.
		return river.RecordOutput(ctx, StepResult{Skip: "run ended"})
	}
	if ctx.Err() != nil || transient(err) {
		w.logger().Warn("study step: transient error, River retries", "run", a.RunID, "step", a.Step, "attempt", job.Attempt, "err", err)
		if ctx.Err() == nil {
			w.noteRetry(a, job.Attempt, job.MaxAttempts, err)
		}
		return stageError(a, "execute", err)
	}
	w.logger().Error("study step failed", "run", a.RunID, "step", a.Step, "err", err)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return w.fail(ctx, client, a, step.Kind, clientError(err))
	}
	return w.fail(ctx, client, a, step.Kind, explain(err))
}

// noteRetry records on a step why it waits for a retry, so that the run's
// state says which step waits and why (a database node down, say) while
// River waits to run it again; the step's success clears it.
func (w *StepWorker) noteRetry(a StepArgs, attempt, max int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, uerr := w.Pool.Exec(ctx, `UPDATE study_step SET error = $3 WHERE run_id = $1 AND name = $2 AND state IN ('queued', 'running')`,
		a.RunID, a.Step, retryMessage(err, attempt, max)); uerr != nil {
		w.logger().Warn("study step: record the retry", "run", a.RunID, "step", a.Step, "err", uerr)
	}
}

// runEnded reports whether a run has failed or been cancelled (or been
// deleted), so that the query error of its step is no failure of its own.
func (w *StepWorker) runEnded(runID int64) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	state, err := runState(ctx, w.Pool, runID)
	if errors.Is(err, errNoRun) {
		return true
	}
	return err == nil && (state == StateFailed || state == StateCancelled)
}

// errRunOver rolls back a step whose run failed or was cancelled meanwhile,
// or that another job of the same step finished first.
var errRunOver = errors.New("study: run ended")

// complete marks the step done and enqueues its ready successors in tx,
// under the run's row lock; it returns errRunOver when the run has ended.
func (w *StepWorker) complete(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], a StepArgs, res StepResult) error {
	state, err := lockRun(ctx, tx, a.RunID)
	if err != nil {
		return err
	}
	if state == StateFailed || state == StateCancelled {
		return errRunOver
	}
	if _, err := tx.Exec(ctx, `UPDATE study_step SET state = 'done', rows = $3, wall_ms = $4, finished_at = clock_timestamp(), error = NULL
		WHERE run_id = $1 AND name = $2`, a.RunID, a.Step, res.Rows, res.WallMS); err != nil {
		return err
	}
	if err := enqueueReady(ctx, tx, client, a.RunID); err != nil {
		return err
	}
	// The last step done: the results job computes the analyses and marks
	// the run done with its document. A step completed twice may enqueue
	// it twice; the second finds the run done.
	var last bool
	if err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM study_step WHERE run_id = $1 AND state <> 'done')`,
		a.RunID).Scan(&last); err != nil {
		return err
	}
	if !last || state == StateDone {
		return nil
	}
	if _, err := client.InsertTx(ctx, tx, ResultsArgs{RunID: a.RunID}, nil); err != nil {
		return fmt.Errorf("enqueue the results of run %d: %w", a.RunID, err)
	}
	return nil
}

// finish re-runs complete for a step already done (its table is kept).
func (w *StepWorker) finish(ctx context.Context, client *river.Client[pgx.Tx], a StepArgs, _ error) error {
	err := pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		var rows, wall int64
		if err := tx.QueryRow(ctx, "SELECT coalesce(rows, 0), coalesce(wall_ms, 0) FROM study_step WHERE run_id = $1 AND name = $2",
			a.RunID, a.Step).Scan(&rows, &wall); err != nil {
			return err
		}
		return w.complete(ctx, tx, client, a, StepResult{Rows: rows, WallMS: wall})
	})
	if err != nil && !errors.Is(err, errRunOver) {
		return fmt.Errorf("study: run %d step %s: %w", a.RunID, a.Step, err)
	}
	return river.RecordOutput(ctx, StepResult{Skip: "already done"})
}

// fail marks the step and the run failed with a message naming the phase
// and the step, cancels the run's other jobs, and cancels this job.
func (w *StepWorker) fail(ctx context.Context, client *river.Client[pgx.Tx], a StepArgs, kind, cause string) error {
	msg := fmt.Sprintf("%s, step %s: %s", phaseOf(kind), a.Step, cause)
	err := pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		if _, err := lockRun(ctx, tx, a.RunID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE study_step SET state = 'failed', error = $3, finished_at = clock_timestamp()
			WHERE run_id = $1 AND name = $2`, a.RunID, a.Step, msg); err != nil {
			return err
		}
		live, err := failRun(ctx, tx, a.RunID, msg)
		if err != nil || !live {
			return err
		}
		return endSteps(ctx, tx, client, a.RunID, a.Step, StateCancelled)
	})
	if err != nil {
		return fmt.Errorf("study: run %d step %s: record failure: %w", a.RunID, a.Step, err)
	}
	return river.JobCancel(errors.New(msg))
}

// endSteps marks every step of the run not done (but except) with state,
// and cancels their jobs.
func endSteps(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], runID int64, except string, state State) error {
	rows, err := tx.Query(ctx, `UPDATE study_step SET state = $3, finished_at = clock_timestamp()
		WHERE run_id = $1 AND name <> $2 AND state IN ('waiting', 'queued', 'running') RETURNING job_id`, runID, except, state)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[*int64])
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id == nil {
			continue
		}
		if _, err := client.JobCancelTx(ctx, tx, *id); err != nil && !errors.Is(err, river.ErrNotFound) {
			return fmt.Errorf("cancel job %d: %w", *id, err)
		}
	}
	return nil
}

// plan returns the run's plan, compiled once per process from the stored
// protocol and options (compiling is pure: the same inputs give the same
// steps, which Work checks against the stored step IDs).
func (w *StepWorker) plan(ctx context.Context, runID int64) (*cohort.Plan, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p, ok := w.plans[runID]; ok {
		return p, nil
	}
	plan, err := loadPlan(ctx, w.Pool, runID)
	if err != nil {
		return nil, err
	}
	if w.plans == nil {
		w.plans = map[int64]*cohort.Plan{}
	}
	w.plans[runID] = plan
	return plan, nil
}

// loadPlan compiles the plan of a stored run again, from its bound
// protocol and the options it was submitted with.
func loadPlan(ctx context.Context, pool *pgxpool.Pool, runID int64) (*cohort.Plan, error) {
	r, err := loadRun(ctx, pool, runID)
	if err != nil {
		return nil, fmt.Errorf("study: load run %d: %w", runID, err)
	}
	return r.plan(runID)
}

// plan compiles a stored run's plan.
func (r *storedRun) plan(runID int64) (*cohort.Plan, error) {
	var p cohort.Protocol
	if err := json.Unmarshal(r.protocol, &p); err != nil {
		return nil, river.JobCancel(fmt.Errorf("study: run %d: stored protocol: %w", runID, err))
	}
	plan, err := cohort.Compile(&p, r.options.compile())
	if err != nil {
		return nil, river.JobCancel(fmt.Errorf("study: run %d: compile: %w", runID, err))
	}
	return plan, nil
}

// explainStep runs a step's statement under EXPLAIN (ANALYZE, BUFFERS) and
// returns the plan's text.
func explainStep(ctx context.Context, tx pgx.Tx, sql string, args []any) (string, error) {
	rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
	if err != nil {
		return "", err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	return strings.Join(lines, "\n"), nil
}
