package study

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// This file holds every statement that reads or writes study_run, one
// small function per statement, and the names of the database objects
// that carry a run's id (its schema, its steps' application_name). No
// other file of the module spells study_run outside the migrations.

// querier is what a query runs on: the pool, a connection or a
// transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// SchemaName is the PostgreSQL schema holding the tables of run id.
func SchemaName(runID int64) string { return fmt.Sprintf("study_run_%d", runID) }

// stepAppName is the application_name of the transaction of a run's step:
// what cancelQueries looks for in pg_stat_activity.
func stepAppName(runID int64, step string) string {
	return fmt.Sprintf("beaver study_run %d step %s", runID, step)
}

// newRun is a run's row as Submit stores it.
type newRun struct {
	studyID, submittedBy int64 // 0: none
	studyVersion         int   // 0: none
	protocol             []byte
	hash                 string
	software             string
	params               map[string]string
	explain              bool
	warnings             []string
	options              runOptions // its schema is set later (setRunSchema)
}

// orNull is a column's value: NULL for the zero value (no study, no
// user, no study version).
func orNull[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// insertRun stores a queued run and returns its id.
func insertRun(ctx context.Context, q querier, r newRun) (int64, error) {
	o := r.options
	scope, warnings := o.scope, r.warnings
	if scope == nil {
		scope = []string{}
	}
	if warnings == nil {
		warnings = []string{}
	}
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO study_run (study_id, submitted_by, state, protocol, protocol_hash, data_version,
			software_version, params, partitions, data_end, enrolment_end, explain, scope, warnings, study_version)
		VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		orNull(r.studyID), orNull(r.submittedBy), r.protocol, r.hash, o.dataVersion, r.software, r.params,
		o.partitions, o.dataEnd, o.enrolmentEnd, r.explain, scope, warnings, orNull(r.studyVersion)).Scan(&id)
	return id, err
}

// setRunSchema records the schema that holds a run's tables.
func setRunSchema(ctx context.Context, q querier, runID int64, schemaName string) error {
	_, err := q.Exec(ctx, "UPDATE study_run SET schema_name = $2 WHERE id = $1", runID, schemaName)
	return err
}

// errNoRun is returned by the queries of one run for an id that does not
// exist (pgx.ErrNoRows in its chain).
var errNoRun = fmt.Errorf("no such run: %w", pgx.ErrNoRows)

// noRun turns pgx.ErrNoRows into errNoRun.
func noRun(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoRun
	}
	return err
}

// runState reads a run's state.
func runState(ctx context.Context, q querier, runID int64) (State, error) {
	var s State
	err := q.QueryRow(ctx, "SELECT state FROM study_run WHERE id = $1", runID).Scan(&s)
	return s, noRun(err)
}

// lockRun reads a run's state and locks its row until tx ends: the lock
// that orders the completion of steps, failures and cancellation.
func lockRun(ctx context.Context, tx pgx.Tx, runID int64) (State, error) {
	var s State
	err := tx.QueryRow(ctx, "SELECT state FROM study_run WHERE id = $1 FOR UPDATE", runID).Scan(&s)
	return s, noRun(err)
}

// stepState is what a step's job reads before it runs.
type stepState struct {
	run, step State
	stepID    string // the step's cohort.Step.ID at submission
	explain   bool   // the run's steps run under EXPLAIN
}

// readStepState reads a run's state and one of its steps'.
func readStepState(ctx context.Context, q querier, runID int64, step string) (stepState, error) {
	var s stepState
	err := q.QueryRow(ctx, `SELECT r.state, s.state, s.step_id, r.explain FROM study_run r JOIN study_step s ON s.run_id = r.id
		WHERE r.id = $1 AND s.name = $2`, runID, step).Scan(&s.run, &s.step, &s.stepID, &s.explain)
	return s, noRun(err)
}

// startRun marks a queued run running, from its first step on.
func startRun(ctx context.Context, q querier, runID int64) error {
	_, err := q.Exec(ctx, `UPDATE study_run SET state = 'running', started_at = coalesce(started_at, now())
		WHERE id = $1 AND state = 'queued'`, runID)
	return err
}

