// Package schema owns Beaver's database: the embedded, numbered SQL
// migrations of the app's tables (applied together with River's), the check
// that refuses a database newer than this binary, and (in subpackages) the
// managed PostgreSQL server and the test harness.
package schema

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations/*.up.sql
var migrationFS embed.FS

// Migration is one numbered SQL file of the app's schema.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

var migrationName = regexp.MustCompile(`^(\d{3})_([a-z0-9_]+)\.up\.sql$`)

// Migrations returns the embedded migrations in version order.
func Migrations() []Migration {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		panic("schema: read embedded migrations: " + err.Error())
	}
	var out []Migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			panic("schema: badly named migration " + e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			panic("schema: " + err.Error())
		}
		v, _ := strconv.Atoi(m[1])
		out = append(out, Migration{Version: v, Name: m[2], SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			panic(fmt.Sprintf("schema: migrations must be numbered 1, 2, 3...; found %03d at position %d", m.Version, i+1))
		}
	}
	return out
}

// Latest returns the version of the newest migration this binary knows.
func Latest() int { return len(Migrations()) }

// lockKey serialises migrations of concurrent processes (serve and worker
// starting together) with a transaction-level advisory lock.
const lockKey = int64(0x6265617665720001) // "beaver" + 1

const versionTable = `CREATE TABLE IF NOT EXISTS beaver_migration (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`

// ErrTooNew is returned when the database was migrated by a newer Beaver.
var ErrTooNew = errors.New("database schema is newer than this beaver")

// Status is where a database stands against this binary's migrations.
type Status struct {
	App, AppLatest     int // app schema version applied, and the newest known
	River, RiverLatest int // River's schema version applied, and the newest known
}

// Current reports whether both schemas are exactly at the known versions.
func (s Status) Current() bool { return s.App == s.AppLatest && s.River == s.RiverLatest }

// Migrate applies River's migrations and then the app's, each app migration
// in its own transaction together with its version row. It refuses a
// database whose schema is newer than this binary knows.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.Default()
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return fmt.Errorf("migrate: take lock: %w", err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", lockKey) //nolint:errcheck

	st, err := CheckStatus(ctx, pool)
	if err != nil {
		return err
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: quiet(logger)})
	if err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	if st.River < st.RiverLatest {
		res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err != nil {
			return fmt.Errorf("migrate river: %w", err)
		}
		for _, v := range res.Versions {
			logger.Info("applied river migration", "version", v.Version, "name", v.Name)
		}
	}
	if _, err := conn.Exec(ctx, versionTable); err != nil {
		return fmt.Errorf("migrate: create version table: %w", err)
	}
	for _, m := range Migrations() {
		if m.Version <= st.App {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO beaver_migration (version, name) VALUES ($1, $2)", m.Version, m.Name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: apply %03d_%s: %w", m.Version, m.Name, err)
		}
		logger.Info("applied migration", "version", m.Version, "name", m.Name)
	}
	return nil
}

// CheckStatus reads the schema versions applied to the database. It returns
// ErrTooNew (wrapped, with both versions) when the database holds a
// migration this binary does not know, of the app's or of River's.
func CheckStatus(ctx context.Context, pool *pgxpool.Pool) (Status, error) {
	st := Status{AppLatest: Latest()}
	var hasTable bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass('beaver_migration') IS NOT NULL").Scan(&hasTable); err != nil {
		return st, fmt.Errorf("read schema version: %w", err)
	}
	if hasTable {
		if err := pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM beaver_migration").Scan(&st.App); err != nil {
			return st, fmt.Errorf("read schema version: %w", err)
		}
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return st, fmt.Errorf("read river schema version: %w", err)
	}
	all := migrator.AllVersions()
	st.RiverLatest = all[len(all)-1].Version
	existing, err := migrator.ExistingVersions(ctx)
	if err != nil {
		return st, fmt.Errorf("read river schema version: %w", err)
	}
	if len(existing) > 0 {
		st.River = existing[len(existing)-1].Version
	}
	if st.App > st.AppLatest {
		return st, fmt.Errorf("%w: the database is at app schema version %d, this beaver knows up to %d; upgrade beaver", ErrTooNew, st.App, st.AppLatest)
	}
	if st.River > st.RiverLatest {
		return st, fmt.Errorf("%w: the database is at River schema version %d, this beaver knows up to %d; upgrade beaver", ErrTooNew, st.River, st.RiverLatest)
	}
	return st, nil
}

// quiet returns a logger that drops River's info-level migration chatter
// (Migrate logs each version itself).
func quiet(l *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{l.Handler(), slog.LevelWarn})
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func (f levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{f.Handler.WithAttrs(a), f.min}
}

func (f levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{f.Handler.WithGroup(name), f.min}
}
