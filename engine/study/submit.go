package study

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/schema"
	"github.com/beaver-analytics/beaver/schema/errs"
)

// Queue is the River queue of study steps; its MaxWorkers is the global
// limit on concurrent steps of every run on one process.
const Queue = "study_steps"

// ErrNoData is returned by Submit when no import has been published.
var ErrNoData = errs.Wrap(errs.Unavailable, errors.New("study: no data has been imported yet"))

// Version is the build's version, set by cmd/beaver at start from the
// -X main.version that make build gives it. Empty: SoftwareVersion reads
// the Go build information instead.
var Version string

// SoftwareVersion names the build that compiles and runs the plans, as
// results documents record it and `beaver version` prints it: "beaver "
// and Version when the build set one; else the main module's version and
// its VCS revision when the build knows them.
func SoftwareVersion() string {
	if Version != "" {
		return "beaver " + Version
	}
	v := "beaver (devel)"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v = "beaver " + bi.Main.Version
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		v += " " + rev + dirty
	}
	return v
}

// SubmitRequest is a submission: the protocol and the choices besides it.
type SubmitRequest struct {
	Protocol []byte            // the protocol's JSON (docs/protocol.md)
	Params   map[string]string // template parameters
	// StudyID is the saved study the run belongs to (0: none, as from the
	// CLI). With one, unchanged steps are reused from earlier runs of the
	// same study id; without, from runs without a study of the same
	// protocol name and submitter.
	StudyID int64
	// StudyVersion is the version of the saved study whose protocol this
	// is (0: none), kept with the run.
	StudyVersion int
	SubmittedBy  int64 // an app_user id, or 0
	// Explain runs every step under EXPLAIN (ANALYZE, BUFFERS) and keeps
	// the plans in the profile of the results document (steps reused from
	// an earlier run have none: they do not run).
	Explain bool
	// Scope restricts the population to persons resident at index in
	// these ASLs (the submitting user's data scope); empty: no restriction.
	Scope []string
}

// Submitted is what Submit returns: the new run's id and the protocol's
// design warnings (cohort.Check), which the run and its results document
// also keep.
type Submitted struct {
	RunID    int64
	Warnings []string
}

// runOptions are what a run's plan is compiled with besides the
// protocol: stored with the run, so that every compilation of it (the
// workers', the results job's) gives the same steps.
type runOptions struct {
	schema       string
	partitions   int
	dataVersion  int64
	dataEnd      time.Time  // the latest event in the flows (DataEnd)
	enrolmentEnd *time.Time // the latest end of enrolment, when the protocol's data_end is "enrolment"
	scope        []string   // ASL codes, sorted, without duplicates
	distributed  bool       // the flows are distributed on Citus (schema.Citus)
}

// compile returns the compiler's options.
func (o runOptions) compile() cohort.Options {
	opts := cohort.Options{Schema: o.schema, Partitions: o.partitions, DataVersion: o.dataVersion,
		DataEnd: o.dataEnd.Format(time.DateOnly), Scope: o.scope, Distributed: o.distributed}
	if o.enrolmentEnd != nil {
		opts.EnrolmentEnd = o.enrolmentEnd.Format(time.DateOnly)
	}
	return opts
}

// normScope returns a scope sorted and without duplicates, nil when empty,
// as the compiler applies it.
func normScope(scope []string) []string {
	if len(scope) == 0 {
		return nil
	}
	out := slices.Clone(scope)
	slices.Sort(out)
	return slices.Compact(out)
}

