package scaleout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/engine/synth"
	"github.com/beaver-analytics/beaver/schema/pgtest"
	"github.com/beaver-analytics/beaver/schema/pgtest/citustest"
)

// TestMain stops both the single server and the Citus cluster at the end.
func TestMain(m *testing.M) { pgtest.Main(m) }

// regionPersons is the size of the synthetic region the comparison runs
// on (the 20,000); BEAVER_SCALEOUT_PERSONS changes it.
func regionPersons() int {
	if n, err := strconv.Atoi(os.Getenv("BEAVER_SCALEOUT_PERSONS")); err == nil && n > 0 {
		return n
	}
	return 20000
}

var (
	regionOnce  sync.Once
	regionFiles []string
	regionErr   error
)

// region writes the synthetic region's files once per test binary and
// returns their paths.
func region(t *testing.T) []string {
	t.Helper()
	regionOnce.Do(func() {
		dir, err := os.MkdirTemp("", "beaver-scaleout-")
		if err != nil {
			regionErr = err
			return
		}
		cfg := synth.Config{Persons: regionPersons(), Years: 8, Seed: 11}
		if _, err := synth.WriteCSV(context.Background(), cfg, dir, nil); err != nil {
			regionErr = err
			return
		}
		regionFiles, regionErr = synth.Files(dir)
	})
	require.NoError(t, regionErr)
	return regionFiles
}

// load imports the region into pool through the validated import.
func load(t testing.TB, pool *pgxpool.Pool, paths []string) *etl.Result {
	t.Helper()
	ctx := context.Background()
	res, err := etl.Load(ctx, pool, paths, etl.Options{StartedBy: "scaleout test", Logger: quiet(),
		AfterPublish: func(ctx context.Context, v int64) error { return etl.AfterPublish(ctx, pool, v) }})
	require.NoError(t, err)
	return res
}

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// client starts a River client working steps on pool.
func client(t testing.TB, pool *pgxpool.Pool) *engine.Client {
	t.Helper()
	c, err := engine.NewClient(pool, engine.Config{Workers: 4, Logger: quiet()}, true)
	require.NoError(t, err)
	require.NoError(t, c.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = engine.Stop(ctx, c, time.Second)
	})
	return c
}

// examples returns the example protocols by file name.
func examples(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("../../docs/examples/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		out[filepath.Base(p)] = b
	}
	return out
}

// run submits protocol, waits for the run and returns its id.
func run(t testing.TB, svc *study.Service, protocol []byte) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sub, err := svc.Submit(ctx, study.SubmitRequest{Protocol: protocol})
	require.NoError(t, err)
	p, err := svc.Wait(ctx, sub.RunID, nil)
	require.NoError(t, err)
	require.Equal(t, study.StateDone, p.State, "run %d: %s", sub.RunID, p.Error)
	return sub.RunID
}

// document returns a run's results document without its profile (the
// steps' timings and plans, which differ by layout and by run).
func document(t testing.TB, svc *study.Service, runID int64) []byte {
	t.Helper()
	b, err := svc.ResultsJSON(context.Background(), runID)
	require.NoError(t, err)
	return withoutProfile(t, b)
}

func withoutProfile(t testing.TB, b []byte) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &m))
	require.Contains(t, m, "analyses")
	delete(m, "profile")
	out, err := json.Marshal(m) // keys sorted, values as they were
	require.NoError(t, err)
	return out
}

// TestExamplesIdenticalOnCitus imports the same synthetic region into one
// PostgreSQL (8 hash partitions) and into a Citus cluster (a coordinator
// and two workers, four shards), runs every example study on both through
// the study service, and requires the results documents to be equal byte
// for byte, the profile aside.
func TestExamplesIdenticalOnCitus(t *testing.T) {
	paths := region(t)
	single := pgtest.Pool(t)
	citus := citustest.Pool(t)
	rs := load(t, single, paths)
	rc := load(t, citus, paths)
	require.Equal(t, rs.RowsPublished, rc.RowsPublished, "rows published")
	require.Equal(t, rs.RowsRejected, rc.RowsRejected, "rows refused")

	svcS := &study.Service{Pool: single, River: client(t, single), Logger: quiet()}
	svcC := &study.Service{Pool: citus, River: client(t, citus), Logger: quiet()}
	var runs []int64
	defer func() {
		// Deleting the runs drops their distributed tables everywhere.
		ctx := context.Background()
		for _, id := range runs {
			require.NoError(t, svcC.Delete(ctx, id))
		}
		var left int
		require.NoError(t, citus.QueryRow(ctx, `SELECT count(*) FROM citus_shards WHERE table_name::text LIKE 'study\_run\_%'`).Scan(&left))
		require.Zero(t, left, "shards of deleted runs' tables")
	}()
	for name, protocol := range examples(t) {
		t.Run(name, func(t *testing.T) {
			a := document(t, svcS, run(t, svcS, protocol))
			runC := run(t, svcC, protocol)
			runs = append(runs, runC)
			b := document(t, svcC, runC)
			checkPushedDown(t, citus, svcC, runC)
			if !bytes.Equal(a, b) {
				dir, _ := os.MkdirTemp("", "beaver-scaleout-diff-")
				_ = os.WriteFile(filepath.Join(dir, "single.json"), a, 0o644)
				_ = os.WriteFile(filepath.Join(dir, "citus.json"), b, 0o644)
				t.Fatalf("%s: the documents differ (%d and %d bytes); see %s", name, len(a), len(b), dir)
			}
			require.Contains(t, string(a), `"attrition"`)
		})
	}
}

