// Command beaver is the whole product in one binary: the web server and its
// workers, extra workers for other hosts, migrations, user management and
// the statistics CLI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/stats/statscli"
)

// version is set at build time with -ldflags "-X main.version=..." (make
// build sets it from git describe). run hands it to study.Version, so that
// `beaver version` and the results documents say the same; empty, both
// read the Go build information.
var version string

type subcommand struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

var subcommands = map[string]subcommand{}

var order = []string{"serve", "worker", "migrate", "user", "stats", "version"}

func init() {
	subcommands["serve"] = subcommand{"run the web server and the workers", runServe}
	subcommands["worker"] = subcommand{"run workers only (more hosts sharing one database)", runWorker}
	subcommands["migrate"] = subcommand{"apply the database migrations (Beaver's and River's)", runMigrate}
	subcommands["user"] = subcommand{"manage users: beaver user add NAME --role admin|analyst", runUser}
	subcommands["stats"] = subcommand{"fit a model on a CSV file and print JSON (docs/stats-cli.md)", nil}
	subcommands["version"] = subcommand{"print the version", func(context.Context, []string) error {
		fmt.Println(study.SoftwareVersion())
		return nil
	}}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Beaver: observational studies on administrative healthcare data.")
	fmt.Fprintln(w, "\nUsage: beaver COMMAND [flags]\n\nCommands:")
	for _, name := range order {
		fmt.Fprintf(w, "  %-8s %s\n", name, subcommands[name].summary)
	}
	fmt.Fprintln(w, "\nRun 'beaver COMMAND --help' for a command's flags.")
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	study.Version = version
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(os.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	name := args[0]
	if name == "stats" {
		return statscli.Run(args[1:], os.Stdout, os.Stderr)
	}
	sc, ok := subcommands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "beaver: unknown command %q\n\n", name)
		usage(os.Stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := sc.run(ctx, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errReported):
		return 1
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "beaver %s: %s\n", name, errText(name, err))
		return 2
	default:
		fmt.Fprintf(os.Stderr, "beaver %s: %s\n", name, errText(name, err))
		return 1
	}
}

// errText is an error's message without the package prefix that repeats
// the command's name ("beaver etl: etl: …" reads "beaver etl: …").
func errText(name string, err error) string {
	return strings.TrimPrefix(err.Error(), name+": ")
}

var errUsage = errors.New("usage")

// errReported is a failure the command has already printed: it exits 1
// and prints nothing more.
var errReported = errors.New("failure reported")

// usageErr returns an error that exits with status 2.
func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// common holds the flags every database command shares.
type common struct {
	databaseURL string
	dataDir     string
	logFormat   string
	logLevel    string
}

// envOr returns the environment variable's value, or def when unset.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// envFile returns $NAME, or the contents of the file named by $NAME_FILE.
func envFile(name string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	if p := os.Getenv(name + "_FILE"); p != "" {
		if b, err := os.ReadFile(p); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	return ""
}

func (c *common) register(fs *flag.FlagSet) {
	// Secrets are not flag defaults, so that --help never prints them.
	fs.StringVar(&c.databaseURL, "database-url", "",
		"PostgreSQL connection string (env DATABASE_URL or DATABASE_URL_FILE); empty: run a managed cluster in DATA-DIR/pg")
	fs.StringVar(&c.dataDir, "data-dir", envOr("BEAVER_DATA_DIR", "./var"), "directory for Beaver's files and the managed cluster (env BEAVER_DATA_DIR)")
	fs.StringVar(&c.logFormat, "log-format", envOr("BEAVER_LOG_FORMAT", "text"), "log format: text or json (env BEAVER_LOG_FORMAT)")
	fs.StringVar(&c.logLevel, "log-level", envOr("BEAVER_LOG_LEVEL", "info"), "log level: debug, info, warn or error (env BEAVER_LOG_LEVEL)")
}

func (c *common) logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, usageErr("--log-level %q: use debug, info, warn or error", c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	default:
		return nil, usageErr("--log-format %q: use text or json", c.logFormat)
	}
}

// newFlagSet returns a flag set whose -h prints the command's usage.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("beaver "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: beaver %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseInterleaved parses flags given before or after the positional
// arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
