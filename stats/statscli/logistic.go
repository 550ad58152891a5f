package statscli

import (
	"flag"
	"time"

	"github.com/beaver-analytics/beaver/stats"
)

func init() {
	register("logistic", command{
		Summary: "logistic regression (R's glm, family = binomial)",
		Flags: func(fs *flag.FlagSet) func(t *stats.Timing) (any, error) {
			g := glmFlags(fs, "outcome column, 0/1 or true/false (required)")
			return func(t *stats.Timing) (any, error) {
				f, rows, d, err := g.load(t)
				if err != nil {
					return nil, err
				}
				t0 := time.Now()
				y, err := f.Events(*g.outcome, rows)
				if err != nil {
					return nil, err
				}
				res, err := stats.Logistic(y, d, stats.LogisticOptions{})
				t.FitMS = msSince(t0)
				if err != nil {
					return nil, glmLineError(err, f, rows, *g.outcome)
				}
				return res, nil
			}
		},
	})
}
