// Package pgtest gives tests a real PostgreSQL: the server named by
// TEST_DATABASE_URL when it is set, otherwise a managed cluster started the
// same way `beaver` starts one, once per test binary. Each test gets a fresh
// database cloned from a template that holds every migration, dropped when
// the test ends.
//
// A package that uses it calls pgtest.Main from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
package pgtest

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/schema"
	"github.com/beaver-analytics/beaver/schema/pgserver"
	"github.com/beaver-analytics/beaver/schema/pgtest/citustest"
)

var (
	serverURL string // admin connection to the "postgres" database
	template  string // name of the migrated template database
	prefix    string // unique per test binary, so parallel packages never collide
	counter   atomic.Int64
	setupOnce sync.Once
	setupErr  error
	managed   *pgserver.Server
	tmpDir    string
)

// Main runs the package's tests with a database server available, and stops
// the managed server (if one was started) afterwards.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain that has its own clean-up to do: it runs the
// tests, stops the server, and returns the exit code.
func Run(m *testing.M) int {
	code := m.Run()
	teardown()
	citustest.Teardown()
	return code
}

// onCitus reports whether BEAVER_TEST_CITUS=1 asks every test database to
// be a distributed one on the Citus test cluster (citustest): a way to run
// a package's whole suite on Citus (docs/scale-out.md). Tests that make
// hand-made histories in several hash partitions do not apply there.
func onCitus() bool { return os.Getenv("BEAVER_TEST_CITUS") == "1" }

func setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	prefix = fmt.Sprintf("beaver_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		serverURL = u
	} else {
		dir, err := os.MkdirTemp("", "beaver-pgtest-")
		if err != nil {
			return err
		}
		tmpDir = dir
		if err := os.Chmod(dir, 0o755); err != nil {
			return err
		}
		managed, err = pgserver.Start(ctx, pgserver.Config{
			Dir:      dir,
			Database: "postgres",
			Logger:   slog.New(slog.DiscardHandler),
			// Tests throw their data away: trade durability for speed.
			Settings: map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "200"},
		})
		if err != nil {
			return err
		}
		serverURL = managed.URL("postgres")
	}
	template = prefix + "_tmpl"
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return fmt.Errorf("pgtest: connect to test server: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{template}.Sanitize()); err != nil {
		return fmt.Errorf("pgtest: create template: %w", err)
	}
	pool, err := pgxpool.New(ctx, withDatabase(serverURL, template))
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := schema.Migrate(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
		return fmt.Errorf("pgtest: migrate template: %w", err)
	}
	return nil
}

func teardown() {
	if serverURL == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if managed != nil {
		_ = managed.Stop(ctx)
		os.RemoveAll(tmpDir)
		return
	}
	if admin, err := pgx.Connect(ctx, serverURL); err == nil {
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{template}.Sanitize()+" WITH (FORCE)")
		admin.Close(ctx)
	}
}

// withDatabase returns the connection string u pointing at database db.
func withDatabase(u, db string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "postgres" && p.Scheme != "postgresql") {
		// keyword/value form
		return u + " dbname=" + db
	}
	p.Path = "/" + db
	return p.String()
}

// URL creates a fresh, fully migrated database for the test, drops it when
// the test ends, and returns its connection string.
func URL(t testing.TB) string {
	t.Helper()
	if onCitus() {
		return citustest.URL(t)
	}
	setupOnce.Do(func() { setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	name := fmt.Sprintf("%s_%d", prefix, counter.Add(1))
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{template}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	return withDatabase(serverURL, name)
}

// Pool returns a pool on a fresh, fully migrated database for the test,
// closed and dropped when the test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close) // runs before the drop registered by URL
	return pool
}

// ServerURL returns the admin connection string of the test server (for
// tests that create databases of their own).
func ServerURL(t testing.TB) string {
	t.Helper()
	setupOnce.Do(func() { setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("pgtest: %v", setupErr)
	}
	return serverURL
}
