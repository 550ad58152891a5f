package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/schema"
)

func init() {
	subcommands["etl"] = subcommand{"import flows and inspect imports: beaver etl load|history|diagnose (docs/flows.md)", runETL}
	subcommands["init"] = subcommand{"initialise the database: migrations and flow partitions (--partitions N)", runInit}
	order = append(order, "etl", "init")
}

func runInit(ctx context.Context, args []string) error {
	var c common
	fs := newFlagSet("init", "init [--partitions N | --citus [--shards N]] [flags]\n\n"+
		"Applies the migrations and creates the hash partitions of the flow tables.\n"+
		"N is fixed once flow data exists.\n\n"+
		"With --citus, on a Citus coordinator with its workers added (docs/scale-out.md), the\n"+
		"registry, the flows and the areas' members are distributed by person instead, in\n"+
		"--shards shards each (default: Citus's citus.shard_count), and the dictionaries are\n"+
		"reference tables. Only on a database without flow data.")
	c.register(fs)
	n := fs.Int("partitions", 0, fmt.Sprintf("number of hash partitions by person (default: keep, or %d on a new database)", schema.DefaultPartitions))
	citus := fs.Bool("citus", false, "distribute the flows on the Citus cluster the database runs on")
	shards := fs.Int("shards", 0, "with --citus: shards per distributed table (default: citus.shard_count)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 0 || *n > schema.MaxPartitions {
		return usageErr("--partitions must be between 1 and %d", schema.MaxPartitions)
	}
	if *citus && *n > 1 {
		return usageErr("--partitions and --citus: on Citus the shards take the place of the partitions; give --shards")
	}
	if *shards != 0 && !*citus {
		return usageErr("--shards needs --citus")
	}
	if *shards < 0 {
		return usageErr("--shards must be positive")
	}
	db, logger, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if *citus {
		if err := schema.InitCitus(ctx, db.Pool, schema.CitusOptions{ShardCount: *shards}); err != nil {
			return err
		}
	} else if ok, _ := citusInstalled(ctx, db); ok {
		if on, err := schema.Citus(ctx, db.Pool); err == nil && !on {
			logger.Warn("the citus extension is installed in this database, but the flows are not distributed: " +
				"run `beaver init --citus` on a new database to distribute them (docs/scale-out.md)")
		}
	}
	got, err := schema.EnsurePartitions(ctx, db.Pool, *n)
	if err != nil {
		return err
	}
	if err := etl.EnsureDictionaries(ctx, db.Pool); err != nil {
		return err
	}
	if on, err := schema.Citus(ctx, db.Pool); err != nil {
		return err
	} else if on {
		workers, count, err := schema.CitusLayout(ctx, db.Pool)
		if err != nil {
			return err
		}
		fmt.Printf("database ready: flows distributed by person on Citus, %d shards per table on %d workers\n", count, workers)
		return nil
	}
	fmt.Printf("database ready: %d partitions per flow table\n", got)
	return nil
}

// citusInstalled reports whether the database has the citus extension.
func citusInstalled(ctx context.Context, db *database) (bool, error) {
	var ok bool
	err := db.Pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')").Scan(&ok)
	return ok, err
}

func runETL(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Println("Usage: beaver etl load DIR|FILE... [--flow NAME] [flags]\n" +
			"       beaver etl history [--json] [flags]\n" +
			"       beaver etl diagnose [--version N] [--json] [flags]")
		if len(args) == 0 {
			return usageErr("missing etl command")
		}
		return nil
	}
	switch args[0] {
	case "load":
		return runETLLoad(ctx, args[1:])
	case "history":
		return runETLHistory(ctx, args[1:])
	case "diagnose":
		return runETLDiagnose(ctx, args[1:])
	}
	return usageErr("unknown etl command %q: use load, history or diagnose", args[0])
}

