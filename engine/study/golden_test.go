package study_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/study"
)

var update = flag.Bool("update", false, "rewrite the example results documents in report/results/testdata")

// goldenDir holds the results documents of the three examples of
// docs/examples on the small region of region(t), profile left out. The
// report/results tests decode and re-encode them byte for byte; report's
// text renderer is golden-tested on them.
var goldenDir = filepath.Join("..", "..", "report", "results", "testdata")

// TestExampleDocuments runs the three example protocols on one small
// region and requires each results document (without its profile) to equal
// its golden file byte for byte. A change that alters a document on
// purpose (a new attrition line, say) rewrites them with -update, so that a
// reviewer reads the diff.
func TestExampleDocuments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	client := worker(t, pool, 4)
	cases := map[string][]byte{}
	for _, name := range []string{"comparator-new-users", "current-use", "hip-fracture-rates"} {
		cases[name] = example(t, name+".json")
	}
	// models: the comparator with the kinds the examples lack (logistic,
	// linear, stratified), as TestResultsModels adds them.
	var p map[string]any
	require.NoError(t, json.Unmarshal(example(t, "comparator-new-users.json"), &p))
	phases := p["phases"].(map[string]any)
	phases["analyses"] = append(phases["analyses"].([]any),
		map[string]any{"name": "logit", "kind": "logistic", "outcome": "ami", "horizon": 180, "covariates": []string{"age"}},
		map[string]any{"name": "lm", "kind": "linear", "dependent": "age", "covariates": []string{"exposure", "sex", "diabetes"}},
		map[string]any{"name": "by-sex", "kind": "cox", "outcome": "ami", "covariates": []string{"exposure"}, "stratify_by": "sex"},
		map[string]any{"name": "rates-by-sex", "kind": "rates", "outcome": "ami", "by": "exposure", "stratify_by": "sex"},
	)
	b, err := json.Marshal(p)
	require.NoError(t, err)
	cases["models"] = b
	for _, name := range []string{"comparator-new-users", "current-use", "hip-fracture-rates", "models"} {
		runID, err := submit(ctx, pool, client, cases[name], nil, 0)
		require.NoError(t, err, name)
		p := wait(t, pool, runID)
		require.Equal(t, study.StateDone, p.State, "%s: %s", name, p.Error)
		doc, err := service(pool, nil).Analyze(ctx, runID)
		require.NoError(t, err, name)
		got, err := json.MarshalIndent(doc, "", "  ")
		require.NoError(t, err, name)
		got = append(got, '\n')
		path := filepath.Join(goldenDir, name+".json")
		if *update {
			require.NoError(t, os.WriteFile(path, got, 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "run with -update to write %s", path)
		require.Equal(t, strings.Split(string(want), "\n"), strings.Split(string(got), "\n"), "%s: rerun with -update if the change is meant", name)
	}
}
