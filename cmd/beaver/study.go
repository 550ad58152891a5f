package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/report"
	"github.com/beaver-analytics/beaver/report/results"
)

func init() {
	subcommands["study"] = subcommand{"run studies: beaver study run FILE.json | status RUN | results RUN | report RUN | cancel RUN | delete RUN", runStudy}
	order = append(order, "study")
}

// paramFlags collects repeated --param k=v.
type paramFlags map[string]string

func (p paramFlags) String() string { return "" }
func (p paramFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q: use NAME=VALUE", s)
	}
	p[k] = v
	return nil
}

func runStudy(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageErr("give run FILE.json, status RUN, results RUN, cancel RUN or delete RUN")
	}
	switch args[0] {
	case "run":
		return runStudyRun(ctx, args[1:])
	case "status":
		return runStudyStatus(ctx, args[1:])
	case "cancel":
		return runStudyCancel(ctx, args[1:])
	case "results":
		return runStudyResults(ctx, args[1:])
	case "report":
		return runStudyReport(ctx, args[1:])
	case "delete":
		return runStudyDelete(ctx, args[1:])
	case "-h", "--help", "help":
		fmt.Println("Usage: beaver study run FILE.json [--param k=v ...] [--wait] [--json] [--explain]\n       beaver study status RUN [--json]\n       beaver study results RUN [--json]\n       beaver study report RUN --protocol FILE.json [--param k=v ...] (--pdf FILE | --html FILE) [--lang it]\n       beaver study cancel RUN\n       beaver study delete RUN")
		return nil
	}
	return usageErr("unknown study command %q: use run, status, results, report, cancel or delete", args[0])
}

func runStudyRun(ctx context.Context, args []string) error {
	fs := newFlagSet("study run", "study run FILE.json [--param NAME=VALUE ...] [--wait] [--json] [--explain]")
	var c common
	c.register(fs)
	params := paramFlags{}
	fs.Var(params, "param", "a template parameter's value, NAME=VALUE (repeatable)")
	waitFlag := fs.Bool("wait", false, "wait until the run ends, showing progress on stderr when it is a terminal, then print the results")
	jsonOut := fs.Bool("json", false, "print JSON on stdout: the results document with --wait, else the run's progress")
	explainFlag := fs.Bool("explain", false, "keep every step's EXPLAIN (ANALYZE, BUFFERS) in the results document's profile")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("give one protocol file")
	}
	protocol, err := os.ReadFile(pos[0])
	if err != nil {
		return usageErr("%v", err)
	}
	db, logger, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	active, err := (&study.Service{Pool: db.Pool}).WorkersActive(ctx)
	if err != nil {
		return err
	}
	// With no serve or worker process on this database, this process works
	// the run itself, and must then stay until it ends.
	inProcess := !active
	client, err := engine.NewClient(db.Pool, engine.Config{Logger: logger}, inProcess)
	if err != nil {
		return err
	}
	svc := &study.Service{Pool: db.Pool, River: client, Logger: logger}
	sub, err := svc.Submit(ctx, study.SubmitRequest{Protocol: protocol, Params: params, Explain: *explainFlag})
	if errors.Is(err, study.ErrNoData) {
		return fmt.Errorf("%w: run `beaver etl load` or `beaver synth --load` first", err)
	}
	if err != nil {
		return err
	}
	runID := sub.RunID
	fmt.Fprintf(os.Stderr, "study run %d submitted\n", runID)
	for _, w := range sub.Warnings {
		fmt.Fprintf(os.Stderr, "warning: %s\n", w)
	}
	if inProcess {
		logger.Info("no beaver serve or worker is running on this database: working the run in this process")
		if err := client.Start(ctx); err != nil {
			return err
		}
		defer func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = engine.Stop(stopCtx, client, 5*time.Second)
		}()
	}
	if !*waitFlag && !inProcess {
		return printProgress(ctx, svc, runID, *jsonOut)
	}
	p, err := waitRun(ctx, svc, runID)
	if err != nil {
		return err
	}
	if p.State != study.StateDone {
		if err := writeProgress(os.Stdout, p, *jsonOut); err != nil {
			return err
		}
		return fmt.Errorf("run %d %s: %s", runID, p.State, p.Error)
	}
	doc, err := svc.ResultsJSON(ctx, runID)
	if err != nil {
		return err
	}
	if !*jsonOut {
		fmt.Fprintf(os.Stdout, "run %d: done in %s, %d steps (%d reused)\n", runID, p.Elapsed.Round(time.Millisecond), p.StepsTotal, p.StepsReused)
	}
	return writeResults(os.Stdout, doc, *jsonOut)
}

// waitRun polls the run's progress until it ends, drawing a bar on stderr
// when it is a terminal.
func waitRun(ctx context.Context, svc *study.Service, runID int64) (*study.Progress, error) {
	fi, err := os.Stderr.Stat()
	bar := err == nil && fi.Mode()&os.ModeCharDevice != 0
	p, err := svc.Wait(ctx, runID, func(p *study.Progress) {
		if bar {
			const width = 30
			n := int(p.Percent / 100 * width)
			fmt.Fprintf(os.Stderr, "\rrun %d [%s%s] %5.1f%% %d/%d steps, %s, %s  ", runID,
				strings.Repeat("#", n), strings.Repeat(".", width-n), p.Percent, p.StepsDone, p.StepsTotal, p.Elapsed.Round(time.Second), etaText(p))
			if p.Ended() {
				fmt.Fprintln(os.Stderr)
			}
		}
	})
	if ctx.Err() != nil {
		return nil, fmt.Errorf("stopped waiting; run %d goes on (beaver study status %d): %w", runID, runID, ctx.Err())
	}
	return p, err
}