// Submit decodes, binds and validates a protocol, compiles it for the
// current data version and partition count, and in one transaction stores
// the run (with the protocol's design warnings), its steps, its schema and
// the jobs of the steps that depend on nothing. Protocol problems come back
// as cohort.ValidationErrors, with JSON paths (errs.Invalid); ErrNoData
// (errs.Unavailable) when nothing has been imported.
func (s *Service) Submit(ctx context.Context, req SubmitRequest) (Submitted, error) {
	if s.River == nil {
		return Submitted{}, errNoRiver
	}
	p, err := cohort.DecodeBytes(req.Protocol)
	if err != nil {
		return Submitted{}, err
	}
	bound, err := p.Bind(req.Params)
	if err != nil {
		return Submitted{}, err
	}
	if err := bound.Validate(); err != nil {
		return Submitted{}, err
	}
	var warnings []string
	for _, w := range cohort.Check(bound) {
		warnings = append(warnings, w.String())
	}
	boundJSON, err := json.Marshal(bound)
	if err != nil {
		return Submitted{}, fmt.Errorf("study: submit: encode protocol: %w", err)
	}
	sum := sha256.Sum256(boundJSON)
	params := req.Params
	if params == nil {
		params = map[string]string{}
	}

	de := bound.Phases.FollowUp.End.DataEnd
	needEnrolmentEnd := de != nil && de.V == cohort.DataEndEnrolment

	var runID int64
	for attempt := 0; ; attempt++ {
		data, err := readData(ctx, s.Pool, needEnrolmentEnd)
		if err != nil {
			return Submitted{}, err
		}
		err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
			var latest int64
			if err := tx.QueryRow(ctx, "SELECT max(version) FROM etl_data_version").Scan(&latest); err != nil {
				return fmt.Errorf("study: submit: read the data version: %w", err)
			}
			if latest != data.dataVersion {
				return errDataMoved
			}
			runID, err = s.store(ctx, tx, req, bound, boundJSON, sum, params, warnings, data)
			return err
		})
		if errors.Is(err, errDataMoved) && attempt < 3 {
			continue // an import published between the reads and the run
		}
		if err != nil {
			return Submitted{}, err
		}
		return Submitted{RunID: runID, Warnings: warnings}, nil
	}
}

// errDataMoved: a new data version was published while a submission read
// the last one's data end.
var errDataMoved = errors.New("study: submit: a new data version was published meanwhile")

// readData reads the latest data version and its ends of data (the data
// end computed once per version, kept in study_data_end), each in its own
// statement before the run's transaction: on Citus these scans run on
// every shard in parallel, and a transaction that has done so cannot then
// create the run's schema.
func readData(ctx context.Context, pool *pgxpool.Pool, needEnrolmentEnd bool) (runOptions, error) {
	var o runOptions
	var importDate time.Time
	err := pool.QueryRow(ctx, `SELECT v.version, i.import_date FROM etl_data_version v
		JOIN etl_import i ON i.id = v.import_id ORDER BY v.version DESC LIMIT 1`).Scan(&o.dataVersion, &importDate)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, ErrNoData
	}
	if err != nil {
		return o, fmt.Errorf("study: submit: read the data version: %w", err)
	}
	if o.dataEnd, err = cachedDataEnd(ctx, pool, o.dataVersion, importDate); err != nil {
		return o, fmt.Errorf("study: submit: %w", err)
	}
	if needEnrolmentEnd {
		end, err := EnrolmentEnd(ctx, pool, o.dataVersion, importDate)
		if err != nil {
			return o, fmt.Errorf("study: submit: %w", err)
		}
		o.enrolmentEnd = &end
	}
	return o, nil
}

