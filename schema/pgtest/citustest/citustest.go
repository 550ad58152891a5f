// Package citustest gives tests a real Citus cluster: a coordinator and two
// workers, three PostgreSQL clusters managed as `beaver` manages one
// (schema/pgserver), each with shared_preload_libraries = 'citus', on Unix
// sockets only, started once per test binary. Each test gets a fresh
// database created on all three nodes, with the extension, the workers
// added to the coordinator, every migration applied and the flows
// distributed by schema.InitCitus.
//
// Citus is not in Debian's packages: `make citus` builds it from
// ../shared/vendor/citus (make test does so first). A machine without it
// fails these tests with the command that installs it.
//
// A package that uses it calls citustest.Main from TestMain:
//
//	func TestMain(m *testing.M) { citustest.Main(m) }
package citustest

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/schema"
	"github.com/beaver-analytics/beaver/schema/pgserver"
)

// Workers is the number of worker nodes of the test cluster.
const Workers = 2

// ShardCount is the shard count of the test databases' distributed tables:
// two shards per worker, so that every statement has shards on both workers
// and more than one on each.
const ShardCount = 4

var (
	mu        sync.Mutex
	setupOnce sync.Once
	setupErr  error
	dir       string
	nodes     []*pgserver.Server // nodes[0] is the coordinator
	configs   []pgserver.Config
	counter   atomic.Int64
	prefix    string
)

// Main runs the package's tests with the cluster available and stops it
// afterwards.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain with its own clean-up: it runs the tests,
// stops the cluster and returns the exit code.
func Run(m *testing.M) int {
	code := m.Run()
	teardown()
	return code
}

// Teardown stops the cluster, for a TestMain that runs the tests itself
// (one that also uses pgtest, say).
func Teardown() { teardown() }

// Installed reports whether the Citus extension is installed for the
// PostgreSQL server the tests would run.
func Installed() (bool, string) {
	bin, err := pgserver.FindBinDir()
	if err != nil {
		return false, ""
	}
	lib := filepath.Join(filepath.Dir(bin), "lib", "citus.so")
	_, err = os.Stat(lib)
	return err == nil, lib
}

