// Package statscli is `beaver stats`: it fits one model on a CSV file and
// prints one JSON document, so that anyone can check Beaver's numbers
// against their own tools. The contract is documented in docs/stats-cli.md.
package statscli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/beaver-analytics/beaver/stats"
)

// command is one `beaver stats` subcommand. Run parses its flags from fs
// (already defined by Flags), reads the input and fits; it fills timing and
// returns the result to print as JSON.
type command struct {
	Summary string
	Flags   func(fs *flag.FlagSet) func(t *stats.Timing) (any, error)
}

var commands = map[string]command{}

// register adds a subcommand; each model's file calls it from init.
func register(name string, c command) {
	if _, dup := commands[name]; dup {
		panic("statscli: duplicate command " + name)
	}
	commands[name] = c
}

// Usage lists the subcommands.
func Usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: beaver stats MODEL --csv FILE [flags]")
	fmt.Fprintln(w, "\nFits one model on a CSV file and prints one JSON document (docs/stats-cli.md).")
	fmt.Fprintln(w, "\nModels:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].Summary)
	}
	fmt.Fprintln(w, "\nRun 'beaver stats MODEL --help' for a model's flags.")
}

// Run executes `beaver stats` with args (the words after "stats") and
// returns the process exit code: 0 on success, 1 on a fitting or data
// error, 2 on a usage error.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		Usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	name := args[0]
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "beaver stats: unknown model %q\n", name)
		Usage(stderr)
		return 2
	}
	fs := flag.NewFlagSet("beaver stats "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	run := c.Flags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "beaver stats %s: unexpected argument %q\n", name, fs.Arg(0))
		return 2
	}
	var timing stats.Timing
	res, err := run(&timing)
	if err != nil {
		fmt.Fprintf(stderr, "beaver stats %s: %v\n", name, err)
		var ue *usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(withTiming(res, timing)); err != nil {
		fmt.Fprintf(stderr, "beaver stats %s: write result: %v\n", name, err)
		return 1
	}
	return 0
}

// usageError marks a missing or malformed flag, reported with exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errUsage returns a usage error with a formatted message.
func errUsage(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// withTiming returns res encoded with a "timing_ms" member appended.
func withTiming(res any, t stats.Timing) json.RawMessage {
	b, err := json.Marshal(res)
	if err != nil || len(b) < 2 || b[0] != '{' {
		return b
	}
	tb, _ := json.Marshal(t)
	body := strings.TrimSuffix(string(b), "}")
	sep := ","
	if body == "{" {
		sep = ""
	}
	return json.RawMessage(body + sep + `"timing_ms":` + string(tb) + "}")
}

// msSince returns the milliseconds elapsed since t0.
func msSince(t0 time.Time) float64 {
	return float64(time.Since(t0).Microseconds()) / 1000
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
