package study

import (
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
)

// TestIdentities: a step's identity does not depend on the run's schema,
// and does depend on the partition count.
func TestIdentities(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docs/examples/comparator-new-users.json")
	require.NoError(t, err)
	p, err := cohort.DecodeBytes(b)
	require.NoError(t, err)
	idsOf := func(schema string, parts int) (map[string]string, map[string]string, *cohort.Plan) {
		opts := cohort.Options{Schema: schema, Partitions: parts, DataVersion: 3, DataEnd: "2019-12-31"}
		plan, err := cohort.Compile(p, opts)
		require.NoError(t, err)
		ids, tables, err := identities(p, opts, plan)
		require.NoError(t, err)
		return ids, tables, plan
	}
	a, tables, plan := idsOf("study_run_1", 2)
	b2, _, planB := idsOf("study_run_2", 2)
	c, _, _ := idsOf("study_run_3", 4)
	require.Equal(t, a, b2)
	for i, s := range plan.Steps {
		require.NotEqual(t, s.ID, planB.Steps[i].ID, "the compiler's IDs hold the schema")
		require.NotEqual(t, a[s.Name], c[s.Name], "step %s: 2 and 4 partitions", s.Name)
		require.Equal(t, pgx.Identifier{"study_run_1", tables[s.Name]}.Sanitize(), s.Table)
	}
}
