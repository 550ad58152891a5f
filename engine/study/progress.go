package study

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// ErrNotFound is returned for a run id that does not exist.
var ErrNotFound = errors.New("study: no such run")

// RunProgress is where a run stands.
type RunProgress struct {
	RunID       int64         `json:"run_id"`
	State       string        `json:"state"`
	Error       string        `json:"error,omitempty"`
	StepsDone   int           `json:"steps_done"` // reused steps included
	StepsReused int           `json:"steps_reused"`
	StepsTotal  int           `json:"steps_total"`
	Percent     float64       `json:"percent"`
	Elapsed     time.Duration `json:"elapsed_ns"`
	// ETA is the estimated time left (eta.go); null until a step of every
	// kind still to run has finished in this run.
	ETA         *time.Duration `json:"eta_ns"`
	DataVersion int64          `json:"data_version"`
	Schema      string         `json:"schema"`
	DiskBytes   int64          `json:"disk_bytes"` // held by the run's schema (DiskBytes)
	Steps       []StepProgress `json:"steps"`
}

// StepProgress is where one step stands.
type StepProgress struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Partition int    `json:"partition"`
	State     string `json:"state"`
	Attempts  int    `json:"attempts"`
	Rows      *int64 `json:"rows,omitempty"`
	WallMS    *int64 `json:"wall_ms,omitempty"`
	Error     string `json:"error,omitempty"`
	// ReusedFrom is the earlier run whose table the step took instead of
	// running (reuse.go).
	ReusedFrom *int64 `json:"reused_from,omitempty"`

	started, finished *time.Time // for the ETA (eta.go)
}

// Ended reports whether the run will not change any more.
func (p *RunProgress) Ended() bool {
	return p.State == StateDone || p.State == StateFailed || p.State == StateCancelled
}

// Progress reads a run's state and its steps'.
func Progress(ctx context.Context, pool *pgxpool.Pool, runID int64) (*RunProgress, error) {
	p := &RunProgress{RunID: runID}
	var errText, schemaName *string
	var created time.Time
	var started, finished *time.Time
	err := pool.QueryRow(ctx, `SELECT state, error, data_version, schema_name, created_at, started_at, finished_at
		FROM study_run WHERE id = $1`, runID).Scan(&p.State, &errText, &p.DataVersion, &schemaName, &created, &started, &finished)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %d", ErrNotFound, runID)
	}
	if err != nil {
		return nil, fmt.Errorf("study: progress of run %d: %w", runID, err)
	}
	if errText != nil {
		p.Error = *errText
	}
	if schemaName != nil {
		p.Schema = *schemaName
	}
	end := time.Now()
	if finished != nil {
		end = *finished
	}
	p.Elapsed = end.Sub(created).Round(time.Millisecond)
	rows, err := pool.Query(ctx, `SELECT name, kind, partition, state, attempts, rows, wall_ms, coalesce(error, ''),
			reused_from, started_at, finished_at
		FROM study_step WHERE run_id = $1 ORDER BY partition, queued_at NULLS LAST, name`, runID)
	if err != nil {
		return nil, fmt.Errorf("study: progress of run %d: %w", runID, err)
	}
	p.Steps, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (StepProgress, error) {
		var s StepProgress
		err := r.Scan(&s.Name, &s.Kind, &s.Partition, &s.State, &s.Attempts, &s.Rows, &s.WallMS, &s.Error,
			&s.ReusedFrom, &s.started, &s.finished)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("study: progress of run %d: %w", runID, err)
	}
	p.StepsTotal = len(p.Steps)
	for _, s := range p.Steps {
		if s.State == StateDone {
			p.StepsDone++
		}
		if s.ReusedFrom != nil {
			p.StepsReused++
		}
	}
	if p.StepsTotal > 0 {
		p.Percent = float64(int(1000*float64(p.StepsDone)/float64(p.StepsTotal))) / 10
	}
	if p.DiskBytes, err = DiskBytes(ctx, pool, runID); err != nil {
		return nil, err
	}
	p.ETA = eta(p, time.Now())
	return p, nil
}

// Cancel marks a run and its unfinished steps cancelled, cancels their
// River jobs, stops the queries of its running steps on every backend (a
// worker on another host included) and drops the run's tables, handing
// those that other runs reuse over to them. When Cancel returns, no query
// of the run runs any more, or it is past its cancellation and rolling
// back. Cancelling an ended run changes nothing and is not an error.
func Cancel(ctx context.Context, pool *pgxpool.Pool, client *river.Client[pgx.Tx], runID int64) error {
	live := false
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var state string
		err := tx.QueryRow(ctx, "SELECT state FROM study_run WHERE id = $1 FOR UPDATE", runID).Scan(&state)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %d", ErrNotFound, runID)
		}
		if err != nil {
			return fmt.Errorf("study: cancel run %d: %w", runID, err)
		}
		if state != StateQueued && state != StateRunning {
			return nil
		}
		live = true
		if _, err := tx.Exec(ctx, `UPDATE study_run SET state = 'cancelled', error = 'cancelled by a user', finished_at = clock_timestamp()
			WHERE id = $1`, runID); err != nil {
			return fmt.Errorf("study: cancel run %d: %w", runID, err)
		}
		if err := endSteps(ctx, tx, client, runID, "", StateCancelled); err != nil {
			return fmt.Errorf("study: cancel run %d: %w", runID, err)
		}
		return nil
	})
	if err != nil || !live {
		return err
	}
	// River cancels the context of a running job, and pgx then its query,
	// only in a process that hears of it; the backends are found from any
	// process. A step that read its state just before the cancellation
	// committed may start its query a moment later: look again until none
	// is left, for a while.
	deadline := time.Now().Add(cancelWait)
	for {
		if _, err := cancelQueries(ctx, pool, runID); err != nil {
			return err
		}
		var left bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name LIKE $1
			AND state = 'active' AND pid <> pg_backend_pid())`, stepAppName(runID, "")+"%").Scan(&left); err != nil {
			return fmt.Errorf("study: cancel run %d: %w", runID, err)
		}
		if !left || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return DropTables(ctx, pool, runID)
}

// WorkersActive reports whether some process is working River jobs on this
// database (a River leader holds a live lease): when none is, a CLI that
// wants a run finished must work it itself.
func WorkersActive(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	var ok bool
	err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM river_leader WHERE expires_at > now())").Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("study: look for workers: %w", err)
	}
	return ok, nil
}
