package statscli

import (
	"flag"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/beaver-analytics/beaver/stats"
)

// ratesOutput is the document printed by `beaver stats rates`.
type ratesOutput struct {
	Model string `json:"model"`
	*stats.RatesResult
}

func init() {
	register("rates", command{
		Summary: "crude and directly standardized event rates, rate ratios",
		Flags: func(fs *flag.FlagSet) func(t *stats.Timing) (any, error) {
			csvPath := fs.String("csv", "", "input CSV file (required); rows are summed by group and stratum")
			eventsCol := fs.String("events", "", "event count column (required)")
			ptCol := fs.String("persontime", "", "person-time column (required)")
			groupCol := fs.String("group", "", "group column: one rate per level, rate ratios against the first level")
			strataCol := fs.String("strata", "", "stratum column for direct standardization (needs --standard)")
			standard := fs.String("standard", "", "standard population CSV with columns stratum,population (needs --strata)")
			per := fs.Float64("per", 1000, "report rates per this many units of person-time")
			confLevel := fs.Float64("conf-level", 0.95, "confidence level")
			return func(t *stats.Timing) (any, error) {
				switch {
				case *csvPath == "":
					return nil, errUsage("--csv is required")
				case *eventsCol == "":
					return nil, errUsage("--events is required")
				case *ptCol == "":
					return nil, errUsage("--persontime is required")
				case *strataCol != "" && *standard == "":
					return nil, errUsage("--strata needs --standard (the standard population file)")
				case *standard != "" && *strataCol == "":
					return nil, errUsage("--standard needs --strata (the stratum column of the data)")
				case !(*per > 0) || math.IsInf(*per, 1):
					return nil, errUsage("--per %v: want a positive number", *per)
				case !(*confLevel > 0 && *confLevel < 1):
					return nil, errUsage("--conf-level %v: want a number between 0 and 1", *confLevel)
				}

				t0 := time.Now()
				f, err := stats.ReadCSVFile(*csvPath)
				if err != nil {
					return nil, err
				}
				cols := []string{*eventsCol, *ptCol}
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
				events, err := nonNegative(f, *eventsCol, rows)
				if err != nil {
					return nil, err
				}
				pt, err := nonNegative(f, *ptCol, rows)
				if err != nil {
					return nil, err
				}
				var group, strata []string
				if *groupCol != "" {
					if group, err = trimmedStrings(f, *groupCol, rows); err != nil {
						return nil, err
					}
				}
				var std map[string]float64
				if *strataCol != "" {
					if strata, err = trimmedStrings(f, *strataCol, rows); err != nil {
						return nil, err
					}
					if std, err = readStandard(*standard); err != nil {
						return nil, err
					}
				}
				t.ReadMS = msSince(t0)

				t0 = time.Now()
				res, err := stats.Rates(events, pt, group, strata, std, stats.RateOptions{Per: *per, ConfLevel: *confLevel})
				if err != nil {
					return nil, err
				}
				t.FitMS = msSince(t0)
				return &ratesOutput{Model: "rates", RatesResult: res}, nil
			}
		},
	})
}

// nonNegative parses a count or person-time column, rejecting negative and
// infinite values with the file line.
func nonNegative(f *stats.Frame, col string, rows []int) ([]float64, error) {
	v, err := f.Floats(col, rows)
	if err != nil {
		return nil, err
	}
	for k, x := range v {
		if !(x >= 0) || math.IsInf(x, 1) {
			return nil, fmt.Errorf("column %q, line %d: %v is not a finite non-negative number", col, f.Line(rows[k]), x)
		}
	}
	return v, nil
}

// readStandard reads a standard population file with columns stratum and
// population, one row per stratum.
func readStandard(path string) (map[string]float64, error) {
	f, err := stats.ReadCSVFile(path)
	if err != nil {
		return nil, fmt.Errorf("read standard population: %w", err)
	}
	all := make([]int, f.NRows())
	for i := range all {
		all[i] = i
	}
	if _, err := f.Complete("stratum", "population"); err != nil {
		return nil, fmt.Errorf("standard population %s: %w", path, err)
	}
	names, err := trimmedStrings(f, "stratum", all)
	if err != nil {
		return nil, err
	}
	pop, err := nonNegative(f, "population", all)
	if err != nil {
		return nil, fmt.Errorf("standard population %s: %w", path, err)
	}
	std := make(map[string]float64, len(names))
	for k, s := range names {
		if s == "" || s == "NA" {
			return nil, fmt.Errorf("standard population %s, line %d: missing stratum", path, f.Line(k))
		}
		if _, dup := std[s]; dup {
			return nil, fmt.Errorf("standard population %s, line %d: stratum %q listed twice", path, f.Line(k), s)
		}
		std[s] = pop[k]
	}
	if len(std) == 0 {
		return nil, fmt.Errorf("standard population %s has no rows", path)
	}
	return std, nil
}
