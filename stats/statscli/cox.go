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
	register("cox", command{
		Summary: "Cox proportional hazards (Efron/Breslow, strata, start-stop, cluster-robust, cox.zph)",
		Flags: func(fs *flag.FlagSet) func(t *stats.Timing) (any, error) {
			csvPath := fs.String("csv", "", "input CSV file (required)")
			timeCol := fs.String("time", "", "follow-up time column; the stop time with --start (required)")
			eventCol := fs.String("event", "", "event column, 0/1 or true/false (required)")
			startCol := fs.String("start", "", "start time column: counting-process data, at risk in (start, time]")
			covs := fs.String("covariates", "", "comma-separated covariate columns (required)")
			cats := fs.String("categorical", "", "comma-separated covariates to treat as categorical (treatment coding)")
			strataCol := fs.String("strata", "", "stratum column: a separate baseline hazard per level")
			clusterCol := fs.String("cluster", "", "cluster column: cluster-robust (sandwich) variance")
			ties := fs.String("ties", "efron", "handling of tied event times: efron or breslow")
			zph := fs.Bool("zph", false, "add the proportional-hazards test (cox.zph, km transform)")
			ci := fs.String("ci", "wald", "hazard-ratio interval: wald (summary.coxph's) or profile (profile likelihood)")
			return func(t *stats.Timing) (any, error) {
				switch {
				case *csvPath == "":
					return nil, errUsage("--csv is required")
				case *timeCol == "":
					return nil, errUsage("--time is required")
				case *eventCol == "":
					return nil, errUsage("--event is required")
				case *covs == "":
					return nil, errUsage("--covariates is required")
				case *ties != "efron" && *ties != "breslow":
					return nil, errUsage("--ties %q: want efron or breslow", *ties)
				case *ci != "wald" && *ci != "profile":
					return nil, errUsage("--ci %q: want wald or profile", *ci)
				case *ci == "profile" && *clusterCol != "":
					return nil, errUsage("--ci profile: profile-likelihood intervals ignore --cluster's robust variance; use --ci wald with --cluster")
				}
				covariates, categorical := splitList(*covs), splitList(*cats)
				if len(covariates) == 0 {
					return nil, errUsage("--covariates lists no column")
				}
				for _, c := range categorical {
					if !slices.Contains(covariates, c) {
						return nil, errUsage("--categorical %q is not among --covariates", c)
					}
				}

				t0 := time.Now()
				f, err := stats.ReadCSVFile(*csvPath)
				if err != nil {
					return nil, err
				}
				cols := append([]string{*timeCol, *eventCol}, covariates...)
				for _, c := range []string{*startCol, *strataCol, *clusterCol} {
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
				var d stats.CoxData
				if d.Stop, err = f.Floats(*timeCol, rows); err != nil {
					return nil, err
				}
				if *startCol != "" {
					if d.Start, err = f.Floats(*startCol, rows); err != nil {
						return nil, err
					}
				}
				if d.Event, err = f.Events(*eventCol, rows); err != nil {
					return nil, err
				}
				des, err := f.Design(rows, covariates, categorical)
				if err != nil {
					return nil, err
				}
				d.X, d.P, d.Names = des.X, des.P, des.Names
				d.Terms = coxTerms(des.Names, categorical)
				if *strataCol != "" {
					if d.Strata, err = f.Strings(*strataCol, rows); err != nil {
						return nil, err
					}
				}
				if *clusterCol != "" {
					if d.Cluster, err = f.Strings(*clusterCol, rows); err != nil {
						return nil, err
					}
				}
				t.ReadMS = msSince(t0)

				t0 = time.Now()
				fit, err := stats.Cox(d, stats.CoxOptions{Ties: *ties, CI: *ci})
				if err != nil {
					return nil, coxLineError(err, f, rows, *startCol, *timeCol)
				}
				if *zph {
					z, err := stats.CoxZPH(d, fit, "km")
					if err != nil {
						return nil, err
					}
					fit.ZPH = z
				}
				t.FitMS = msSince(t0)
				return fit, nil
			}
		},
	})
}

// coxTerms names the term of each design column: a categorical column's
// indicator columns ("name=level") belong to the term "name".
func coxTerms(names, categorical []string) []string {
	terms := make([]string, len(names))
	for j, nm := range names {
		terms[j] = nm
		for _, c := range categorical {
			if strings.HasPrefix(nm, c+"=") {
				terms[j] = c
			}
		}
	}
	return terms
}

// coxLineError turns a row error of the fit into one naming the CSV line.
func coxLineError(err error, f *stats.Frame, rows []int, startCol, timeCol string) error {
	var re *stats.CoxRowError
	if !errors.As(err, &re) {
		return err
	}
	col := re.Field
	switch re.Field {
	case "stop":
		col = timeCol
	case "start":
		col = startCol
	}
	return fmt.Errorf("cox: column %q, line %d: %s", col, f.Line(rows[re.Row]), re.Msg)
}
