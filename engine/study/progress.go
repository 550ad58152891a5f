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
	RunID       int64          `json:"run_id"`
	State       string         `json:"state"`
	Error       string         `json:"error,omitempty"`
	StepsDone   int            `json:"steps_done"`
	StepsTotal  int            `json:"steps_total"`
	Percent     float64        `json:"percent"`
	Elapsed     time.Duration  `json:"elapsed_ns"`
	DataVersion int64          `json:"data_version"`
	Schema      string         `json:"schema"`
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
	rows, err := pool.Query(ctx, `SELECT name, kind, partition, state, attempts, rows, wall_ms, coalesce(error, '')
		FROM study_step WHERE run_id = $1 ORDER BY partition, queued_at NULLS LAST, name`, runID)
	if err != nil {
		return nil, fmt.Errorf("study: progress of run %d: %w", runID, err)
	}
	p.Steps, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (StepProgress, error) {
		var s StepProgress
		err := r.Scan(&s.Name, &s.Kind, &s.Partition, &s.State, &s.Attempts, &s.Rows, &s.WallMS, &s.Error)
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
	}
	if p.StepsTotal > 0 {
		p.Percent = float64(int(1000*float64(p.StepsDone)/float64(p.StepsTotal))) / 10
	}
	return p, nil
}

// Cancel marks a run and its unfinished steps cancelled and cancels their
// River jobs (a running job's context is cancelled, which stops its query).
// Cancelling an ended run changes nothing and is not an error.
func Cancel(ctx context.Context, pool *pgxpool.Pool, client *river.Client[pgx.Tx], runID int64) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
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
		if _, err := tx.Exec(ctx, `UPDATE study_run SET state = 'cancelled', error = 'cancelled by a user', finished_at = now()
			WHERE id = $1`, runID); err != nil {
			return fmt.Errorf("study: cancel run %d: %w", runID, err)
		}
		if err := endSteps(ctx, tx, client, runID, "", StateCancelled); err != nil {
			return fmt.Errorf("study: cancel run %d: %w", runID, err)
		}
		return nil
	})
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