// store records a run read on data and its steps, creates its schema and
// enqueues its first steps, in the caller's transaction.
func (s *Service) store(ctx context.Context, tx pgx.Tx, req SubmitRequest, bound *cohort.Protocol, boundJSON []byte,
	sum [32]byte, params map[string]string, warnings []string, data runOptions) (int64, error) {
	var runID int64
	err := func() error {
		o := data
		o.scope = normScope(req.Scope)
		var err error
		if o.distributed, err = schema.Citus(ctx, tx); err != nil {
			return fmt.Errorf("study: submit: %w", err)
		}
		if o.partitions, err = schema.Partitions(ctx, tx); err != nil {
			return fmt.Errorf("study: submit: %w", err)
		}
		if o.partitions < 1 {
			o.partitions = 1
		}
		runID, err = insertRun(ctx, tx, newRun{studyID: req.StudyID, studyVersion: req.StudyVersion, submittedBy: req.SubmittedBy, protocol: boundJSON,
			hash: hex.EncodeToString(sum[:]), software: SoftwareVersion(), params: params, explain: req.Explain,
			warnings: warnings, options: o})
		if err != nil {
			return fmt.Errorf("study: submit: store the run: %w", err)
		}
		o.schema = SchemaName(runID)
		opts := o.compile()
		plan, err := cohort.Compile(bound, opts)
		if err != nil {
			return err
		}
		ids, tables, err := identities(bound, opts, plan)
		if err != nil {
			return err
		}
		if err := setRunSchema(ctx, tx, runID, o.schema); err != nil {
			return fmt.Errorf("study: submit: %w", err)
		}
		if _, err := tx.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{o.schema}.Sanitize()); err != nil {
			return fmt.Errorf("study: submit: create schema %s: %w", o.schema, err)
		}
		rows := make([][]any, len(plan.Steps))
		for i, s := range plan.Steps {
			deps := s.DependsOn
			if deps == nil {
				deps = []string{}
			}
			rows[i] = []any{runID, s.Name, s.Kind, s.Partition, s.ID, deps, ids[s.Name], tables[s.Name], runID}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"study_step"},
			[]string{"run_id", "name", "kind", "partition", "step_id", "depends_on", "identity", "table_name", "table_run"},
			pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("study: submit: store the steps: %w", err)
		}
		reused, err := reuseSteps(ctx, tx, runID)
		if err != nil {
			return err
		}
		if reused == len(plan.Steps) {
			// Nothing to run: only the analyses, which may have changed.
			if _, err := s.River.InsertTx(ctx, tx, ResultsArgs{RunID: runID}, nil); err != nil {
				return fmt.Errorf("study: submit: enqueue the results of run %d: %w", runID, err)
			}
			return nil
		}
		return enqueueReady(ctx, tx, s.River, runID)
	}()
	return runID, err
}

// FairShare is how many steps of one run are queued or running at each
// River priority: a run's first FairShare open steps get priority 1, the
// next FairShare priority 2, and so on to 4, River's lowest. River takes
// available jobs by priority, then age; so the steps of a run that has
// few open steps go before the backlog of a run that has many, and runs
// submitted together share the workers about evenly instead of in
// submission order (docs/results.md, "Sharing the workers between runs").
const FairShare = 4

// fairPriority is the River priority of a run's step with open steps of
// the run queued or running before it.
func fairPriority(open int) int {
	return min(1+open/FairShare, 4)
}

