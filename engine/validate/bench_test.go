package validate

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/cohort/cohorttest"
	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/engine/synth"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// The study engine's speed on a synthetic region (docs/benchmarks.md,
// "Study engine"): BEAVER_BENCH_PERSONS persons (default 100,000) × 8
// years, seed 1, loaded once per benchmark process.
//
//	go test ./engine/validate -run '^$' -bench Study -benchtime 1x
//
// Each example is run once untimed, then end to end (submit to results document) with one and
// with two concurrent steps, the run deleted after each iteration so that
// the next one recomputes every step instead of reusing it; and its steps
// once back to back on one connection (cohorttest.Run), the engine
// overhead being the ratio of a one-worker run to that sum.

var (
	benchOnce sync.Once
	benchPool *pgxpool.Pool
	benchErr  error
)

func benchRegion(b *testing.B) *pgxpool.Pool {
	b.Helper()
	benchOnce.Do(func() {
		persons := 100000
		if v := os.Getenv("BEAVER_BENCH_PERSONS"); v != "" {
			if persons, benchErr = strconv.Atoi(v); benchErr != nil {
				return
			}
		}
		ctx := context.Background()
		benchPool, benchErr = pgxpool.New(ctx, pgtest.URL(b))
		if benchErr != nil {
			return
		}
		truth := synth.DefaultTruth()
		began := time.Now()
		benchErr = loadRegion(ctx, benchPool, Scenario{Seed: 1, Persons: persons, Years: 8}, &truth, quietLogger())
		b.Logf("region of %d persons × 8 years generated and imported in %.1f s", persons, time.Since(began).Seconds())
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchPool
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func BenchmarkStudy(b *testing.B) {
	pool := benchRegion(b)
	for _, name := range Examples {
		protocol, err := os.ReadFile("../../docs/examples/" + name)
		if err != nil {
			b.Fatal(err)
		}
		// One untimed run first, so that every measured run finds the flows
		// in the page cache and analysed alike.
		if err := warmUp(pool, protocol); err != nil {
			b.Fatal(err)
		}
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", name, workers), func(b *testing.B) {
				ctx := context.Background()
				client, err := engine.NewClient(pool, engine.Config{Logger: quietLogger(), Workers: workers}, true)
				if err != nil {
					b.Fatal(err)
				}
				if err := client.Start(ctx); err != nil {
					b.Fatal(err)
				}
				defer func() { _ = engine.Stop(ctx, client, 5*time.Second) }()
				var sum time.Duration
				for b.Loop() {
					began := time.Now()
					runID, err := waitDone(ctx, pool, client, protocol)
					if err != nil {
						b.Fatal(err)
					}
					sum += time.Since(began)
					b.StopTimer()
					if workers == 1 {
						seq, err := sequential(ctx, pool, client, runID)
						if err != nil {
							b.Fatal(err)
						}
						b.ReportMetric(seq.Seconds(), "sequential-s")
					} else if err := (&study.Service{Pool: pool, River: client}).Delete(ctx, runID); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				b.ReportMetric(sum.Seconds()/float64(b.N), "s/run")
			})
		}
	}
}

func warmUp(pool *pgxpool.Pool, protocol []byte) error {
	ctx := context.Background()
	client, err := engine.NewClient(pool, engine.Config{Logger: quietLogger()}, true)
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = engine.Stop(ctx, client, 5*time.Second) }()
	runID, err := waitDone(ctx, pool, client, protocol)
	if err != nil {
		return err
	}
	return (&study.Service{Pool: pool, River: client}).Delete(ctx, runID)
}

// waitDone submits a protocol and waits for its run to be done.
func waitDone(ctx context.Context, pool *pgxpool.Pool, client *engine.Client, protocol []byte) (int64, error) {
	svc := &study.Service{Pool: pool, River: client, PollInterval: 20 * time.Millisecond}
	sub, err := svc.Submit(ctx, study.SubmitRequest{Protocol: protocol})
	if err != nil {
		return 0, err
	}
	p, err := svc.Wait(ctx, sub.RunID, nil)
	if err != nil {
		return 0, err
	}
	if p.State != study.StateDone {
		return 0, fmt.Errorf("run %d %s: %s", sub.RunID, p.State, p.Error)
	}
	return sub.RunID, nil
}

// sequential deletes the run and executes its plan's steps again back to
// back on one connection, returning their total time.
func sequential(ctx context.Context, pool *pgxpool.Pool, client *engine.Client, runID int64) (time.Duration, error) {
	plan, err := (&study.Service{Pool: pool}).Plan(ctx, runID)
	if err != nil {
		return 0, err
	}
	if err := (&study.Service{Pool: pool, River: client}).Delete(ctx, runID); err != nil {
		return 0, err
	}
	cfg := pool.Config().Copy()
	cfg.MaxConns = 1
	one, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer one.Close()
	began := time.Now()
	if err := cohorttest.Run(ctx, one, plan); err != nil {
		return 0, err
	}
	took := time.Since(began)
	_, err = pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{plan.Schema}.Sanitize()+" CASCADE")
	return took, err
}
