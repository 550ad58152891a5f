package study

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/cohort"
)

// Reuse of unchanged steps (docs/results.md, "Reuse, deletion and disk
// use"). A step's identity is its cohort.Step.ID compiled for a neutral
// schema: the compiler's IDs hash the table's qualified name, which holds
// the run's schema, so two runs of one protocol never share a Step.ID. The
// plan compiled for identitySchema differs from the run's only in that
// name, and its IDs hash the definition, the inputs' identities and the
// data version, as the issue asks.
//
// At submission, a step whose identity equals a done step of an earlier run
// of the same study (same study id; for runs without a study, same protocol
// name and submitter) is done at once: its table becomes a view in the new
// run's schema onto the table that holds the rows (study_step.table_run),
// and reused_from names that run. Views refer to tables by OID, so a
// table moved to another schema keeps every view onto it working: deleting
// or cancelling a run moves each of its tables that other runs reuse into
// the schema of one of them (replacing that run's view) before dropping
// its schema.

// identitySchema is the neutral schema the identities are compiled for. No
// table is ever written there.
const identitySchema = "beaver_step_identity"

// tablesLock serialises the moves and drops of runs' tables against the
// reuse of tables at submission (an advisory lock: exclusive to drop,
// shared to reuse), so that a run never takes a view onto a table that is
// being dropped.
const tablesLock = int64(0x6265617665720007) // "beaver" + 7

// identities compiles the plan again for identitySchema and returns each
// step's identity (its ID there, hashed with the partition count) and
// table (relation) name by step name.
func identities(p *cohort.Protocol, opts cohort.Options, plan *cohort.Plan) (ids, tables map[string]string, err error) {
	opts.Schema = identitySchema
	neutral, err := cohort.Compile(p, opts)
	if err != nil {
		return nil, nil, err
	}
	if len(neutral.Steps) != len(plan.Steps) {
		return nil, nil, fmt.Errorf("study: the plan compiles to %d steps for its schema and %d for %s", len(plan.Steps), len(neutral.Steps), identitySchema)
	}
	prefix := pgx.Identifier{identitySchema}.Sanitize() + "."
	ids, tables = map[string]string{}, map[string]string{}
	for _, s := range neutral.Steps {
		rel, ok := strings.CutPrefix(s.Table, prefix)
		if !ok || len(rel) < 2 || rel[0] != '"' || rel[len(rel)-1] != '"' {
			return nil, nil, fmt.Errorf("study: step %s writes %s, not a table of its schema", s.Name, s.Table)
		}
		// The partition count is hashed in too: a step of partition 0
		// reads the same flow tables by name whether there are 2 or 4
		// partitions, but not the same persons.
		h := sha256.Sum256(fmt.Appendf(nil, "%s\x00partitions:%d", s.ID, opts.Partitions))
		ids[s.Name] = hex.EncodeToString(h[:])
		tables[s.Name] = strings.ReplaceAll(rel[1:len(rel)-1], `""`, `"`)
	}
	return ids, tables, nil
}

