package cohort_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/cohort/cohorttest"
)

// TestExamplesRun compiles every example study (templates bound with their
// defaults) and runs the plan on a random history: no SQL error, and the
// cohort is not empty for the comparator study.
func TestExamplesRun(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("../docs/examples/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	pool := history(t, randomHistory(2, 60))
	ctx := context.Background()
	for i, path := range paths {
		p := loadProtocol(t, path)
		if len(p.Parameters) > 0 {
			p, err = p.Bind(nil)
			require.NoError(t, err, path)
		}
		plan, err := cohort.Compile(p, cohort.Options{Schema: fmt.Sprintf("example_%d", i), Partitions: 2, DataVersion: 1, DataEnd: "2019-12-31"})
		require.NoError(t, err, path)
		require.NoError(t, cohorttest.Run(ctx, pool, plan), path)
		if filepath.Base(path) == "comparator-new-users.json" {
			n := queryPlan(t, pool, plan.Schema, 2, "SELECT count(*) FROM {cohort}")
			require.NotEqual(t, []string{"0"}, n)
		}
	}
}
