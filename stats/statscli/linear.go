package statscli

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beaver-analytics/beaver/stats"
)

func init() {
	register("linear", command{
		Summary: "linear regression by least squares (R's lm)",
		Flags: func(fs *flag.FlagSet) func(t *stats.Timing) (any, error) {
			g := glmFlags(fs, "numeric outcome column (required)")
			return func(t *stats.Timing) (any, error) {
				f, rows, d, err := g.load(t)
				if err != nil {
					return nil, err
				}
				t0 := time.Now()
				y, err := f.Floats(*g.outcome, rows)
				if err != nil {
					return nil, err
				}
				res, err := stats.Linear(y, d)
				t.FitMS = msSince(t0)
				if err != nil {
					return nil, glmLineError(err, f, rows, *g.outcome)
				}
				return res, nil
			}
		},
	})
}

// glmLineError turns a row error of a linear or logistic fit into one
// naming the CSV column and line.
func glmLineError(err error, f *stats.Frame, rows []int, outcome string) error {
	var re *stats.RowError
	if !errors.As(err, &re) {
		return err
	}
	col := re.Column
	if col == "outcome" {
		col = outcome
	}
	return fmt.Errorf("%s: column %q, line %d: %s", re.Model, col, f.Line(rows[re.Row]), re.Msg)
}

// glmArgs are the flags shared by linear and logistic.
type glmArgs struct {
	csvPath, outcome, covs, cats *string
}

func glmFlags(fs *flag.FlagSet, outcomeHelp string) glmArgs {
	return glmArgs{
		csvPath: fs.String("csv", "", "input CSV file (required)"),
		outcome: fs.String("outcome", "", outcomeHelp),
		covs:    fs.String("covariates", "", "comma-separated covariate columns (required)"),
		cats:    fs.String("categorical", "", "comma-separated covariates to treat as categorical (treatment coding)"),
	}
}

// load checks the flags, reads the CSV, drops rows where the outcome or a
// covariate is missing and builds the design; it sets t.ReadMS.
func (g glmArgs) load(t *stats.Timing) (*stats.Frame, []int, *stats.Design, error) {
	switch {
	case *g.csvPath == "":
		return nil, nil, nil, errUsage("--csv is required")
	case *g.outcome == "":
		return nil, nil, nil, errUsage("--outcome is required")
	case *g.covs == "":
		return nil, nil, nil, errUsage("--covariates is required")
	}
	covariates, categorical := splitList(*g.covs), splitList(*g.cats)
	if len(covariates) == 0 {
		return nil, nil, nil, errUsage("--covariates lists no column")
	}
	for _, c := range categorical {
		if !slices.Contains(covariates, c) {
			return nil, nil, nil, errUsage("--categorical %q is not among --covariates", c)
		}
	}
	if slices.Contains(covariates, *g.outcome) {
		return nil, nil, nil, errUsage("--outcome %q is also among --covariates", *g.outcome)
	}
	t0 := time.Now()
	f, err := stats.ReadCSVFile(*g.csvPath)
	if err != nil {
		return nil, nil, nil, err
	}
	cols := append([]string{*g.outcome}, covariates...)
	rows, err := f.Complete(cols...)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(rows) == 0 {
		return nil, nil, nil, fmt.Errorf("no rows with %s all present", strings.Join(cols, ", "))
	}
	d, err := f.Design(rows, covariates, categorical)
	if err != nil {
		return nil, nil, nil, err
	}
	t.ReadMS = msSince(t0)
	return f, rows, d, nil
}
