package etl

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/beaver-analytics/beaver/schema/errs"
)

// ErrNothingToPublish is returned by an import whose every row was
// refused: it publishes nothing (no data version, no leaves) and records
// its refused rows in the quarantine.
// It is an errs.Invalid: the files hold no valid row.
var ErrNothingToPublish = errs.Wrap(errs.Invalid, errors.New("every row was refused: nothing to publish"))

// refuseAll ends an import none of whose rows can publish: its refused
// rows go to the quarantine and its counts to the summary, and it fails
// with ErrNothingToPublish (the caller drops the leaves and the staging
// tables and records the import as failed). It reports false when some
// row publishes.
func (l *loader) refuseAll(ctx context.Context) (bool, error) {
	for _, f := range Flows {
		if l.leaves[f.Table] && l.leafRows[f.Table] > 0 {
			return false, nil
		}
		if l.staged[f.Name] {
			var any bool
			if err := l.conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+ident(l.stageTable(f.Name))+")").Scan(&any); err != nil {
				return false, fmt.Errorf("count the rows to publish: %w", err)
			}
			if any {
				return false, nil
			}
		}
	}
	if err := l.flushRejects(ctx); err != nil {
		return false, err
	}
	err := pgx.BeginFunc(ctx, l.conn, func(tx pgx.Tx) error {
		if err := l.quarantine(ctx, tx); err != nil {
			return err
		}
		return l.summarize(ctx, tx)
	})
	if err != nil {
		return false, err
	}
	for _, f := range l.res.Files {
		if f.State == FileStaged {
			f.State, f.Error = FileFailed, fmt.Sprintf("all %d rows refused", f.RowsRead)
		}
	}
	return true, fmt.Errorf("%w (%d rows read, %d refused; the reasons are in the quarantine of import %d)",
		ErrNothingToPublish, l.res.RowsRead, l.res.RowsRejected, l.res.ImportID)
}

// quarantine copies the refused rows of the import into etl_quarantine.
func (l *loader) quarantine(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `INSERT INTO etl_quarantine (import_id, file_no, line, column_name, reason, value, detail)
		SELECT $1, file_no, line, column_name, reason, value, detail FROM `+ident(l.rejectTable())+` ORDER BY file_no, line`, l.res.ImportID)
	if err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	return nil
}