func printProgress(ctx context.Context, svc *study.Service, runID int64, asJSON bool) error {
	p, err := svc.Status(ctx, runID)
	if err != nil {
		return err
	}
	return writeProgress(os.Stdout, p, asJSON)
}

// writeProgress prints a run's progress as JSON or as a summary.
func writeProgress(w io.Writer, p *study.Progress, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	fmt.Fprintf(w, "run %d: %s, %d/%d steps done (%.1f%%, %d reused), %s elapsed, %s, %s on disk, data version %d, schema %s\n",
		p.RunID, p.State, p.StepsDone, p.StepsTotal, p.Percent, p.StepsReused, p.Elapsed.Round(time.Millisecond), etaText(p),
		bytesText(p.DiskBytes), p.DataVersion, p.Schema)
	if p.Error != "" {
		fmt.Fprintf(w, "error: %s\n", p.Error)
	}
	for _, x := range p.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
	for _, s := range p.Steps {
		line := fmt.Sprintf("  %-32s %-10s", s.Name, s.State)
		if s.Rows != nil {
			line += fmt.Sprintf(" %8d rows", *s.Rows)
		}
		if s.ReusedFrom != nil {
			line += fmt.Sprintf(" reused from run %d", *s.ReusedFrom)
		} else if s.WallMS != nil && s.State == study.StateDone {
			line += fmt.Sprintf(" %6d ms", *s.WallMS)
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

// etaText says the estimated time left, or that there is none yet.
func etaText(p *study.Progress) string {
	switch {
	case p.Ended():
		return "ended"
	case p.ETA == nil:
		return "time left unknown yet"
	}
	return "about " + p.ETA.Round(time.Second).String() + " left"
}

// bytesText prints a size in binary units.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func runIDArg(pos []string) (int64, error) {
	if len(pos) != 1 {
		return 0, usageErr("give one run id")
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id < 1 {
		return 0, usageErr("run id %q is not a positive number", pos[0])
	}
	return id, nil
}

func runStudyStatus(ctx context.Context, args []string) error {
	fs := newFlagSet("study status", "study status RUN [--json]")
	var c common
	c.register(fs)
	jsonOut := fs.Bool("json", false, "print JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	id, err := runIDArg(pos)
	if err != nil {
		return err
	}
	db, _, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return printProgress(ctx, &study.Service{Pool: db.Pool}, id, *jsonOut)
}

func runStudyCancel(ctx context.Context, args []string) error {
	return onRun(ctx, "cancel", args, func(svc *study.Service, id int64) error {
		if err := svc.Cancel(ctx, id); err != nil {
			return err
		}
		return printProgress(ctx, svc, id, false)
	})
}

func runStudyDelete(ctx context.Context, args []string) error {
	return onRun(ctx, "delete", args, func(svc *study.Service, id int64) error {
		if err := svc.Delete(ctx, id); err != nil {
			return err
		}
		fmt.Printf("run %d deleted with its tables\n", id)
		return nil
	})
}

// onRun is `beaver study VERB RUN`: it opens the database and an insert-only
// River client, and calls fn with the study service on them and the run's id.
func onRun(ctx context.Context, verb string, args []string, fn func(*study.Service, int64) error) error {
	fs := newFlagSet("study "+verb, "study "+verb+" RUN")
	var c common
	c.register(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	id, err := runIDArg(pos)
	if err != nil {
		return err
	}
	db, logger, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	client, err := engine.NewClient(db.Pool, engine.Config{Logger: logger}, false)
	if err != nil {
		return err
	}
	return fn(&study.Service{Pool: db.Pool, River: client, Logger: logger}, id)
}

func runStudyResults(ctx context.Context, args []string) error {
	fs := newFlagSet("study results", "study results RUN [--json]")
	var c common
	c.register(fs)
	jsonOut := fs.Bool("json", false, "print the results document (JSON) on stdout")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	id, err := runIDArg(pos)
	if err != nil {
		return err
	}
	db, _, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	doc, err := (&study.Service{Pool: db.Pool}).ResultsJSON(ctx, id)
	if err != nil {
		return err
	}
	return writeResults(os.Stdout, doc, *jsonOut)
}

// writeResults prints a results document indented, or a readable summary.
func writeResults(w io.Writer, doc []byte, asJSON bool) error {
	if asJSON {
		var buf bytes.Buffer
		if err := json.Indent(&buf, doc, "", "  "); err != nil {
			return err
		}
		buf.WriteByte('\n')
		_, err := w.Write(buf.Bytes())
		return err
	}
	d, err := results.Decode(doc)
	if err != nil {
		return err
	}
	return report.Text(w, d)
}