func setup() error {
	if ok, lib := Installed(); !ok {
		return fmt.Errorf("citustest: the Citus extension is not installed (no %s): run `make citus` as root "+
			"(it builds Citus 13.2.2 from ../shared/vendor/citus, or $BEAVER_CITUS_SRC)", lib)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	prefix = fmt.Sprintf("beaver_citus_%d", os.Getpid())
	d, err := os.MkdirTemp("", "beaver-citus-")
	if err != nil {
		return err
	}
	dir = d
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	for i := 0; i <= Workers; i++ {
		name := "coordinator"
		if i > 0 {
			name = fmt.Sprintf("worker%d", i)
		}
		cfg := pgserver.Config{
			Dir:      filepath.Join(dir, name),
			Database: "postgres",
			Logger:   slog.New(slog.DiscardHandler),
			Settings: map[string]string{
				"shared_preload_libraries": "citus",
				// Tests throw their data away: durability traded for speed.
				"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
				// The coordinator opens connections to every worker per
				// statement; a publish and the steps commit in two phases.
				"max_connections":           "300",
				"max_prepared_transactions": "300",
				"citus.log_remote_commands": "off",
			},
		}
		srv, err := pgserver.Start(ctx, cfg)
		if err != nil {
			teardown()
			return fmt.Errorf("citustest: start %s: %w", name, err)
		}
		// A node that connects to itself (the coordinator passing a
		// subquery's result to its own executor) uses citus.local_hostname,
		// localhost:5432 by default: another server on this machine.
		cfg.Settings["citus.local_hostname"] = srv.SocketDir()
		if err := exec(ctx, srv.URL("postgres"), "ALTER SYSTEM SET citus.local_hostname = '"+srv.SocketDir()+"'"); err != nil {
			teardown()
			return fmt.Errorf("citustest: %s: %w", name, err)
		}
		if err := exec(ctx, srv.URL("postgres"), "SELECT pg_reload_conf()"); err != nil {
			teardown()
			return fmt.Errorf("citustest: %s: %w", name, err)
		}
		nodes = append(nodes, srv)
		configs = append(configs, cfg)
	}
	return nil
}

func teardown() {
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mu.Lock()
	defer mu.Unlock()
	for _, n := range nodes {
		if n != nil {
			_ = n.Stop(ctx)
		}
	}
	nodes = nil
	os.RemoveAll(dir)
	dir = ""
}

func start(t testing.TB) {
	t.Helper()
	setupOnce.Do(func() { setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("%v", setupErr)
	}
}

// NodeURL returns the connection string of database db on node i (0 the
// coordinator, 1.. the workers).
func NodeURL(i int, db string) string {
	mu.Lock()
	defer mu.Unlock()
	return nodes[i].URL(db)
}

// Options change the database a test gets.
type Options struct {
	// ShardCount of the distributed tables; default ShardCount.
	ShardCount int
	// NoInit leaves the database migrated but not distributed (to test
	// schema.InitCitus itself).
	NoInit bool
}

// URL creates a fresh database on every node of the cluster, adds the
// workers to the coordinator, migrates it and distributes it
// (schema.InitCitus), drops it when the test ends, and returns the
// coordinator's connection string.
func URL(t testing.TB, opts ...Options) string {
	t.Helper()
	start(t)
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.ShardCount == 0 {
		o.ShardCount = ShardCount
	}
	name := fmt.Sprintf("%s_%d", prefix, counter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := 0; i <= Workers; i++ {
		if err := exec(ctx, NodeURL(i, "postgres"), "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Fatalf("citustest: create database on node %d: %v", i, err)
		}
		if err := exec(ctx, NodeURL(i, name), "CREATE EXTENSION citus"); err != nil {
			t.Fatalf("citustest: create extension on node %d: %v", i, err)
		}
	}
	t.Cleanup(func() { drop(t, name) })
	coord := NodeURL(0, name)
	mu.Lock()
	host := nodes[0].SocketDir()
	workers := make([]string, 0, Workers)
	for _, n := range nodes[1:] {
		workers = append(workers, n.SocketDir())
	}
	mu.Unlock()
	if err := exec(ctx, coord, "SELECT citus_set_coordinator_host($1, 5432)", host); err != nil {
		t.Fatalf("citustest: set coordinator host: %v", err)
	}
	for i, w := range workers {
		if err := exec(ctx, coord, "SELECT citus_add_node($1, 5432)", w); err != nil {
			t.Fatalf("citustest: add worker %d: %v", i+1, err)
		}
	}
	pool, err := pgxpool.New(ctx, coord)
	if err != nil {
		t.Fatalf("citustest: %v", err)
	}
	defer pool.Close()
	if err := schema.Migrate(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("citustest: migrate: %v", err)
	}
	if !o.NoInit {
		if err := schema.InitCitus(ctx, pool, schema.CitusOptions{ShardCount: o.ShardCount}); err != nil {
			t.Fatalf("citustest: %v", err)
		}
	}
	return coord
}

// Pool returns a pool on a fresh distributed database (see URL), closed
// and dropped when the test ends.
func Pool(t testing.TB, opts ...Options) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), URL(t, opts...))
	if err != nil {
		t.Fatalf("citustest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func drop(t testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 0; i <= Workers; i++ {
		mu.Lock()
		up := i < len(nodes) && nodes[i] != nil
		mu.Unlock()
		if !up {
			continue
		}
		if err := exec(ctx, NodeURL(i, "postgres"), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("citustest: drop %s on node %d: %v", name, i, err)
		}
	}
}

// StopWorker stops worker i (1 or 2) with a fast shutdown, as a node that
// goes away; StartWorker brings it back.
func StopWorker(t testing.TB, i int) {
	t.Helper()
	start(t)
	mu.Lock()
	srv := nodes[i]
	mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Stop(ctx); err != nil {
		t.Fatalf("citustest: stop worker %d: %v", i, err)
	}
}

// StartWorker starts worker i again on its data directory.
func StartWorker(t testing.TB, i int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := pgserver.Start(ctx, configs[i])
	if err != nil {
		t.Fatalf("citustest: start worker %d: %v", i, err)
	}
	mu.Lock()
	nodes[i] = srv
	mu.Unlock()
}

// Database returns the database name of a connection string made by URL.
func Database(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return filepath.Base(p.Path)
}

func exec(ctx context.Context, u, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql, args...)
	return err
}