// failRun marks a live run failed with msg; it reports whether the run was
// live.
func failRun(ctx context.Context, q querier, runID int64, msg string) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE study_run SET state = 'failed', error = $2, finished_at = clock_timestamp()
		WHERE id = $1 AND state IN ('queued', 'running')`, runID, msg)
	return err == nil && tag.RowsAffected() > 0, err
}

// cancelRun marks a run cancelled by a user.
func cancelRun(ctx context.Context, q querier, runID int64) error {
	_, err := q.Exec(ctx, `UPDATE study_run SET state = 'cancelled', error = 'cancelled by a user', finished_at = clock_timestamp()
		WHERE id = $1`, runID)
	return err
}

// storeResults stores a run's results document and marks it done.
func storeResults(ctx context.Context, q querier, runID int64, doc []byte) error {
	_, err := q.Exec(ctx, `UPDATE study_run SET results = $2, state = 'done', finished_at = clock_timestamp() WHERE id = $1`, runID, doc)
	return err
}

// runResults reads a run's state and its results document as stored
// (jsonb's text: keys in jsonb order); nil before the run is done.
func runResults(ctx context.Context, q querier, runID int64) (State, []byte, error) {
	var s State
	var b []byte
	err := q.QueryRow(ctx, "SELECT state, results::text FROM study_run WHERE id = $1", runID).Scan(&s, &b)
	return s, b, noRun(err)
}

// deleteRun deletes a run's row (its steps go with it); it reports
// whether there was one.
func deleteRun(ctx context.Context, q querier, runID int64) (bool, error) {
	tag, err := q.Exec(ctx, "DELETE FROM study_run WHERE id = $1", runID)
	return err == nil && tag.RowsAffected() > 0, err
}

// storedRun is what the engine compiles and analyses a run from.
type storedRun struct {
	protocol        []byte // the bound protocol (JSON)
	protocolHash    string
	options         runOptions
	softwareVersion string
	warnings        []string // cohort.Check's, at submission
}

// loadRun reads a run's stored protocol and the options it was submitted
// with.
func loadRun(ctx context.Context, q querier, runID int64) (*storedRun, error) {
	var r storedRun
	var schemaName *string
	o := &r.options
	err := q.QueryRow(ctx, `SELECT protocol, protocol_hash, schema_name, partitions, data_version, data_end, enrolment_end,
			software_version, scope, warnings,
			coalesce((SELECT value = 'citus' FROM etl_setting WHERE key = 'layout'), false)
		FROM study_run WHERE id = $1`, runID).Scan(&r.protocol, &r.protocolHash, &schemaName, &o.partitions,
		&o.dataVersion, &o.dataEnd, &o.enrolmentEnd, &r.softwareVersion, &o.scope, &r.warnings, &o.distributed)
	if err != nil {
		return nil, noRun(err)
	}
	if schemaName != nil {
		o.schema = *schemaName
	}
	if len(o.scope) == 0 {
		o.scope = nil
	}
	return &r, nil
}

// runStatus is a run's row as Status shows it.
type runStatus struct {
	state                      State
	errText, schemaName        *string
	dataVersion                int64
	created                    time.Time
	started, finished          *time.Time
	studyID, submittedBy       *int64
	studyVersion               int
	scope, warnings            []string
	protocolName, protocolHash string
}

// readRunStatus reads a run's state and times.
func readRunStatus(ctx context.Context, q querier, runID int64) (*runStatus, error) {
	var r runStatus
	err := q.QueryRow(ctx, `SELECT state, error, data_version, schema_name, created_at, started_at, finished_at,
			study_id, submitted_by, scope, warnings, coalesce(protocol->>'name', ''), protocol_hash, coalesce(study_version, 0)
		FROM study_run WHERE id = $1`, runID).Scan(&r.state, &r.errText, &r.dataVersion, &r.schemaName, &r.created,
		&r.started, &r.finished, &r.studyID, &r.submittedBy, &r.scope, &r.warnings, &r.protocolName, &r.protocolHash, &r.studyVersion)
	if err != nil {
		return nil, noRun(err)
	}
	return &r, nil
}

// listRuns lists runs newest first (by id: in the order they were
// submitted), filtered by study, submitter and run
// when given, with each run's percent of steps done and its submitter's
// name.
func listRuns(ctx context.Context, q querier, f ListFilter) ([]Run, error) {
	rows, err := q.Query(ctx, `SELECT r.id, r.study_id, coalesce(r.study_version, 0), r.submitted_by, coalesce(u.name, ''), r.state, coalesce(r.error, ''),
			coalesce(r.protocol->>'name', ''), r.protocol_hash, r.data_version, r.scope, r.warnings,
			r.created_at, r.started_at, r.finished_at,
			coalesce((SELECT round(1000.0 * count(*) FILTER (WHERE s.state = 'done') / nullif(count(*), 0)) / 10
			          FROM study_step s WHERE s.run_id = r.id), 0)::float8
		FROM study_run r LEFT JOIN app_user u ON u.id = r.submitted_by
		WHERE ($1::bigint = 0 OR r.study_id = $1) AND ($2::bigint = 0 OR r.submitted_by = $2) AND ($3::bigint = 0 OR r.id = $3)
		ORDER BY r.id DESC LIMIT $4`, f.StudyID, f.SubmittedBy, f.RunID, f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Run, error) {
		var x Run
		var studyID, by *int64
		err := r.Scan(&x.ID, &studyID, &x.StudyVersion, &by, &x.SubmitterName, &x.State, &x.Error, &x.ProtocolName, &x.ProtocolHash,
			&x.DataVersion, &x.Scope, &x.Warnings, &x.CreatedAt, &x.StartedAt, &x.FinishedAt, &x.Percent)
		if studyID != nil {
			x.StudyID = *studyID
		}
		if by != nil {
			x.SubmittedBy = *by
		}
		return x, err
	})
}

// reusable is a step of a new run that can take the table of a done step
// of an earlier run: the step's name and table, the run that holds the
// table, and its rows.
type reusable struct {
	name, table string
	from        int64
	rows        *int64
}

// reusableSteps finds the steps of run runID whose identity equals a done
// step of an earlier run of the same study whose table still exists (the
// newest such run wins; its table's holder is table_run, which the moves
// keep true; a failed run's tables are kept, a cancelled run's dropped).
// Runs of the same study: the same study id when the run has one; else,
// runs without one, of the same protocol name and submitter.
func reusableSteps(ctx context.Context, q querier, runID int64) ([]reusable, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT ON (s.name) s.name, s.table_name, src.table_run, src.rows
		FROM study_step s
		JOIN study_run me ON me.id = s.run_id
		JOIN study_step src ON src.identity = s.identity AND src.state = 'done' AND src.run_id <> s.run_id
		JOIN study_run r ON r.id = src.run_id
		WHERE s.run_id = $1 AND src.table_run IS NOT NULL
		  AND r.state IN ('queued', 'running', 'done', 'failed')
		  AND CASE WHEN me.study_id IS NOT NULL THEN r.study_id = me.study_id
		      ELSE r.study_id IS NULL AND r.protocol->>'name' = me.protocol->>'name'
		           AND r.submitted_by IS NOT DISTINCT FROM me.submitted_by END
		  AND to_regclass(format('%I.%I', 'study_run_' || src.table_run, src.table_name)) IS NOT NULL
		ORDER BY s.name, src.run_id DESC`, runID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (reusable, error) {
		var x reusable
		return x, r.Scan(&x.name, &x.table, &x.from, &x.rows)
	})
}