// enqueueReady marks queued, and enqueues, every waiting step of the run
// whose inputs are all done. The caller holds the run's row lock (or is
// the transaction that creates the run), so each step is enqueued once.
func enqueueReady(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], runID int64) error {
	rows, err := tx.Query(ctx, `UPDATE study_step s SET state = 'queued', queued_at = now()
		WHERE s.run_id = $1 AND s.state = 'waiting' AND NOT EXISTS (
			SELECT 1 FROM study_step d WHERE d.run_id = s.run_id AND d.name = ANY (s.depends_on) AND d.state <> 'done')
		RETURNING s.name`, runID)
	if err != nil {
		return fmt.Errorf("study: find ready steps of run %d: %w", runID, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("study: find ready steps of run %d: %w", runID, err)
	}
	if len(names) == 0 {
		return nil
	}
	// Fairness between runs: the run's queued and running steps before
	// these set the River priority of each new job (fairPriority).
	var open int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM study_step WHERE run_id = $1 AND state IN ('queued', 'running')`,
		runID).Scan(&open); err != nil {
		return fmt.Errorf("study: count the open steps of run %d: %w", runID, err)
	}
	open -= len(names)
	params := make([]river.InsertManyParams, len(names))
	for i, n := range names {
		params[i] = river.InsertManyParams{Args: StepArgs{RunID: runID, Step: n},
			InsertOpts: &river.InsertOpts{Priority: fairPriority(open + i)}}
	}
	res, err := client.InsertManyTx(ctx, tx, params)
	if err != nil {
		return fmt.Errorf("study: enqueue steps of run %d: %w", runID, err)
	}
	ids := make([]int64, len(res))
	for i, r := range res {
		ids[i] = r.Job.ID
	}
	if _, err := tx.Exec(ctx, `UPDATE study_step s SET job_id = j.id FROM unnest($2::text[], $3::bigint[]) AS j(name, id)
		WHERE s.run_id = $1 AND s.name = j.name`, runID, names, ids); err != nil {
		return fmt.Errorf("study: record the jobs of run %d: %w", runID, err)
	}
	return nil
}

// cachedDataEnd is DataEnd, computed once per data version and kept in
// study_data_end: a published version's rows never change, and DataEnd
// scans every flow table. Two submissions racing on a new version compute
// it twice and store it once.
func cachedDataEnd(ctx context.Context, tx *pgxpool.Pool, version int64, importDate time.Time) (time.Time, error) {
	var end time.Time
	err := tx.QueryRow(ctx, "SELECT data_end FROM study_data_end WHERE data_version = $1", version).Scan(&end)
	if err == nil {
		return end, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, fmt.Errorf("read the last day of data: %w", err)
	}
	if end, err = DataEnd(ctx, tx, version, importDate); err != nil {
		return time.Time{}, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO study_data_end (data_version, data_end) VALUES ($1, $2)
		ON CONFLICT (data_version) DO NOTHING`, version, end); err != nil {
		return time.Time{}, fmt.Errorf("store the last day of data: %w", err)
	}
	return end, nil
}

// DataEnd is the last day of data of a data version: the latest event
// date in the flows (discharges, dispensings of both channels, exemption
// starts, ER arrivals, outpatient services, births), but not after the
// import date; the import date when the flows are empty. Follow-up ends on
// it at the latest (docs/results.md). Taking the import date instead would
// run follow-up on to the day of the import, over months without data.
func DataEnd(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, version int64, importDate time.Time) (time.Time, error) {
	var end *time.Time
	err := q.QueryRow(ctx, `SELECT least(greatest(
		(SELECT max(discharge_date) FROM sdo WHERE data_version <= $1),
		(SELECT max(dispensing_date) FROM pharmacy WHERE data_version <= $1),
		(SELECT max(dispensing_date) FROM direct_distribution WHERE data_version <= $1),
		(SELECT max(start_date) FROM exemption WHERE data_version <= $1),
		(SELECT max(arrival_date) FROM er WHERE data_version <= $1),
		(SELECT max(service_date) FROM outpatient WHERE data_version <= $1),
		(SELECT max(delivery_date) FROM cedap WHERE data_version <= $1)), $2::date)`, version, importDate).Scan(&end)
	if err != nil {
		return time.Time{}, fmt.Errorf("read the last day of data: %w", err)
	}
	if end == nil {
		return importDate, nil
	}
	return *end, nil
}

// EnrolmentEnd is the latest end of enrolment of a data version: the
// latest end of an enrolment spell, an open spell counting as enrolled to
// the import date, but not after the import date; the import date when
// there is no enrolment. Follow-up ends on it at the latest when the
// protocol's follow_up.end.data_end is "enrolment" (docs/protocol.md).
func EnrolmentEnd(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, version int64, importDate time.Time) (time.Time, error) {
	var end *time.Time
	err := q.QueryRow(ctx, `SELECT least(max(coalesce(end_date, $2::date)), $2::date) FROM enrolment WHERE data_version <= $1`,
		version, importDate).Scan(&end)
	if err != nil {
		return time.Time{}, fmt.Errorf("read the latest end of enrolment: %w", err)
	}
	if end == nil {
		return importDate, nil
	}
	return *end, nil
}