func runETLLoad(ctx context.Context, args []string) error {
	var c common
	fs := newFlagSet("etl load", "etl load DIR|FILE... [--flow NAME] [flags]\n\n"+
		"Validates the files and publishes them as one new data version, or nothing.\n"+
		"Layouts and rules: docs/flows.md. Exit status 1 when the import failed.")
	c.register(fs)
	flow := fs.String("flow", "", "flow of every file: "+strings.Join(etl.FlowNames(), ", ")+" (default: from the file name, then the header)")
	importDate := fs.String("import-date", "", "date no event may follow, YYYY-MM-DD (default today)")
	by := fs.String("user", "", "who runs the import, for the history (default $USER)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	var nf notifyFlags
	nf.register(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("no files: beaver etl load DIR|FILE...")
	}
	if *flow != "" && etl.FlowByName(*flow) == nil {
		return usageErr("--flow %q: use one of %s", *flow, strings.Join(etl.FlowNames(), ", "))
	}
	opts := etl.Options{Flow: *flow, StartedBy: *by}
	if *importDate != "" {
		d, err := time.Parse(time.DateOnly, *importDate)
		if err != nil {
			return usageErr("--import-date %q: use YYYY-MM-DD", *importDate)
		}
		opts.ImportDate = d
	}
	paths, err := etl.ExpandPaths(pos)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("no .csv or .parquet files in %s", strings.Join(pos, ", "))
	}
	db, _, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	opts.Logger = db.logger
	opts.AfterPublish = func(ctx context.Context, version int64) error {
		return etl.AfterPublish(ctx, db.Pool, version)
	}
	res, err := etl.Load(ctx, db.Pool, paths, opts)
	if !errors.Is(err, etl.ErrImportRunning) {
		nf.notifier(db, db.logger).ImportDone(ctx, "command line", paths, res, err)
	}
	if res != nil {
		if *asJSON {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(res)
		} else {
			printResult(os.Stdout, res)
			if err != nil && res.Error != "" {
				// printResult said why it failed ("import N failed,
				// nothing published: …"): not again on stderr.
				return fmt.Errorf("%w: %w", errReported, err)
			}
		}
	}
	return err
}

func printResult(w io.Writer, r *etl.Result) {
	switch r.State {
	case etl.StatePublished:
		fmt.Fprintf(w, "import %d published data version %d: %d rows read, %d published, %d rejected (%.1f s)\n",
			r.ImportID, r.DataVersion, r.RowsRead, r.RowsPublished, r.RowsRejected, float64(r.DurationMS)/1000)
	case etl.StateUnchanged:
		fmt.Fprintf(w, "import %d: nothing new, every file was already imported; data unchanged\n", r.ImportID)
	default:
		fmt.Fprintf(w, "import %d failed, nothing published: %s\n", r.ImportID, r.Error)
	}
	for _, f := range r.Files {
		fmt.Fprintf(w, "  %-9s %s", f.State, f.Path)
		if f.Flow != "" {
			fmt.Fprintf(w, " [%s, %s, %q]", f.Flow, f.Encoding, f.Delimiter)
		}
		switch {
		case f.State == etl.FilePublished:
			fmt.Fprintf(w, " %d rows read, %d published, %d rejected", f.RowsRead, f.RowsPublished, f.RowsRejected)
		case f.State != etl.FileSkipped && f.RowsRead > 0:
			fmt.Fprintf(w, " %d rows read, %d rejected, none published", f.RowsRead, f.RowsRejected)
		}
		if f.DuplicateRows > 0 {
			fmt.Fprintf(w, ", %d exact duplicates", f.DuplicateRows)
		}
		if f.Note != "" {
			fmt.Fprintf(w, ": %s", f.Note)
		}
		if len(f.Ignored) > 0 {
			fmt.Fprintf(w, " (ignored columns: %s)", strings.Join(f.Ignored, ", "))
		}
		fmt.Fprintln(w)
	}
	if len(r.RejectedBy) > 0 {
		reasons := make([]string, 0, len(r.RejectedBy))
		for k := range r.RejectedBy {
			reasons = append(reasons, k)
		}
		sort.Slice(reasons, func(i, j int) bool { return r.RejectedBy[reasons[i]] > r.RejectedBy[reasons[j]] })
		fmt.Fprintln(w, "rejected rows by reason (details in etl_quarantine):")
		for _, k := range reasons {
			fmt.Fprintf(w, "  %-22s %d\n", k, r.RejectedBy[k])
		}
	}
	for _, c := range r.RegistryConflicts {
		fmt.Fprintf(w, "registry conflicts: %d published %s events of %d persons now fall after death (%d) or before birth (%d)\n",
			c.AfterDeath+c.BeforeBirth, c.Flow, c.Persons, c.AfterDeath, c.BeforeBirth)
	}
	for _, msg := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", msg)
	}
}