func poolOf(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// notPushedDown are the marks of a Citus plan that does not run whole on
// the shards: a statement split into subplans whose rows go through the
// coordinator, rows shuffled between workers, or an INSERT fed through
// the coordinator.
var notPushedDown = []struct{ mark, construct string }{
	{"Distributed Subplan", "a subquery or CTE planned apart (recursive planning): its rows go through the coordinator"},
	{"INSERT/SELECT method: pull to coordinator", "INSERT ... SELECT whose rows are pulled to the coordinator"},
	{"INSERT/SELECT method: repartition", "INSERT ... SELECT whose rows are repartitioned between workers"},
	{"MapMergeJob", "a repartition join"},
	{"Repartition", "a repartition join"},
}

// checkPushedDown explains every step of a finished run on Citus and
// fails on a step that is not pushed down whole, naming the step and the
// construct. A step whose table is not distributed (the attrition's
// counts) must read only aggregates from the shards: no subplans.
func checkPushedDown(t *testing.T, pool *pgxpool.Pool, svc *study.Service, runID int64) {
	t.Helper()
	ctx := context.Background()
	plan, err := svc.Plan(ctx, runID)
	require.NoError(t, err)
	for _, s := range plan.Steps {
		var distributed bool
		require.NoError(t, pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM citus_tables WHERE table_name = $1::regclass)", s.Table).Scan(&distributed))
		rows, err := pool.Query(ctx, "EXPLAIN "+s.SQL, s.Args...)
		require.NoError(t, err, s.Name)
		lines, err := pgxCollectStrings(rows)
		require.NoError(t, err, s.Name)
		text := strings.Join(lines, "\n")
		if !distributed {
			checkAggregatesOnly(t, pool, s.Name, s.SQL, s.Args)
			continue
		}
		for _, m := range notPushedDown {
			if strings.Contains(text, m.mark) {
				t.Errorf("step %s is not pushed down to the shards: %s (%q in its plan)\n%s", s.Name, m.construct, m.mark, text)
			}
		}
	}
}

// citusScanRows finds the rows each Citus scan brought to the coordinator,
// as EXPLAIN ANALYZE counts them.
var citusScanRows = regexp.MustCompile(`Custom Scan \(Citus Adaptive\) \(actual rows=(\d+)`)

// checkAggregatesOnly checks a step that writes a table on the
// coordinator (the attrition's counts): it may gather aggregates from the
// shards, never persons' rows. Its SELECT runs under EXPLAIN ANALYZE, and
// no Citus scan in it, of the statement or of a subquery planned apart,
// may bring more than maxAggregateRows rows (a few aggregates per
// attrition line and shard; the region has thousands of persons).
func checkAggregatesOnly(t *testing.T, pool *pgxpool.Pool, name, sql string, args []any) {
	t.Helper()
	const maxAggregateRows = 20 * citustest.ShardCount
	_, body, _ := strings.Cut(sql, "\n")   // INSERT INTO table
	_, query, _ := strings.Cut(body, "\n") // (columns)
	rows, err := pool.Query(context.Background(), "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "+query, args...)
	require.NoError(t, err, name)
	lines, err := pgxCollectStrings(rows)
	require.NoError(t, err, name)
	text := strings.Join(lines, "\n")
	for _, m := range notPushedDown {
		if m.mark != "Distributed Subplan" && strings.Contains(text, m.mark) {
			t.Errorf("step %s is not pushed down to the shards: %s (%q in its plan)\n%s", name, m.construct, m.mark, text)
		}
	}
	found := citusScanRows.FindAllStringSubmatch(text, -1)
	if len(found) == 0 {
		t.Fatalf("step %s: no Citus scan in its plan:\n%s", name, text)
	}
	for _, f := range found {
		if n, _ := strconv.Atoi(f[1]); n > maxAggregateRows {
			t.Errorf("step %s: a Citus scan brings %d rows to the coordinator, more than aggregates would\n%s", name, n, text)
		}
	}
}

func pgxCollectStrings(rows pgx.Rows) ([]string, error) {
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
