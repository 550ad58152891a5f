package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var updateText = flag.Bool("update", false, "rewrite the golden text summaries in report/testdata/text")

// TestResultsText: the readable summary of `beaver study results` of each
// example document in report/results/testdata equals its golden text in
// report/testdata/text byte for byte.
func TestResultsText(t *testing.T) {
	t.Parallel()
	docs, err := filepath.Glob(filepath.Join("..", "..", "report", "results", "testdata", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, docs)
	for _, path := range docs {
		doc, err := os.ReadFile(path)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, writeResults(&buf, doc, false), path)
		golden := filepath.Join("..", "..", "report", "testdata", "text", strings.TrimSuffix(filepath.Base(path), ".json")+".txt")
		if *updateText {
			require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
			continue
		}
		want, err := os.ReadFile(golden)
		require.NoError(t, err, "run with -update to write %s", golden)
		require.Equal(t, string(want), buf.String(), path)
	}
}
