package study

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/report/results"
)

// ResultsArgs is the job that computes a run's results once all its steps
// are done.
type ResultsArgs struct {
	RunID int64 `json:"run_id"`
}

// Kind names the job in River's table.
func (ResultsArgs) Kind() string { return "beaver.study_results" }

// InsertOpts puts the job on the study queue.
func (ResultsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 10}
}

// ResultsWorker works ResultsArgs: it reads the analysis datasets,
// computes the protocol's analyses and stores the document and the state
// done in one transaction.
type ResultsWorker struct {
	river.WorkerDefaults[ResultsArgs]
	Pool   *pgxpool.Pool
	Logger *slog.Logger
}

// Work computes and stores the results of a run whose steps are all done.
func (w *ResultsWorker) Work(ctx context.Context, job *river.Job[ResultsArgs]) error {
	runID := job.Args.RunID
	logger := w.Logger
	if logger == nil {
		logger = slog.Default()
	}
	state, err := runState(ctx, w.Pool, runID)
	if errors.Is(err, errNoRun) {
		return river.JobCancel(fmt.Errorf("study: results of run %d: no such run", runID))
	}
	if err != nil {
		return fmt.Errorf("study: results of run %d: %w", runID, err)
	}
	if state != StateRunning && state != StateQueued {
		return nil // done by an earlier job, or ended
	}
	began := time.Now()
	doc, err := analyze(ctx, w.Pool, runID)
	if err != nil {
		if ctx.Err() != nil || (transient(err) && !errors.Is(err, errDeterministic)) {
			logger.Warn("study results: transient error, River retries", "run", runID, "err", err)
			return fmt.Errorf("study: results of run %d: %w", runID, err)
		}
		logger.Error("study results failed", "run", runID, "err", err)
		msg := "analyses: " + explain(err)
		var de *deterministicError
		if errors.As(err, &de) {
			msg = "analyses: " + de.msg
		}
		if _, err := failRun(ctx, w.Pool, runID, msg); err != nil {
			return fmt.Errorf("study: results of run %d: record failure: %w", runID, err)
		}
		return river.JobCancel(errors.New(msg))
	}
	prof, err := profile(ctx, w.Pool, runID)
	if err != nil {
		return fmt.Errorf("study: results of run %d: %w", runID, err)
	}
	prof.AnalysesMS = time.Since(began).Milliseconds()
	doc.Profile = prof
	b, err := json.Marshal(doc)
	if err != nil {
		return river.JobCancel(fmt.Errorf("study: results of run %d: encode: %w", runID, err))
	}
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		now, err := lockRun(ctx, tx, runID)
		if err != nil {
			return fmt.Errorf("study: results of run %d: %w", runID, err)
		}
		if now != StateRunning && now != StateQueued {
			return nil
		}
		if err := storeResults(ctx, tx, runID, b); err != nil {
			return fmt.Errorf("study: results of run %d: store: %w", runID, err)
		}
		return nil
	})
}

// errDeterministic marks errors that retrying cannot fix.
var errDeterministic = errors.New("deterministic")

// deterministicError is a failure of the analyses phase that retrying
// cannot fix, with a message for the user.
type deterministicError struct{ msg string }

func (e *deterministicError) Error() string { return e.msg }
func (e *deterministicError) Is(target error) bool {
	return target == errDeterministic
}

// analyze computes the results document of a run whose steps are all done,
// without its profile.
func analyze(ctx context.Context, pool *pgxpool.Pool, runID int64) (*results.Document, error) {
	run, err := loadRun(ctx, pool, runID)
	if err != nil {
		return nil, err
	}
	doc := &results.Document{ProtocolHash: run.protocolHash, DataVersion: run.options.dataVersion,
		DataEnd: run.options.dataEnd.Format(time.DateOnly), SoftwareVersion: run.softwareVersion, MinCount: MinCount,
		Scope: run.options.scope, Analyses: map[string]*results.AnalysisResult{}, Warnings: []string{}}
	var p cohort.Protocol
	if err := json.Unmarshal(run.protocol, &p); err != nil {
		return nil, &deterministicError{"the stored protocol cannot be read: " + err.Error()}
	}
	plan, err := run.plan(runID)
	if err != nil {
		return nil, &deterministicError{"the run's protocol does not compile in this software version; resubmit the study"}
	}
	// The end of data the plan used: the flows' (the default), the end of
	// enrolment or the protocol's date, as its follow_up.end.data_end says.
	if plan.DataEnd != "" {
		doc.DataEnd = plan.DataEnd
	}
	if plan.DataEndRule != "" && plan.DataEndRule != cohort.DataEndFlows {
		doc.DataEndRule = plan.DataEndRule
	}
	// The protocol's design warnings (cohort.Check at submission) come
	// first: they concern the whole study.
	doc.Warnings = append(doc.Warnings, run.warnings...)
	for _, nc := range plan.NotCompiled {
		doc.Warnings = append(doc.Warnings, "not compiled yet: "+nc)
	}

	tables, err := partitionTables(plan, "attrition")
	if err != nil {
		return nil, &deterministicError{err.Error()}
	}
	af, err := readFrame(ctx, pool, tables, "line")
	if err != nil {
		return nil, err
	}
	doc.Attrition = attrition(af, plan.Attrition)

	var ds *frame // the analysis dataset, read once when an analysis needs it
	dataset := func() (*frame, error) {
		if ds != nil {
			return ds, nil
		}
		tables, err := partitionTables(plan, "dataset")
		if err != nil {
			return nil, &deterministicError{err.Error()}
		}
		ds, err = readFrame(ctx, pool, tables, "person_id, entry_no")
		return ds, err
	}
	refs := map[string]string{}
	for _, c := range p.Phases.Covariates {
		if c.Reference != "" {
			refs[c.Name] = c.Reference
		}
	}
	for _, a := range p.Phases.Analyses {
		r := &results.AnalysisResult{Kind: results.Kind(a.Kind), Outcome: a.Outcome, By: a.By}
		doc.Analyses[a.Name] = r
		if a.Kind == cohort.AnalysisAttrition {
			r.Result = results.Attrition(doc.Attrition)
		} else if err := runAnalysis(ctx, pool, plan, &p, a, r, dataset, refs); err != nil {
			return nil, err
		}
		if r.Error != "" {
			doc.Warnings = append(doc.Warnings, fmt.Sprintf("analysis %q: %s", a.Name, r.Error))
		}
		for _, w := range r.Warnings {
			doc.Warnings = append(doc.Warnings, fmt.Sprintf("analysis %q: %s", a.Name, w))
		}
	}
	return doc, nil
}

// typed returns a computed result as a results.Result, nil when the
// analysis failed, so that it encodes as null (never as a typed nil).
func typed[R results.Result](v R, w []string, err error) (results.Result, []string, error) {
	if err != nil {
		return nil, w, err
	}
	return v, w, nil
}

// profile reads each step's wall time and rows.
func profile(ctx context.Context, pool *pgxpool.Pool, runID int64) (*results.Profile, error) {
	rows, err := pool.Query(ctx, "SELECT name, kind, rows, wall_ms, reused_from, explain FROM study_step WHERE run_id = $1 ORDER BY name", runID)
	if err != nil {
		return nil, err
	}
	steps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (results.StepProfile, error) {
		var s results.StepProfile
		err := r.Scan(&s.Name, &s.Kind, &s.Rows, &s.WallMS, &s.ReusedFrom, &s.Explain)
		return s, err
	})
	if err != nil {
		return nil, err
	}
	return &results.Profile{Steps: steps}, nil
}
