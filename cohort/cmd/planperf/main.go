// Command planperf runs a protocol's compiled plan on a loaded region, one
// step after another as cohorttest does, and prints each step's time and
// the time per stage summed over partitions: the measurements behind the
// "Speed" section of docs/compiler.md. It writes only in its own schema
// (-schema, dropped and recreated), and reads the data version, the
// partition count and the last day of data from the database.
//
//	go run ./cohort/cmd/planperf -db postgres://postgres@127.0.0.1:5432/beaver_s2 \
//	    -explain /tmp/plans docs/examples/comparator-new-users.json
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/beaver-analytics/beaver/cohort"
)

func main() {
	db := flag.String("db", os.Getenv("DATABASE_URL"), "database URL of a loaded region")
	schema := flag.String("schema", "perf_cohort", "the schema the steps write (dropped and recreated)")
	explain := flag.String("explain", "", "directory for EXPLAIN (ANALYZE, BUFFERS) of each step (empty: run the steps plainly)")
	parts := flag.Int("partitions", 0, "partition count (0: etl_setting's)")
	keep := flag.Bool("keep", false, "keep the schema afterwards")
	flag.Parse()
	if *db == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: planperf -db URL [-schema S] [-explain DIR] PROTOCOL.json ...")
		os.Exit(2)
	}
	if err := run(context.Background(), *db, *schema, *explain, *parts, *keep, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "planperf:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, schema, explainDir string, parts int, keep bool, paths []string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var version int64
	if err := conn.QueryRow(ctx, "SELECT max(version) FROM etl_data_version").Scan(&version); err != nil {
		return fmt.Errorf("data version: %w", err)
	}
	if parts == 0 {
		var v string
		if err := conn.QueryRow(ctx, "SELECT value FROM etl_setting WHERE key = 'partitions'").Scan(&v); err != nil {
			return fmt.Errorf("partitions: %w", err)
		}
		if parts, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("partitions %q: %w", v, err)
		}
	}
	// The last day of data as the engine computes it (engine/study.DataEnd),
	// without the import-date cap.
	var dataEnd time.Time
	if err := conn.QueryRow(ctx, `SELECT greatest(
		(SELECT max(discharge_date) FROM sdo WHERE data_version <= $1),
		(SELECT max(dispensing_date) FROM pharmacy WHERE data_version <= $1),
		(SELECT max(dispensing_date) FROM direct_distribution WHERE data_version <= $1),
		(SELECT max(start_date) FROM exemption WHERE data_version <= $1),
		(SELECT max(arrival_date) FROM er WHERE data_version <= $1),
		(SELECT max(service_date) FROM outpatient WHERE data_version <= $1))`, version).Scan(&dataEnd); err != nil {
		return fmt.Errorf("data end: %w", err)
	}
	fmt.Printf("data version %d, %d partitions, data end %s\n", version, parts, dataEnd.Format(time.DateOnly))
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		p, err := cohort.DecodeBytes(raw)
		if err != nil {
			return err
		}
		if len(p.Parameters) > 0 {
			if p, err = p.Bind(nil); err != nil {
				return err
			}
		}
		plan, err := cohort.Compile(p, cohort.Options{Schema: schema, Partitions: parts, DataVersion: version, DataEnd: dataEnd.Format(time.DateOnly)})
		if err != nil {
			return err
		}
		if err := runPlan(ctx, conn, plan, path, explainDir); err != nil {
			return err
		}
		if !keep {
			if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
				return err
			}
		}
	}
	return nil
}

var partSuffix = regexp.MustCompile(`_p[0-9]+$`)

func runPlan(ctx context.Context, conn *pgx.Conn, plan *cohort.Plan, path, explainDir string) error {
	q := pgx.Identifier{plan.Schema}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+q+" CASCADE; CREATE SCHEMA "+q); err != nil {
		return err
	}
	if explainDir != "" {
		if err := os.MkdirAll(explainDir, 0o755); err != nil {
			return err
		}
	}
	fmt.Printf("\n%s: %d steps\n", path, len(plan.Steps))
	byStage := map[string]time.Duration{}
	var total time.Duration
	for _, s := range plan.Steps {
		start := time.Now()
		var out []string
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+s.Table); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, s.Create); err != nil {
				return err
			}
			if explainDir == "" {
				_, err := tx.Exec(ctx, s.SQL, s.Args...)
				return err
			}
			rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+s.SQL, s.Args...)
			if err != nil {
				return err
			}
			out, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			return fmt.Errorf("step %s: %w", s.Name, err)
		}
		d := time.Since(start)
		total += d
		byStage[partSuffix.ReplaceAllString(s.Name, "")] += d
		fmt.Printf("  %-40s %8.3f s\n", s.Name, d.Seconds())
		if explainDir != "" {
			name := filepath.Join(explainDir, strings.TrimSuffix(filepath.Base(path), ".json")+"."+s.Name+".txt")
			if err := os.WriteFile(name, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
				return err
			}
		}
	}
	type st struct {
		name string
		d    time.Duration
	}
	var stages []st
	for n, d := range byStage {
		stages = append(stages, st{n, d})
	}
	sort.Slice(stages, func(i, j int) bool { return stages[i].d > stages[j].d })
	fmt.Printf("%s: total %.1f s; by stage (all partitions):\n", path, total.Seconds())
	for _, s := range stages {
		fmt.Printf("  %-40s %8.2f s\n", s.name, s.d.Seconds())
	}
	return nil
}