// The results job's lease on its run's row (lease.go's acquire: arguments
// run, step (""), owner, TTL, and whether to take it from another owner).
const (
	takeResultsLeaseSQL = `UPDATE study_run SET lease_owner = $3, lease_until = now() + $4::interval
		WHERE id = $1 AND $2 = '' AND (lease_owner = $3 OR $5)`
	clearResultsLeaseSQL = `UPDATE study_run SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND $2 = '' AND lease_owner = $3`
)

// staleStep is a step whose worker has gone (Sweep).
type staleStep struct {
	run  int64
	name string
	job  *int64
}

// staleSteps finds, and locks in tx, the queued or running steps of live
// runs whose lease ran out, or that never took one and whose job has run
// for longer than stale.
func staleSteps(ctx context.Context, tx pgx.Tx, stale string) ([]staleStep, error) {
	rows, err := tx.Query(ctx, `SELECT s.run_id, s.name, s.job_id FROM study_step s
		JOIN study_run r ON r.id = s.run_id
		LEFT JOIN river_job j ON j.id = s.job_id
		WHERE r.state IN ('queued', 'running') AND s.state IN ('queued', 'running')
		  AND (s.lease_until < now()
		       OR (s.lease_until IS NULL AND j.state = 'running' AND j.attempted_at < now() - $1::interval))
		ORDER BY s.run_id, s.name
		FOR UPDATE OF r, s SKIP LOCKED`, stale)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (staleStep, error) {
		var s staleStep
		return s, r.Scan(&s.run, &s.name, &s.job)
	})
}

// staleResult is a run whose results job has gone (Sweep), with its
// running jobs of kind results.
type staleResult struct {
	run  int64
	jobs []int64
}

// staleResults finds, and locks in tx, the live runs whose steps are all
// done and whose results lease ran out, or that never took one and whose
// results job (of River kind kind) has run for longer than stale with no
// other job of it waiting.
func staleResults(ctx context.Context, tx pgx.Tx, stale, kind string) ([]staleResult, error) {
	rows, err := tx.Query(ctx, `SELECT r.id, (SELECT array_agg(j.id) FROM river_job j
			WHERE j.kind = $2 AND (j.args->>'run_id')::bigint = r.id AND j.state = 'running') FROM study_run r
		WHERE r.state IN ('queued', 'running')
		  AND NOT EXISTS (SELECT 1 FROM study_step s WHERE s.run_id = r.id AND s.state <> 'done')
		  AND EXISTS (SELECT 1 FROM study_step s WHERE s.run_id = r.id)
		  AND (r.lease_until < now()
		       OR (r.lease_until IS NULL AND EXISTS (SELECT 1 FROM river_job j WHERE j.kind = $2
		           AND (j.args->>'run_id')::bigint = r.id AND j.state = 'running' AND j.attempted_at < now() - $1::interval)
		           AND NOT EXISTS (SELECT 1 FROM river_job j WHERE j.kind = $2
		           AND (j.args->>'run_id')::bigint = r.id AND j.state IN ('available', 'scheduled', 'retryable', 'pending'))))
		ORDER BY r.id
		FOR UPDATE OF r SKIP LOCKED`, stale, kind)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (staleResult, error) {
		var s staleResult
		return s, r.Scan(&s.run, &s.jobs)
	})
}

// clearResultsLease drops the results lease of a run.
func clearResultsLease(ctx context.Context, q querier, runID int64) error {
	_, err := q.Exec(ctx, "UPDATE study_run SET lease_owner = NULL, lease_until = NULL WHERE id = $1", runID)
	return err
}
