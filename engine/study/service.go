package study

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/report/results"
	"github.com/beaver-analytics/beaver/schema/errs"
)

// Service is the study engine as its callers see it (the CLI, engine/validate
// and the web API): submit a protocol as a run, follow it, read its results,
// cancel, delete and list runs. The zero value is not usable: Pool is
// required, River to submit, cancel and delete (an insert-only client is
// enough; the workers may run in other processes).
type Service struct {
	Pool   *pgxpool.Pool
	River  *river.Client[pgx.Tx]
	Logger *slog.Logger // nil: slog.Default()
	// PollInterval is how often Wait reads a run's progress; 0: 200 ms.
	PollInterval time.Duration
}

// ErrNotFound is returned for a run id that does not exist.
var ErrNotFound = errs.Wrap(errs.NotFound, errors.New("study: no such run"))

// ErrNoResults is returned by Results for a run that has no document yet
// (not done, failed or cancelled).
var ErrNoResults = errs.Wrap(errs.Conflict, errors.New("study: the run has no results yet"))

// errNoRiver is returned by the methods that enqueue or cancel jobs on a
// Service without a River client.
var errNoRiver = errors.New("study: the service has no River client (Service.River) to enqueue or cancel jobs with")

// notFound is ErrNotFound naming the run.
func notFound(runID int64) error { return fmt.Errorf("%w: %d", ErrNotFound, runID) }

// Status reads a run's state and its steps'.
func (s *Service) Status(ctx context.Context, runID int64) (*Progress, error) {
	p := &Progress{RunID: runID}
	r, err := readRunStatus(ctx, s.Pool, runID)
	if errors.Is(err, errNoRun) {
		return nil, notFound(runID)
	}
	if err != nil {
		return nil, fmt.Errorf("study: progress of run %d: %w", runID, err)
	}
	p.State, p.DataVersion, p.Scope, p.Warnings = r.state, r.dataVersion, r.scope, r.warnings
	p.StudyVersion = r.studyVersion
	if r.errText != nil {
		p.Error = *r.errText
	}
	if r.schemaName != nil {
		p.Schema = *r.schemaName
	}
	if r.studyID != nil {
		p.StudyID = *r.studyID
	}
	if r.submittedBy != nil {
		p.SubmittedBy = *r.submittedBy
	}
	end := time.Now()
	if r.finished != nil {
		end = *r.finished
	}
	p.Elapsed = end.Sub(r.created).Round(time.Millisecond)
	rows, err := s.Pool.Query(ctx, `SELECT name, kind, partition, state, attempts, rows, wall_ms, coalesce(error, ''),
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
	if p.DiskBytes, err = diskBytes(ctx, s.Pool, runID); err != nil {
		return nil, err
	}
	p.ETA = eta(p, time.Now())
	return p, nil
}

// Wait reads a run's progress every PollInterval until the run ends, and
// returns its last progress. It calls progress, when not nil, with every
// reading, the last included. It returns the context's error, wrapped,
// when ctx ends first: the run goes on.
func (s *Service) Wait(ctx context.Context, runID int64, progress func(*Progress)) (*Progress, error) {
	every := s.PollInterval
	if every <= 0 {
		every = 200 * time.Millisecond
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		p, err := s.Status(ctx, runID)
		if err != nil {
			return nil, err
		}
		if progress != nil {
			progress(p)
		}
		if p.Ended() {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("study: stopped waiting for run %d, which goes on: %w", runID, ctx.Err())
		case <-tick.C:
		}
	}
}

// Results returns a run's results document, typed.
func (s *Service) Results(ctx context.Context, runID int64) (*results.Document, error) {
	b, err := s.ResultsJSON(ctx, runID)
	if err != nil {
		return nil, err
	}
	doc, err := results.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("study: results of run %d: %w", runID, err)
	}
	return doc, nil
}

// ResultsJSON returns a run's results document as stored (jsonb's text:
// keys in jsonb order), for callers that pass it on unchanged.
func (s *Service) ResultsJSON(ctx context.Context, runID int64) ([]byte, error) {
	state, b, err := runResults(ctx, s.Pool, runID)
	if errors.Is(err, errNoRun) {
		return nil, notFound(runID)
	}
	if err != nil {
		return nil, fmt.Errorf("study: results of run %d: %w", runID, err)
	}
	if b == nil {
		return nil, fmt.Errorf("%w (run %d is %s)", ErrNoResults, runID, state)
	}
	return b, nil
}

// Cancel marks a run and its unfinished steps cancelled, cancels their
// River jobs, stops the queries of its running steps on every backend (a
// worker on another host included) and drops the run's tables, handing
// those that other runs reuse over to them. When Cancel returns, no query
// of the run runs any more, or it is past its cancellation and rolling
// back. Cancelling an ended run changes nothing and is not an error.
func (s *Service) Cancel(ctx context.Context, runID int64) error {
	if s.River == nil {
		return errNoRiver
	}
	live := false
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		state, err := lockRun(ctx, tx, runID)
		if errors.Is(err, errNoRun) {
			return notFound(runID)
		}
		if err != nil {
			return fmt.Errorf("study: cancel run %d: %w", runID, err)
		}
		if !state.Live() {
			return nil
		}
		live = true
		if err := cancelRun(ctx, tx, runID); err != nil {
			return fmt.Errorf("study: cancel run %d: %w", runID, err)
		}
		if err := endSteps(ctx, tx, s.River, runID, "", StateCancelled); err != nil {
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
		if _, err := cancelQueries(ctx, s.Pool, runID); err != nil {
			return err
		}
		var left bool
		if err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name LIKE $1
			AND state = 'active' AND pid <> pg_backend_pid())`, stepAppName(runID, "")+"%").Scan(&left); err != nil {
			return fmt.Errorf("study: cancel run %d: %w", runID, err)
		}
		if !left || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return dropRunTables(ctx, s.Pool, runID)
}