// publish moves every staged row into the published tables, the rejects
// into the quarantine, and records the new data version, all in one
// transaction: readers see the import whole or not at all.
func (l *loader) publish(ctx context.Context) error {
	if err := l.flushRejects(ctx); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, l.conn, func(tx pgx.Tx) error {
		version := l.version
		var published int64
		if err := l.attachLeaves(ctx, tx); err != nil {
			return err
		}
		for _, f := range Flows {
			if l.leaves[f.Table] {
				published += l.leafRows[f.Table]
			}
		}
		for _, f := range Flows {
			if !l.staged[f.Name] {
				continue
			}
			st := ident(l.stageTable(f.Name))
			var cols []string
			for _, c := range f.Stored() {
				cols = append(cols, ident(c.Name))
			}
			sql := "INSERT INTO " + ident(f.Table) + " (" + strings.Join(cols, ", ") + ", data_version) SELECT " +
				strings.Join(cols, ", ") + ", $1 FROM " + st
			if f.Upsert {
				// An updated row keeps the data version that first published
				// it: studies pinned to an older version filter on
				// data_version <= N and must still see the person (with the
				// latest attributes: the registry is not historized).
				var set []string
				for _, c := range f.Stored() {
					if !slices.Contains(f.Key, c.Name) {
						set = append(set, ident(c.Name)+" = EXCLUDED."+ident(c.Name))
					}
				}
				sql += " ON CONFLICT (" + strings.Join(identAll(f.Key), ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
			}
			tag, err := tx.Exec(ctx, sql, version)
			if err != nil {
				return fmt.Errorf("%s: %w", f.Table, err)
			}
			published += tag.RowsAffected()
			for _, ch := range f.Children {
				if err := publishChild(ctx, tx, ch, st, version); err != nil {
					return err
				}
			}
		}
		if err := l.quarantine(ctx, tx); err != nil {
			return err
		}
		if err := l.summarize(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO etl_data_version (version, import_id) VALUES ($1, $2)", version, l.res.ImportID); err != nil {
			return err
		}
		l.res.State = StatePublished
		l.res.DataVersion = version
		l.res.RowsPublished = published
		for _, f := range l.res.Files {
			if f.State == FileStaged {
				f.State = FilePublished
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE etl_import SET data_version = $2 WHERE id = $1", l.res.ImportID, version); err != nil {
			return err
		}
		if err := l.finishWith(ctx, tx); err != nil {
			return err
		}
		if l.opts.beforeCommit != nil {
			if err := l.opts.beforeCommit(); err != nil {
				return err
			}
		}
		return l.opts.failBeforeCommit
	})
}

// querier is what a connection and a transaction offer to read with.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// summarize counts the refused rows, per file and per reason, and the rows
// each file publishes, and checks that every row read is one or the other.
func (l *loader) summarize(ctx context.Context, tx querier) error {
	rt := ident(l.rejectTable())
	rows, err := tx.Query(ctx, "SELECT reason, count(DISTINCT (file_no, line)) FROM "+rt+" GROUP BY reason")
	if err != nil {
		return err
	}
	for rows.Next() {
		var reason string
		var n int64
		if err := rows.Scan(&reason, &n); err != nil {
			return err
		}
		l.res.RejectedBy[reason] = n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	l.res.RowsRejected = 0
	for _, f := range l.res.Files {
		if f.State != FileStaged {
			continue
		}
		if err := tx.QueryRow(ctx, "SELECT count(DISTINCT line) FROM "+rt+" WHERE file_no = $1", f.No).Scan(&f.RowsRejected); err != nil {
			return err
		}
		l.res.RowsRejected += f.RowsRejected
		if fl := FlowByName(f.Flow); !leafFlow(fl) {
			// The staging table holds, after validate, exactly the rows
			// that publish.
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+ident(l.stageTable(fl.Name))+" WHERE file_no = $1", f.No).Scan(&f.RowsPublished); err != nil {
				return err
			}
		}
	}
	return l.checkCounts()
}

// checkCounts fails the import when a file's rows read are not its rows
// published plus its rows rejected: a row lost (or counted twice) between
// the file and the tables is a bug that must not publish.
func (l *loader) checkCounts() error {
	for _, f := range l.res.Files {
		if f.State != FileStaged {
			continue
		}
		if f.RowsPublished+f.RowsRejected != f.RowsRead {
			return fmt.Errorf("%s: %d rows read, but %d published and %d rejected: rows lost between the file and the tables",
				f.Path, f.RowsRead, f.RowsPublished, f.RowsRejected)
		}
	}
	return nil
}

func publishChild(ctx context.Context, tx pgx.Tx, ch Child, st string, version int64) error {
	var values []string
	for pos, g := range ch.Groups {
		vals := []string{fmt.Sprint(pos)}
		for _, src := range g {
			vals = append(vals, "s."+ident(src))
		}
		values = append(values, "("+strings.Join(vals, ", ")+")")
	}
	fields := identAll(ch.Fields)
	copyCols := identAll(ch.Copy)
	sql := "INSERT INTO " + ident(ch.Table) + " (" + strings.Join(copyCols, ", ") + ", position, " + strings.Join(fields, ", ") +
		", data_version) SELECT " + strings.Join(prefix("s.", copyCols), ", ") + ", g.position, " + strings.Join(prefix("g.", fields), ", ") +
		", $1 FROM " + st + " s CROSS JOIN LATERAL (VALUES " + strings.Join(values, ", ") + ") g (position, " + strings.Join(fields, ", ") +
		") WHERE g." + fields[0] + " IS NOT NULL"
	if _, err := tx.Exec(ctx, sql, version); err != nil {
		return fmt.Errorf("%s: %w", ch.Table, err)
	}
	return nil
}

func identAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = ident(n)
	}
	return out
}
