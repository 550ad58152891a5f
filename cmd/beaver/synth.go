package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/engine/synth"
)

func init() {
	subcommands["synth"] = subcommand{"generate a synthetic region with planted truths (docs/synthetic.md)", runSynth}
	order = append(order, "synth")
}

func runSynth(ctx context.Context, args []string) error {
	fs := newFlagSet("synth", "synth --persons N [--years Y] [--start-year 2012] [--seed S] [--truth FILE] [--anomalies] [--format csv|parquet] (--out DIR | --load)")
	var c common
	c.register(fs)
	persons := fs.Int("persons", 0, "residents on 1 January of the start year (required)")
	years := fs.Int("years", 8, "number of calendar years")
	startYear := fs.Int("start-year", 2012, "first calendar year")
	seed := fs.Uint64("seed", 1, "random seed: same arguments, same bytes")
	truthFile := fs.String("truth", "", "JSON file overriding the planted truths (docs/synthetic.md)")
	hrComparator := fs.Float64("truth-hr-comparator", 0.80, "T1: hazard ratio of AMI, C09A vs C09C new users")
	hrCurrent := fs.Float64("truth-hr-current-use", 2.0, "T2: hazard ratio of GI bleeding while covered by an NSAID")
	anomalies := fs.Bool("anomalies", false, "T4: add the documented data-quality anomalies")
	out := fs.String("out", "", "write one file per flow to this directory")
	load := fs.Bool("load", false, "import the region into the database through the validated import (etl load)")
	format := fs.String("format", "csv", "file format: csv or parquet")
	workers := fs.Int("workers", 0, "goroutines simulating persons (default: all cores; never changes the output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments: %v", fs.Args())
	}
	if *persons < 1 {
		return usageErr("--persons N is required (at least 1)")
	}
	if *out == "" && !*load {
		return usageErr("give --out DIR or --load")
	}
	if *format != string(synth.CSV) && *format != string(synth.Parquet) {
		return usageErr("--format %q: give csv or parquet", *format)
	}
	truth := synth.DefaultTruth()
	if *truthFile != "" {
		var err error
		if truth, err = synth.LoadTruth(*truthFile); err != nil {
			return usageErr("%v", err)
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "truth-hr-comparator":
			truth.HRComparator = *hrComparator
		case "truth-hr-current-use":
			truth.HRCurrentUse = *hrCurrent
		}
	})
	cfg := synth.Config{Persons: *persons, Years: *years, StartYear: *startYear, Seed: *seed,
		Anomalies: *anomalies, Truth: &truth, Workers: *workers}
	if err := cfg.WithDefaults().Validate(); err != nil {
		return usageErr("%v", err)
	}

	if *load && *out == "" && *format == string(synth.CSV) {
		return synthLoad(ctx, c, cfg, truth)
	}
	dir := *out
	if dir == "" { // --load --format parquet: through files
		tmp, err := os.MkdirTemp("", "beaver-synth-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	st, err := synth.Write(ctx, cfg, dir, synth.Format(*format), progressLine("synth"))
	if err != nil {
		return err
	}
	summary := synthSummary(cfg, truth, st)
	summary["format"] = *format
	if *out != "" {
		summary["dir"] = *out
	}
	if *load {
		db, logger, err := c.open(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		paths, err := synth.Files(dir)
		if err != nil {
			return err
		}
		began := time.Now()
		res, err := etl.Load(ctx, db.Pool, paths, synthImport(db.Pool, logger, nil))
		if err != nil {
			return fmt.Errorf("load the region: %w", err)
		}
		summary["load"] = res
		summary["load_seconds"] = round2(time.Since(began).Seconds())
	}
	return printJSON(summary)
}

// synthLoad imports the region without writing it out: the generator runs
// twice over the same configuration (same rows). The first pass writes the
// dictionaries and the registry, which the import checks every event row
// against, to a temporary directory (about 3% of the rows); the second
// streams the event flows through one pipe each into the same validated
// import, which reads them all at once.
func synthLoad(ctx context.Context, c common, cfg synth.Config, truth synth.Truth) error {
	db, logger, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	began := time.Now()
	tmp, err := os.MkdirTemp("", "beaver-synth-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	st, err := synth.WriteRegistry(ctx, cfg, tmp, progressLine("synth registry"))
	if err != nil {
		return err
	}
	registry := time.Since(began)
	var paths []string
	for _, name := range append(append([]string{}, synth.DictionaryFlows...), synth.RegistryFlows...) {
		paths = append(paths, filepath.Join(tmp, name+".csv"))
	}
	var streams []etl.Stream
	writers := map[string]io.Writer{}
	var pipes []*io.PipeWriter
	for _, name := range synth.EventFlows {
		pr, pw := io.Pipe()
		streams = append(streams, etl.Stream{Name: "synth/" + name + ".csv", Flow: name, R: pr})
		writers[name] = pw
		pipes = append(pipes, pw)
	}
	produced := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, err := synth.StreamEvents(ctx, cfg, writers, progressLine("synth events"))
		for _, pw := range pipes {
			pw.CloseWithError(err) // nil: EOF
		}
		produced <- err
	}()
	loadBegan := time.Now()
	res, err := etl.Load(ctx, db.Pool, paths, synthImport(db.Pool, logger, streams))
	cancel()
	<-produced // a generator's failure reaches the import through its pipes
	if err != nil {
		return fmt.Errorf("load the region: %w", err)
	}
	summary := synthSummary(cfg, truth, st)
	summary["registry_seconds"] = round2(registry.Seconds())
	summary["seconds"] = round2(time.Since(began).Seconds())
	summary["rows_per_s"] = int64(float64(st.TotalRows()) / time.Since(began).Seconds())
	summary["load"] = res
	summary["load_seconds"] = round2(time.Since(loadBegan).Seconds())
	return printJSON(summary)
}

// synthImport is the import of a generated region: diagnostics and areas
// after the publish, as after any import.
func synthImport(pool *pgxpool.Pool, logger *slog.Logger, streams []etl.Stream) etl.Options {
	return etl.Options{Logger: logger, StartedBy: "beaver synth", Streams: streams,
		AfterPublish: func(ctx context.Context, version int64) error { return etl.AfterPublish(ctx, pool, version) }}
}

// synthSummary is what beaver synth prints about the region it made.
func synthSummary(cfg synth.Config, truth synth.Truth, st synth.Stats) map[string]any {
	return map[string]any{
		"persons": st.Persons, "rows": st.Rows, "total_rows": st.TotalRows(),
		"seconds":     round2(st.Elapsed.Seconds()),
		"rows_per_s":  int64(float64(st.TotalRows()) / st.Elapsed.Seconds()),
		"truth":       truth,
		"start_year":  cfg.StartYear,
		"years":       cfg.Years,
		"seed":        cfg.Seed,
		"format":      "csv",
		"anomalies":   cfg.Anomalies,
		"flows_order": append(append([]string{}, synth.DictionaryFlows...), synth.PersonFlows[:]...),
	}
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

// progressLine returns a progress reporter that rewrites one line on
// stderr when it is a terminal, and nil (quiet) otherwise: a file, a pipe,
// or /dev/null, which is a character device but no terminal.
func progressLine(label string) func(synth.Progress) {
	fi, err := os.Stderr.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return nil
	}
	var last time.Time
	return func(p synth.Progress) {
		if time.Since(last) < 200*time.Millisecond && p.Done < p.Total {
			return
		}
		last = time.Now()
		fmt.Fprintf(os.Stderr, "\r%s   ", progressText(label, p))
		if p.Done == p.Total {
			fmt.Fprintln(os.Stderr)
		}
	}
}

// progressText is the progress line: persons done, rows, rows per second
// so far and the time left if the rest goes at the same pace.
func progressText(label string, p synth.Progress) string {
	rate := float64(p.Rows) / max(p.Elapsed.Seconds(), 1e-9)
	eta := "?"
	if p.Done > 0 {
		eta = time.Duration(float64(p.Elapsed) * float64(p.Total-p.Done) / float64(p.Done)).Round(time.Second).String()
	}
	return fmt.Sprintf("%s: %d/%d persons (%.0f%%), %d rows, %.0f rows/s, ETA %s", label,
		p.Done, p.Total, 100*float64(p.Done)/float64(max(p.Total, 1)), p.Rows, rate, eta)
}
