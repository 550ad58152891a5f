package report_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/report"
	"github.com/beaver-analytics/beaver/report/results"
)

// updateText has its own name so that it never collides with another
// golden test's -update in this package.
var updateText = flag.Bool("update-text", false, "rewrite the golden text summaries in testdata/text")

// TestText renders each example document of report/results/testdata and
// compares it byte for byte with its golden summary in testdata/text (the
// text `beaver study results` printed before the renderer moved here).
func TestText(t *testing.T) {
	t.Parallel()
	docs, err := filepath.Glob(filepath.Join("results", "testdata", "*.json"))
	require.NoError(t, err)
	require.Len(t, docs, 4)
	for _, path := range docs {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		d, err := results.Decode(b)
		require.NoError(t, err, path)
		var buf bytes.Buffer
		require.NoError(t, report.Text(&buf, d), path)
		golden := filepath.Join("testdata", "text", strings.TrimSuffix(filepath.Base(path), ".json")+".txt")
		if *updateText {
			require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
			continue
		}
		want, err := os.ReadFile(golden)
		require.NoError(t, err, "run with -update-text to write %s", golden)
		require.Equal(t, string(want), buf.String(), path)
	}
}

// TestTextSuppressed: a suppressed count shows as "<" and the document's
// MinCount, a missing number as NA, a failed analysis with its reason.
func TestTextSuppressed(t *testing.T) {
	t.Parallel()
	d, err := results.Decode([]byte(`{"protocol_hash": "h", "data_version": 2, "data_end": "2020-12-31",
		"software_version": "beaver test", "min_count": 10,
		"attrition": [{"line": 0, "label": "index entries", "persons": null, "entries": 12, "suppressed": true}],
		"analyses": {
			"b": {"kind": "kaplan_meier", "result": {"conf_type": "log", "conf_level": 0.95,
				"groups": [{"group": null, "n": 12, "events": null, "median": null, "median_lower": null, "median_upper": null, "steps": []}]}},
			"a": {"kind": "cox", "result": null, "error": "no entry has follow-up"}},
		"warnings": ["w1"]}`))
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, report.Text(&buf, d))
	require.Equal(t, `protocol h, data version 2 (data end 2020-12-31), beaver test
attrition:
  index entries                                         <10 persons       12 entries
a (cox): not computed: no entry has follow-up
b (kaplan_meier):
  all                    12 entries      <10 events, median NA
warning: w1
`, buf.String())
}