func runETLHistory(ctx context.Context, args []string) error {
	var c common
	fs := newFlagSet("etl history", "etl history [--json] [flags]")
	c.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	limit := fs.Int("limit", 20, "how many imports, newest first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, _, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	h, err := etl.History(ctx, db.Pool, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(h)
	}
	fmt.Printf("%-6s %-10s %-8s %-20s %-12s %10s %10s %8s\n", "import", "state", "version", "started", "by", "read", "published", "rejected")
	for _, i := range h {
		v := "-"
		if i.DataVersion != nil {
			v = fmt.Sprint(*i.DataVersion)
		}
		fmt.Printf("%-6d %-10s %-8s %-20s %-12s %10d %10d %8d\n", i.ID, i.State, v, i.StartedAt.Format("2006-01-02 15:04:05"),
			i.StartedBy, i.RowsRead, i.RowsPublished, i.RowsRejected)
	}
	return nil
}

func runETLDiagnose(ctx context.Context, args []string) error {
	var c common
	fs := newFlagSet("etl diagnose", "etl diagnose [--version N] [--json] [--recompute] [flags]\n\n"+
		"Prints the diagnostics of a data version (stored after each import).")
	c.register(fs)
	version := fs.Int64("version", 0, "data version (default: the latest)")
	asJSON := fs.Bool("json", false, "print the JSON document")
	recompute := fs.Bool("recompute", false, "compute again (against today's dictionaries) and store")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, _, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	var rep *etl.Report
	if !*recompute {
		if rep, err = etl.StoredDiagnostics(ctx, db.Pool, *version); err != nil {
			return err
		}
	}
	if rep == nil {
		if rep, err = etl.Diagnose(ctx, db.Pool, *version); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Printf("diagnostics of data version %d (import date %s)\n", rep.DataVersion, rep.ImportDate)
	for _, f := range rep.Flows {
		if f.Rows == 0 && len(f.Quarantined) == 0 {
			continue
		}
		fmt.Printf("\n%s: %d rows\n", f.Flow, f.Rows)
		for _, y := range f.Years {
			yoy := ""
			if y.YoY != nil {
				yoy = fmt.Sprintf(" %+.0f%%", *y.YoY*100)
			}
			fmt.Printf("  %d  rows %-9d persons %-8d per person p50 %g p99 %g max %g  outliers %d  z %.1f%s\n",
				y.Year, y.Rows, y.Persons, y.PerPerson.P50, y.PerPerson.P99, y.PerPerson.Max, y.Outliers, y.Z, yoy)
		}
		if len(f.SuspiciousYears) > 0 {
			fmt.Printf("  suspicious years (|robust z| > %.1f): %v\n", etl.YearZ, f.SuspiciousYears)
		}
		if len(f.EmptyMonths) > 0 {
			fmt.Printf("  months with no data: %s\n", strings.Join(f.EmptyMonths, " "))
		}
		for k, n := range f.DatesOutOfRange {
			if n > 0 {
				fmt.Printf("  dates %s: %d\n", k, n)
			}
		}
		if f.DuplicateRows > 0 {
			fmt.Printf("  rows repeating an earlier row of their import exactly (published; no natural key): %d\n", f.DuplicateRows)
		}
		if f.RegistryConflicts > 0 {
			fmt.Printf("  events outside their person's life (a registry update moved a birth or death date past them): %d\n", f.RegistryConflicts)
		}
		for _, cf := range f.Codes {
			fmt.Printf("  codes %s.%s (%s): published unknown %d, out of validity %d, quarantined %d", cf.Table, cf.Column, cf.System,
				cf.Unknown, cf.OutOfValid, cf.Quarantined)
			for _, o := range cf.TopOffenders {
				fmt.Printf(" %s×%d", o.Code, o.Count)
			}
			fmt.Println()
		}
		for r, n := range f.Quarantined {
			fmt.Printf("  quarantined %s: %d\n", r, n)
		}
	}
	return nil
}