// Delete cancels a run if it is live, drops its tables (handing those that
// later runs reuse over to them) and deletes it with its steps. A deleted
// run's id is not reused.
func (s *Service) Delete(ctx context.Context, runID int64) error {
	if err := s.Cancel(ctx, runID); err != nil {
		return err
	}
	if err := dropRunTables(ctx, s.Pool, runID); err != nil {
		return err
	}
	found, err := deleteRun(ctx, s.Pool, runID)
	if err != nil {
		return fmt.Errorf("study: delete run %d: %w", runID, err)
	}
	if !found {
		return notFound(runID)
	}
	return nil
}

// ListFilter selects runs for List; zero fields select all.
type ListFilter struct {
	StudyID     int64 // runs of this saved study
	SubmittedBy int64 // runs this app_user submitted
	RunID       int64 // this run only
	Limit       int   // at most this many, newest first; 0: 100
}

// Run is a run as List shows it, without its steps or results.
type Run struct {
	ID      int64 `json:"id"`
	StudyID int64 `json:"study_id,omitempty"`
	// StudyVersion is the saved study's version the run ran (0: none, or
	// a run older than migration 011).
	StudyVersion int   `json:"study_version,omitempty"`
	SubmittedBy  int64 `json:"submitted_by,omitempty"`
	// SubmitterName is the submitting user's name ("" for none).
	SubmitterName string `json:"submitter_name,omitempty"`
	State         State  `json:"state"`
	// Percent is the share of the run's steps done (reused included), to
	// one decimal.
	Percent      float64    `json:"percent"`
	Error        string     `json:"error,omitempty"`
	ProtocolName string     `json:"protocol_name"`
	ProtocolHash string     `json:"protocol_hash"`
	DataVersion  int64      `json:"data_version"`
	Scope        []string   `json:"scope,omitempty"`
	Warnings     []string   `json:"warnings,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	StartedAt    *time.Time `json:"started_at,omitempty"`
	FinishedAt   *time.Time `json:"finished_at,omitempty"`
}

// List returns runs newest first, filtered by f.
func (s *Service) List(ctx context.Context, f ListFilter) ([]Run, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	runs, err := listRuns(ctx, s.Pool, f)
	if err != nil {
		return nil, fmt.Errorf("study: list runs: %w", err)
	}
	return runs, nil
}

// WorkersActive reports whether some process is working River jobs on this
// database (a River leader holds a live lease): when none is, a CLI that
// wants a run finished must work it itself.
func (s *Service) WorkersActive(ctx context.Context) (bool, error) {
	var ok bool
	err := s.Pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM river_leader WHERE expires_at > now())").Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("study: look for workers: %w", err)
	}
	return ok, nil
}

// Plan compiles the plan of a stored run again, from its bound protocol
// and the options it was submitted with (the steps' SQL, for tools such as
// planperf and the benchmarks).
func (s *Service) Plan(ctx context.Context, runID int64) (*cohort.Plan, error) {
	return loadPlan(ctx, s.Pool, runID)
}

// Analyze computes the results document of a run whose steps are all
// done, without its profile, as the results job does (without storing it).
func (s *Service) Analyze(ctx context.Context, runID int64) (*results.Document, error) {
	return analyze(ctx, s.Pool, runID)
}

// Sweep enqueues again the work of dead processes (lease.go), as the
// periodic sweeper job does.
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	if s.River == nil {
		return SweepResult{}, errNoRiver
	}
	return sweep(ctx, s.Pool, s.River)
}

// DropTables drops the tables of a run that has ended, handing the tables
// other runs reuse over to them (Delete also deletes the run).
func (s *Service) DropTables(ctx context.Context, runID int64) error {
	return dropRunTables(ctx, s.Pool, runID)
}

// DiskBytes is the disk used by the tables a run's schema holds.
func (s *Service) DiskBytes(ctx context.Context, runID int64) (int64, error) {
	return diskBytes(ctx, s.Pool, runID)
}

// Protocol returns a run's bound protocol, as its plan was compiled from
// (the reports show its methods text and design diagram).
func (s *Service) Protocol(ctx context.Context, runID int64) (*cohort.Protocol, error) {
	r, err := loadRun(ctx, s.Pool, runID)
	if errors.Is(err, errNoRun) {
		return nil, notFound(runID)
	}
	if err != nil {
		return nil, fmt.Errorf("study: protocol of run %d: %w", runID, err)
	}
	p, err := cohort.DecodeBytes(r.protocol)
	if err != nil {
		return nil, fmt.Errorf("study: protocol of run %d: %w", runID, err)
	}
	return p, nil
}
