package study_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/engine/synth"
	"github.com/beaver-analytics/beaver/report/results"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// exampleTB lends an example the few testing.TB methods pgtest calls, so
// that it gets a fresh database as a test does; cleanup drops it.
type exampleTB struct {
	testing.TB
	cleanups []func()
}

func (*exampleTB) Helper() {}
func (*exampleTB) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
func (*exampleTB) Errorf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
func (e *exampleTB) Cleanup(f func())                { e.cleanups = append(e.cleanups, f) }
func (e *exampleTB) cleanup() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}

// exampleService loads the small synthetic region of the tests into a
// fresh database and returns the study service on it, working runs in this
// process, and the function that stops it and drops the database.
func exampleService() (*study.Service, func()) {
	ctx := context.Background()
	tb := &exampleTB{}
	pool := pgtest.Pool(tb)
	dir, err := os.MkdirTemp("", "beaver-example-")
	if err != nil {
		panic(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if _, err := synth.WriteCSV(ctx, synth.Config{Persons: 400, Years: 8, Seed: 3}, dir, nil); err != nil {
		panic(err)
	}
	paths, err := synth.Files(dir)
	if err != nil {
		panic(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	if _, err := etl.Load(ctx, pool, paths, etl.Options{StartedBy: "example", Partitions: 2, Logger: quiet,
		AfterPublish: func(ctx context.Context, v int64) error { return etl.AfterPublish(ctx, pool, v) }}); err != nil {
		panic(err)
	}
	client, err := engine.NewClient(pool, engine.Config{Workers: 2, Logger: quiet}, true)
	if err != nil {
		panic(err)
	}
	if err := client.Start(ctx); err != nil {
		panic(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(ctx, client, time.Second)
	})
	return &study.Service{Pool: pool, River: client, Logger: quiet, PollInterval: 50 * time.Millisecond}, tb.cleanup
}

// A run from submission to its typed results: Submit stores the run and
// enqueues its first steps, Wait follows it to its end, Results reads its
// document with each analysis's result in its own type.
func ExampleService() {
	svc, done := exampleService()
	defer done()
	ctx := context.Background()
	protocol, err := os.ReadFile("../../docs/examples/comparator-new-users.json")
	if err != nil {
		panic(err)
	}
	sub, err := svc.Submit(ctx, study.SubmitRequest{Protocol: protocol})
	if err != nil {
		panic(err)
	}
	p, err := svc.Wait(ctx, sub.RunID, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("run %d: %s\n", p.RunID, p.State)
	doc, err := svc.Results(ctx, sub.RunID)
	if err != nil {
		panic(err)
	}
	for _, name := range doc.AnalysisNames() {
		switch r := doc.Analyses[name].Result.(type) {
		case *results.Cox:
			c := r.Coefficients[0]
			fmt.Printf("%s: Cox, HR of %s %.3f (%.3f to %.3f)\n", name, c.Term, c.HR, c.HRLower, c.HRUpper)
		case *results.KaplanMeier:
			fmt.Printf("%s: Kaplan-Meier, %d curves\n", name, len(r.Groups))
		case results.Attrition:
			fmt.Printf("%s: %d persons at the end\n", name, *r[len(r)-1].Persons)
		default:
			fmt.Printf("%s: %s\n", name, doc.Analyses[name].Kind)
		}
	}
	// Output:
	// run 1: done
	// adjusted: Cox, HR of exposure=A 1.155 (0.101 to 13.228)
	// attrition: 18 persons at the end
	// crude: Cox, HR of exposure=A 1.843 (0.205 to 16.537)
	// km: Kaplan-Meier, 2 curves
	// table1: descriptive
}

// Runs are listed newest first, filtered by saved study or submitter; a
// live run is cancelled, a run deleted with its tables.
func ExampleService_List() {
	svc, done := exampleService()
	defer done()
	ctx := context.Background()
	protocol, err := os.ReadFile("../../docs/examples/hip-fracture-rates.json")
	if err != nil {
		panic(err)
	}
	for range 2 {
		if _, err := svc.Submit(ctx, study.SubmitRequest{Protocol: protocol}); err != nil {
			panic(err)
		}
	}
	if err := svc.Cancel(ctx, 2); err != nil {
		panic(err)
	}
	if _, err := svc.Wait(ctx, 1, nil); err != nil {
		panic(err)
	}
	runs, err := svc.List(ctx, study.ListFilter{Limit: 10})
	if err != nil {
		panic(err)
	}
	for _, r := range runs {
		fmt.Printf("run %d %s: %s\n", r.ID, r.ProtocolName, r.State)
	}
	if err := svc.Delete(ctx, 1); err != nil {
		panic(err)
	}
	_, err = svc.Status(ctx, 1)
	fmt.Println(err)
	// Output:
	// run 2 hip-fracture-rates: cancelled
	// run 1 hip-fracture-rates: done
	// study: no such run: 1
}
