package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

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

	dir := *out
	if dir == "" {
		tmp, err := os.MkdirTemp("", "beaver-synth-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	st, err := synth.Write(ctx, cfg, dir, synth.Format(*format), progressLine())
	if err != nil {
		return err
	}
	summary := map[string]any{
		"dir": dir, "persons": st.Persons, "rows": st.Rows, "total_rows": st.TotalRows(),
		"seconds":     round2(st.Elapsed.Seconds()),
		"rows_per_s":  int64(float64(st.TotalRows()) / st.Elapsed.Seconds()),
		"truth":       truth,
		"start_year":  cfg.StartYear,
		"years":       *years,
		"seed":        *seed,
		"format":      *format,
		"anomalies":   *anomalies,
		"flows_order": append(append([]string{}, synth.DictionaryFlows...), synth.PersonFlows[:]...),
	}
	if *out == "" {
		delete(summary, "dir")
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
		res, err := etl.Load(ctx, db.Pool, paths, etl.Options{Logger: logger, StartedBy: "beaver synth",
			AfterPublish: func(ctx context.Context, version int64) error { return etl.AfterPublish(ctx, db.Pool, version) }})
		if err != nil {
			return fmt.Errorf("load the region: %w", err)
		}
		summary["load"] = res
		summary["load_seconds"] = round2(time.Since(began).Seconds())
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(summary)
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

// progressLine returns a progress reporter that rewrites one line on
// stderr when it is a terminal, and nil (quiet) otherwise: a file, a pipe,
// or /dev/null, which is a character device but no terminal.
func progressLine() func(synth.Progress) {
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
		fmt.Fprintf(os.Stderr, "\r%s   ", progressText(p))
		if p.Done == p.Total {
			fmt.Fprintln(os.Stderr)
		}
	}
}

// progressText is the progress line: persons done, rows, rows per second
// so far and the time left if the rest goes at the same pace.
func progressText(p synth.Progress) string {
	rate := float64(p.Rows) / max(p.Elapsed.Seconds(), 1e-9)
	eta := "?"
	if p.Done > 0 {
		eta = time.Duration(float64(p.Elapsed) * float64(p.Total-p.Done) / float64(p.Done)).Round(time.Second).String()
	}
	return fmt.Sprintf("synth: %d/%d persons (%.0f%%), %d rows, %.0f rows/s, ETA %s",
		p.Done, p.Total, 100*float64(p.Done)/float64(max(p.Total, 1)), p.Rows, rate, eta)
}
