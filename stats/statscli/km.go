package statscli

import (
	"flag"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/beaver-analytics/beaver/stats"
)

// kmOutput is the document printed by `beaver stats km`.
type kmOutput struct {
	Model     string          `json:"model"`
	ConfType  string          `json:"conf_type"`
	ConfLevel float64         `json:"conf_level"`
	Groups    []stats.KMCurve `json:"groups"`
	LogRank   *stats.Test     `json:"logrank"`
	// LogRankError says why the log-rank test is null although there are
	// several groups (no events, a single group at risk).
	LogRankError string `json:"logrank_error,omitempty"`
}

func init() {
	register("km", command{
		Summary: "Kaplan-Meier curves, median survival and log-rank test",
		Flags: func(fs *flag.FlagSet) func(t *stats.Timing) (any, error) {
			csvPath := fs.String("csv", "", "input CSV file (required)")
			timeCol := fs.String("time", "", "follow-up time column (required)")
			eventCol := fs.String("event", "", "event column, 0/1 or true/false (required)")
			groupCol := fs.String("group", "", "group column: one curve per level, and a log-rank test")
			strataCol := fs.String("strata", "", "stratum column for a stratified log-rank test (needs --group)")
			confType := fs.String("conf-type", "log", "pointwise confidence interval: log, log-log or plain")
			confLevel := fs.Float64("conf-level", 0.95, "confidence level")
			return func(t *stats.Timing) (any, error) {
				switch {
				case *csvPath == "":
					return nil, errUsage("--csv is required")
				case *timeCol == "":
					return nil, errUsage("--time is required")
				case *eventCol == "":
					return nil, errUsage("--event is required")
				case *strataCol != "" && *groupCol == "":
					return nil, errUsage("--strata needs --group (it stratifies the log-rank test between groups)")
				}
				opts := stats.KMOptions{ConfType: *confType, ConfLevel: *confLevel}
				switch opts.ConfType {
				case "log", "log-log", "plain":
				default:
					return nil, errUsage("--conf-type %q: want log, log-log or plain", opts.ConfType)
				}
				if !(opts.ConfLevel > 0 && opts.ConfLevel < 1) {
					return nil, errUsage("--conf-level %v: want a number between 0 and 1", opts.ConfLevel)
				}

				t0 := time.Now()
				f, err := stats.ReadCSVFile(*csvPath)
				if err != nil {
					return nil, err
				}
				cols := []string{*timeCol, *eventCol}
				for _, c := range []string{*groupCol, *strataCol} {
					if c != "" {
						cols = append(cols, c)
					}
				}
				rows, err := f.Complete(cols...)
				if err != nil {
					return nil, err
				}
				if len(rows) == 0 {
					return nil, fmt.Errorf("no rows with %s all present", strings.Join(cols, ", "))
				}
				tm, err := f.Floats(*timeCol, rows)
				if err != nil {
					return nil, err
				}
				if err := checkTimeColumn(f, *timeCol, tm, rows); err != nil {
					return nil, err
				}
				ev, err := f.Events(*eventCol, rows)
				if err != nil {
					return nil, err
				}
				var group, strata []string
				if *groupCol != "" {
					if group, err = trimmedStrings(f, *groupCol, rows); err != nil {
						return nil, err
					}
				}
				if *strataCol != "" {
					if strata, err = trimmedStrings(f, *strataCol, rows); err != nil {
						return nil, err
					}
				}
				t.ReadMS = msSince(t0)

				t0 = time.Now()
				fit, err := stats.KaplanMeier(tm, ev, group, opts)
				if err != nil {
					return nil, err
				}
				out := &kmOutput{Model: "km", ConfType: fit.ConfType, ConfLevel: fit.ConfLevel, Groups: fit.Groups}
				if group != nil {
					out.LogRank, err = stats.LogRank(tm, ev, group, strata)
					if err != nil {
						out.LogRankError = err.Error()
					}
				}
				t.FitMS = msSince(t0)
				return out, nil
			}
		},
	})
}

// checkTimeColumn rejects negative or infinite follow-up times, naming the
// file line.
func checkTimeColumn(f *stats.Frame, col string, tm []float64, rows []int) error {
	for k, v := range tm {
		if !(v >= 0) || math.IsInf(v, 1) {
			return fmt.Errorf("column %q, line %d: time %v is not a finite non-negative number", col, f.Line(rows[k]), v)
		}
	}
	return nil
}

// trimmedStrings returns a column's values at rows without surrounding
// spaces, as levels of a grouping variable.
func trimmedStrings(f *stats.Frame, col string, rows []int) ([]string, error) {
	s, err := f.Strings(col, rows)
	if err != nil {
		return nil, err
	}
	for i := range s {
		s[i] = strings.TrimSpace(s[i])
	}
	return s, nil
}
