package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/engine/synth"
	"github.com/beaver-analytics/beaver/engine/validate"
)

func init() {
	subcommands["validate"] = subcommand{"check that the example studies recover the synthetic region's planted truths (docs/validation.md)", runValidate}
	order = append(order, "validate")
}

func runValidate(ctx context.Context, args []string) error {
	fs := newFlagSet("validate", "validate [--seeds 1,2,3] [--persons N] [--years Y] [--hr-comparator 0.8,...] [--hr-current-use 2.0,...] [--out FILE.md] [--json]")
	var c common
	c.register(fs)
	seeds := fs.String("seeds", "1,2,3", "comma-separated seeds: one region per seed and planted set")
	persons := fs.Int("persons", 50000, "residents of each region")
	years := fs.Int("years", 8, "years of each region")
	hrComparator := fs.String("hr-comparator", "0.80,1.25", "T1 planted hazard ratios, one per planted set")
	hrCurrent := fs.String("hr-current-use", "2.0,1.5", "T2 planted hazard ratios, one per planted set (as many as --hr-comparator)")
	examples := fs.String("examples", "docs/examples", "directory holding the example protocols")
	out := fs.String("out", "", "write the report as Markdown to this file (docs/validation.md)")
	jsonOut := fs.Bool("json", false, "print the report as JSON on stdout")
	keep := fs.Bool("keep", false, "keep the scenario databases (beaver_validate_N) instead of dropping them")
	workers := fs.Int("workers", 0, "concurrent study steps (default: all cores)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments: %v", fs.Args())
	}
	seedList, err := parseList(*seeds, "--seeds", func(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) })
	if err != nil {
		return err
	}
	parseF := func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
	hr1, err := parseList(*hrComparator, "--hr-comparator", parseF)
	if err != nil {
		return err
	}
	hr2, err := parseList(*hrCurrent, "--hr-current-use", parseF)
	if err != nil {
		return err
	}
	if len(hr1) != len(hr2) {
		return usageErr("--hr-comparator has %d values and --hr-current-use %d: give one of each per planted set", len(hr1), len(hr2))
	}
	if *persons < 1 || *years < 1 {
		return usageErr("--persons and --years must be at least 1")
	}
	var scenarios []validate.Scenario
	for i := range hr1 {
		for _, s := range seedList {
			t := synth.DefaultTruth()
			t.HRComparator, t.HRCurrentUse = hr1[i], hr2[i]
			if err := t.Validate(); err != nil {
				return usageErr("%v", err)
			}
			scenarios = append(scenarios, validate.Scenario{Seed: s, Persons: *persons, Years: *years, Truth: &t})
		}
	}

	db, logger, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	base := db.Pool.Config().ConnConfig.Copy()
	connect := func(ctx context.Context, name string) (*pgxpool.Pool, error) {
		cfg := db.Pool.Config()
		cfg.ConnConfig = base.Copy()
		cfg.ConnConfig.Database = name
		return pgxpool.NewWithConfig(ctx, cfg)
	}
	rep, err := validate.Run(ctx, validate.Config{Scenarios: scenarios, ExamplesDir: *examples, Admin: db.Pool,
		Connect: connect, Keep: *keep, Workers: *workers, Logger: logger})
	if err != nil {
		return err
	}
	if *out != "" {
		var b bytes.Buffer
		cmd := fmt.Sprintf("beaver validate --seeds %s --persons %d --years %d --hr-comparator %s --hr-current-use %s",
			*seeds, *persons, *years, *hrComparator, *hrCurrent)
		if err := validate.WriteMarkdown(&b, rep, cmd); err != nil {
			return err
		}
		if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if *jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	for _, s := range validate.Summarize(rep.Rows) {
		fmt.Printf("%s: %d of %d intervals of %s cover the truth; %d of %d of %s\n",
			s.Truth, s.Covered, s.N, s.Adjusted, s.BiasedCover, s.N, s.BiasedMethod)
	}
	return nil
}

// parseList parses a comma-separated flag value.
func parseList[T any](v, flagName string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		x, err := parse(f)
		if err != nil {
			return nil, usageErr("%s: %q is not a number", flagName, f)
		}
		out = append(out, x)
	}
	if len(out) == 0 {
		return nil, usageErr("%s: give at least one value", flagName)
	}
	return out, nil
}
