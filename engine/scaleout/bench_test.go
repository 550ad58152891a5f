package scaleout_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/engine/synth"
	"github.com/beaver-analytics/beaver/schema/pgtest"
	"github.com/beaver-analytics/beaver/schema/pgtest/citustest"
)

// benchShards is the shard count of the benchmark's distributed tables:
// four per worker.
const benchShards = 8

// BenchmarkComparatorCitus runs the comparator study on a synthetic region
// (BEAVER_BENCH_PERSONS, default 1,000,000) on one PostgreSQL (8 hash
// partitions) and on Citus (a coordinator and two workers on the same
// machine, 8 shards), and reports both wall times, their ratio, and each
// step's time per shard, measured by EXPLAIN ANALYZE with every task shown
// (docs/benchmarks.md, "Scale-out"). The table is written to
// BEAVER_BENCH_OUT when set. `go test ./engine/scaleout -run '^$' -bench
// ComparatorCitus -benchtime 1x -timeout 3h`.
func BenchmarkComparatorCitus(b *testing.B) {
	persons := 1000000
	if n, err := strconv.Atoi(os.Getenv("BEAVER_BENCH_PERSONS")); err == nil && n > 0 {
		persons = n
	}
	ctx := context.Background()
	dir := b.TempDir()
	began := time.Now()
	if _, err := synth.WriteCSV(ctx, synth.Config{Persons: persons, Years: 8, Seed: 11}, dir, nil); err != nil {
		b.Fatal(err)
	}
	paths, err := synth.Files(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("region of %d persons written in %s", persons, time.Since(began).Round(time.Second))
	single := pgtest.Pool(b)
	url := citustest.URL(b, citustest.Options{ShardCount: benchShards})
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{citustest.Database(url)}.Sanitize()+" SET citus.explain_all_tasks = on"); err != nil {
		b.Fatal(err)
	}
	admin.Close(ctx)
	citus, err := pgxpool.New(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer citus.Close()

	for _, p := range []struct {
		name string
		pool *pgxpool.Pool
	}{{"one server", single}, {"citus", citus}} {
		began := time.Now()
		res := load(b, p.pool, paths).RowsPublished
		b.Logf("%s: import of %d rows in %s", p.name, res, time.Since(began).Round(time.Second))
	}
	protocol := examples(b)["comparator-new-users.json"]
	svcS := &study.Service{Pool: single, River: client(b, single), Logger: quiet()}
	svcC := &study.Service{Pool: citus, River: client(b, citus), Logger: quiet()}
	b.ResetTimer()
	wallS, runS := timedRun(b, svcS, protocol, false)
	wallC, runC := timedRun(b, svcC, protocol, false)
	b.StopTimer()
	b.ReportMetric(wallS.Seconds(), "s-one-server")
	b.ReportMetric(wallC.Seconds(), "s-citus")
	b.ReportMetric(wallC.Seconds()/wallS.Seconds(), "citus/one-server")

	stepsS := stepWall(b, single, runS)
	stepsC := stepWall(b, citus, runC)
	// Per-shard times: the same study again, every step under EXPLAIN
	// ANALYZE (the first run is deleted so that no step is reused).
	if err := svcC.Delete(ctx, runC); err != nil {
		b.Fatal(err)
	}
	_, runX := timedRun(b, svcC, protocol, true)
	shards := shardTimes(b, citus, runX)

	var out strings.Builder
	fmt.Fprintf(&out, "Comparator study, %d persons: one server %.1f s, Citus (2 workers, %d shards) %.1f s, ratio %.2f\n\n",
		persons, wallS.Seconds(), benchShards, wallC.Seconds(), wallC.Seconds()/wallS.Seconds())
	fmt.Fprintf(&out, "| step | one server (ms) | Citus (ms) | tasks | slowest task (ms) | all tasks (ms) |\n|---|---:|---:|---:|---:|---:|\n")
	names := make([]string, 0, len(stepsC))
	for n := range stepsC {
		names = append(names, n)
	}
	sort.Strings(names)
	var sumMax, sumAll float64
	for _, n := range names {
		sh := shards[n]
		maxMS, allMS := 0.0, 0.0
		for _, v := range sh {
			allMS += v
			maxMS = max(maxMS, v)
		}
		sumMax += maxMS
		sumAll += allMS
		fmt.Fprintf(&out, "| %s | %d | %d | %d | %.1f | %.1f |\n", n, stepsS[n], stepsC[n], len(sh), maxMS, allMS)
	}
	fmt.Fprintf(&out, "\nSum over steps: slowest tasks %.1f ms, all tasks %.1f ms.\n", sumMax, sumAll)
	b.Log("\n" + out.String())
	if f := os.Getenv("BEAVER_BENCH_OUT"); f != "" {
		if err := os.WriteFile(f, []byte(out.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// timedRun runs protocol and returns its wall time and run id.
func timedRun(b *testing.B, svc *study.Service, protocol []byte, explain bool) (time.Duration, int64) {
	b.Helper()
	ctx := context.Background()
	began := time.Now()
	sub, err := svc.Submit(ctx, study.SubmitRequest{Protocol: protocol, Explain: explain})
	if err != nil {
		b.Fatal(err)
	}
	p, err := svc.Wait(ctx, sub.RunID, nil)
	if err != nil {
		b.Fatal(err)
	}
	if p.State != study.StateDone {
		b.Fatalf("run %d: %s %s", sub.RunID, p.State, p.Error)
	}
	return time.Since(began), sub.RunID
}

// stepWall returns each step's wall time in the run, by name without its
// partition suffix (the one server's partitions summed).
func stepWall(b *testing.B, pool *pgxpool.Pool, runID int64) map[string]int64 {
	b.Helper()
	rows, err := pool.Query(context.Background(), `SELECT regexp_replace(name, '_p[0-9]+$', ''), sum(wall_ms)::bigint
		FROM study_step WHERE run_id = $1 GROUP BY 1`, runID)
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var n string
		var ms int64
		if err := rows.Scan(&n, &ms); err != nil {
			b.Fatal(err)
		}
		out[n] = ms
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return out
}

// taskTime is the execution time of one task (shard) in a Citus plan
// shown with citus.explain_all_tasks: indented, unlike the statement's.
var taskTime = regexp.MustCompile(`(?m)^\s+Execution Time: ([0-9.]+) ms`)

// shardTimes returns each step's per-shard execution times from the
// plans EXPLAIN ANALYZE kept with the run's steps.
func shardTimes(b *testing.B, pool *pgxpool.Pool, runID int64) map[string][]float64 {
	b.Helper()
	rows, err := pool.Query(context.Background(), `SELECT regexp_replace(name, '_p[0-9]+$', ''), coalesce(explain, '')
		FROM study_step WHERE run_id = $1`, runID)
	if err != nil {
		b.Fatal(err)
	}
	out := map[string][]float64{}
	for rows.Next() {
		var n, plan string
		if err := rows.Scan(&n, &plan); err != nil {
			b.Fatal(err)
		}
		for _, m := range taskTime.FindAllStringSubmatch(plan, -1) {
			v, _ := strconv.ParseFloat(m[1], 64)
			out[n] = append(out[n], v)
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return out
}