// reuseSteps marks done, in tx, every step of the new run runID whose
// identity equals a done step of an earlier run of the same study whose
// table still exists, and makes the step's table a view onto that table.
// It returns the number of steps reused.
func reuseSteps(ctx context.Context, tx pgx.Tx, runID int64) (int, error) {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", tablesLock); err != nil {
		return 0, fmt.Errorf("study: reuse steps: %w", err)
	}
	found, err := reusableSteps(ctx, tx, runID)
	if err != nil {
		return 0, fmt.Errorf("study: find reusable steps: %w", err)
	}
	for _, x := range found {
		view := pgx.Identifier{SchemaName(runID), x.table}.Sanitize()
		src := pgx.Identifier{SchemaName(x.from), x.table}.Sanitize()
		if _, err := tx.Exec(ctx, "CREATE VIEW "+view+" AS SELECT * FROM "+src); err != nil {
			return 0, fmt.Errorf("study: reuse step %s of run %d: %w", x.name, x.from, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE study_step SET state = 'done', rows = $3, wall_ms = 0, reused_from = $4,
			table_run = $4, finished_at = now() WHERE run_id = $1 AND name = $2`, runID, x.name, x.rows, x.from); err != nil {
			return 0, fmt.Errorf("study: reuse step %s of run %d: %w", x.name, x.from, err)
		}
	}
	return len(found), nil
}

// dropTables drops the tables of a run, first moving each table that
// other runs reuse into the schema of the oldest of them (in place of its
// view). It returns what PostgreSQL says when a table is still in use
// (lock_timeout): the caller retries.
func dropTables(ctx context.Context, tx pgx.Tx, runID int64) error {
	schemaName := SchemaName(runID)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", tablesLock); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT ON (h.table_name) h.table_name, h.run_id FROM study_step h
		WHERE h.table_run = $1 AND h.run_id <> $1
		ORDER BY h.table_name, h.run_id`, runID)
	if err != nil {
		return err
	}
	type heir struct {
		table string
		run   int64
	}
	heirs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (heir, error) {
		var h heir
		return h, r.Scan(&h.table, &h.run)
	})
	if err != nil {
		return err
	}
	for _, h := range heirs {
		if _, err := tx.Exec(ctx, "DROP VIEW IF EXISTS "+pgx.Identifier{SchemaName(h.run), h.table}.Sanitize()); err != nil {
			return fmt.Errorf("hand table %s to run %d: %w", h.table, h.run, err)
		}
		if _, err := tx.Exec(ctx, "ALTER TABLE "+pgx.Identifier{schemaName, h.table}.Sanitize()+
			" SET SCHEMA "+pgx.Identifier{SchemaName(h.run)}.Sanitize()); err != nil {
			return fmt.Errorf("hand table %s to run %d: %w", h.table, h.run, err)
		}
		if _, err := tx.Exec(ctx, "UPDATE study_step SET table_run = $3 WHERE table_run = $1 AND table_name = $2",
			runID, h.table, h.run); err != nil {
			return fmt.Errorf("hand table %s to run %d: %w", h.table, h.run, err)
		}
	}
	// Bookkeeping guards the other runs, and the catalog checks it: DROP
	// SCHEMA CASCADE would silently take their views with it.
	var outside int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM pg_depend d
		JOIN pg_rewrite rw ON rw.oid = d.objid
		JOIN pg_class v ON v.oid = rw.ev_class
		JOIN pg_class t ON t.oid = d.refobjid
		WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
		  AND t.relnamespace = to_regnamespace($1) AND v.relnamespace <> t.relnamespace`, schemaName).Scan(&outside); err != nil {
		return err
	}
	if outside > 0 {
		return fmt.Errorf("%d views of other runs read tables of run %d that no step records as reused; its tables are kept", outside, runID)
	}
	if _, err := tx.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schemaName}.Sanitize()+" CASCADE"); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "UPDATE study_step SET table_run = NULL WHERE run_id = $1", runID)
	return err
}

// dropRunTables drops the tables of a run that has ended (see Delete for a
// live one), handing the tables other runs reuse over to them. It waits
// for the steps of other runs that read them.
func dropRunTables(ctx context.Context, pool *pgxpool.Pool, runID int64) error {
	for attempt := 0; ; attempt++ {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			// A step of this run cancelled a moment ago may still hold its
			// schema until its rollback: wait a little, cancel its query
			// again, retry.
			if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '2s'"); err != nil {
				return err
			}
			return dropTables(ctx, tx, runID)
		})
		if err == nil {
			return nil
		}
		if lockTimeout(err) && attempt >= 30 {
			return fmt.Errorf("study: drop the tables of run %d: steps of other runs that reuse them have been reading them for a minute; try again later: %w", runID, err)
		}
		if !lockTimeout(err) || ctx.Err() != nil {
			return fmt.Errorf("study: drop the tables of run %d: %w", runID, err)
		}
		if _, err := cancelQueries(ctx, pool, runID); err != nil {
			return err
		}
	}
}

// diskBytes is the disk used by the tables a run's schema holds (with
// their indexes and TOAST): pg_total_relation_size summed. A reused step's
// view takes no space; its table counts for the run whose schema holds it.
func diskBytes(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, runID int64) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
		WHERE c.relnamespace = to_regnamespace($1) AND c.relkind IN ('r', 'p', 'm')`, SchemaName(runID)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("study: disk used by run %d: %w", runID, err)
	}
	return n, nil
}

// cancelQueries cancels the queries of a run's steps on every backend
// (the steps' transactions name themselves in application_name, stepTx),
// whatever process or host runs them; it returns how many it cancelled.
func cancelQueries(ctx context.Context, pool *pgxpool.Pool, runID int64) (int, error) {
	var n int
	err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_cancel_backend(pid)) FROM pg_stat_activity
		WHERE application_name LIKE $1 AND pid <> pg_backend_pid()`, stepAppName(runID, "")+"%").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("study: cancel the queries of run %d: %w", runID, err)
	}
	return n, nil
}

// lockTimeout reports whether err is PostgreSQL's lock_timeout.
func lockTimeout(err error) bool {
	var pgErr interface{ SQLState() string }
	return errors.As(err, &pgErr) && pgErr.SQLState() == "55P03"
}

// cancelWait bounds how long Cancel waits for the run's queries to stop.
const cancelWait = 2 * time.Second
