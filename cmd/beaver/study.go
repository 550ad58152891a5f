package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/engine/study"
)

func init() {
	subcommands["study"] = subcommand{"run studies: beaver study run FILE.json | status RUN | results RUN | cancel RUN", runStudy}
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
		return usageErr("give run FILE.json, status RUN, results RUN or cancel RUN")
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
	case "-h", "--help", "help":
		fmt.Println("Usage: beaver study run FILE.json [--param k=v ...] [--wait] [--json]\n       beaver study status RUN [--json]\n       beaver study results RUN [--json]\n       beaver study cancel RUN")
		return nil
	}
	return usageErr("unknown study command %q: use run, status, results or cancel", args[0])
}

func runStudyRun(ctx context.Context, args []string) error {
	fs := newFlagSet("study run", "study run FILE.json [--param NAME=VALUE ...] [--wait] [--json]")
	var c common
	c.register(fs)
	params := paramFlags{}
	fs.Var(params, "param", "a template parameter's value, NAME=VALUE (repeatable)")
	waitFlag := fs.Bool("wait", false, "wait until the run ends, showing progress on stderr when it is a terminal")
	jsonOut := fs.Bool("json", false, "print the run's progress as JSON on stdout")
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
	active, err := study.WorkersActive(ctx, db.Pool)
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
	runID, err := study.Submit(ctx, db.Pool, client, protocol, params, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "study run %d submitted\n", runID)
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
		return printProgress(ctx, db, runID, *jsonOut)
	}
	p, err := waitRun(ctx, db, runID)
	if err != nil {
		return err
	}
	if err := writeProgress(os.Stdout, p, *jsonOut); err != nil {
		return err
	}
	if p.State != study.StateDone {
		return fmt.Errorf("run %d %s: %s", runID, p.State, p.Error)
	}
	return nil
}

// waitRun polls the run's progress until it ends, drawing a bar on stderr
// when it is a terminal.
func waitRun(ctx context.Context, db *database, runID int64) (*study.RunProgress, error) {
	fi, err := os.Stderr.Stat()
	bar := err == nil && fi.Mode()&os.ModeCharDevice != 0
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		p, err := study.Progress(ctx, db.Pool, runID)
		if err != nil {
			return nil, err
		}
		if bar {
			const width = 30
			n := int(p.Percent / 100 * width)
			fmt.Fprintf(os.Stderr, "\rrun %d [%s%s] %5.1f%% %d/%d steps, %s  ", runID,
				strings.Repeat("#", n), strings.Repeat(".", width-n), p.Percent, p.StepsDone, p.StepsTotal, p.Elapsed.Round(time.Second))
			if p.Ended() {
				fmt.Fprintln(os.Stderr)
			}
		}
		if p.Ended() {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("stopped waiting; run %d goes on (beaver study status %d): %w", runID, runID, ctx.Err())
		case <-tick.C:
		}
	}
}

func printProgress(ctx context.Context, db *database, runID int64, asJSON bool) error {
	p, err := study.Progress(ctx, db.Pool, runID)
	if err != nil {
		return err
	}
	return writeProgress(os.Stdout, p, asJSON)
}

// writeProgress prints a run's progress as JSON or as a summary.
func writeProgress(w io.Writer, p *study.RunProgress, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	fmt.Fprintf(w, "run %d: %s, %d/%d steps done (%.1f%%), %s elapsed, data version %d, schema %s\n",
		p.RunID, p.State, p.StepsDone, p.StepsTotal, p.Percent, p.Elapsed.Round(time.Millisecond), p.DataVersion, p.Schema)
	if p.Error != "" {
		fmt.Fprintf(w, "error: %s\n", p.Error)
	}
	for _, s := range p.Steps {
		line := fmt.Sprintf("  %-32s %-10s", s.Name, s.State)
		if s.Rows != nil {
			line += fmt.Sprintf(" %8d rows", *s.Rows)
		}
		if s.WallMS != nil && s.State == study.StateDone {
			line += fmt.Sprintf(" %6d ms", *s.WallMS)
		}
		fmt.Fprintln(w, line)
	}
	return nil
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
	return printProgress(ctx, db, id, *jsonOut)
}

func runStudyCancel(ctx context.Context, args []string) error {
	fs := newFlagSet("study cancel", "study cancel RUN")
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
	if err := study.Cancel(ctx, db.Pool, client, id); err != nil {
		return err
	}
	return printProgress(ctx, db, id, false)
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
	doc, err := study.Results(ctx, db.Pool, id)
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
	var d struct {
		ProtocolHash    string `json:"protocol_hash"`
		DataVersion     int64  `json:"data_version"`
		DataEnd         string `json:"data_end"`
		SoftwareVersion string `json:"software_version"`
		Attrition       []struct {
			Label            string
			Persons, Entries *int64
		} `json:"attrition"`
		Analyses map[string]struct {
			Kind   string          `json:"kind"`
			Form   string          `json:"form"`
			Error  string          `json:"error"`
			Result json.RawMessage `json:"result"`
		} `json:"analyses"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return fmt.Errorf("read the results document: %w", err)
	}
	count := func(n *int64) string {
		if n == nil {
			return fmt.Sprintf("<%d", study.MinCount)
		}
		return strconv.FormatInt(*n, 10)
	}
	fmt.Fprintf(w, "protocol %s, data version %d (data end %s), %s\n", d.ProtocolHash, d.DataVersion, d.DataEnd, d.SoftwareVersion)
	fmt.Fprintln(w, "attrition:")
	for _, l := range d.Attrition {
		fmt.Fprintf(w, "  %-48s %8s persons %8s entries\n", l.Label, count(l.Persons), count(l.Entries))
	}
	names := make([]string, 0, len(d.Analyses))
	for n := range d.Analyses {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := d.Analyses[n]
		fmt.Fprintf(w, "%s (%s):", n, a.Kind)
		if a.Error != "" {
			fmt.Fprintf(w, " not computed: %s\n", a.Error)
			continue
		}
		switch a.Kind {
		case "cox":
			var r struct {
				N, Events    *int64
				Coefficients []struct {
					Term string
					Hr   *float64 `json:"hr"`
					Lo   *float64 `json:"hr_lower"`
					Hi   *float64 `json:"hr_upper"`
					P    *float64 `json:"p"`
				}
			}
			_ = json.Unmarshal(a.Result, &r)
			fmt.Fprintf(w, " %s, %s rows, %s events\n", a.Form, count(r.N), count(r.Events))
			for _, c := range r.Coefficients {
				fmt.Fprintf(w, "  %-32s HR %s (%s to %s), p %s\n", c.Term, fnum(c.Hr), fnum(c.Lo), fnum(c.Hi), fnum(c.P))
			}
		case "kaplan_meier":
			var r struct {
				Groups []struct {
					Group     *string
					N, Events *int64
					Median    *float64
				}
			}
			_ = json.Unmarshal(a.Result, &r)
			fmt.Fprintln(w)
			for _, g := range r.Groups {
				name := "all"
				if g.Group != nil {
					name = *g.Group
				}
				fmt.Fprintf(w, "  %-16s %8s entries %8s events, median %s\n", name, count(g.N), count(g.Events), fnum(g.Median))
			}
		default:
			fmt.Fprintln(w, " see --json")
		}
	}
	for _, x := range d.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
	return nil
}

// fnum formats a nullable number of a results document.
func fnum(v *float64) string {
	if v == nil {
		return "NA"
	}
	return strconv.FormatFloat(*v, 'g', 4, 64)
}
