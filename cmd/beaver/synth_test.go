package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/schema/pgtest"
)

func TestSynthOut(t *testing.T) {
	t.Parallel()
	a, b := t.TempDir(), t.TempDir()
	args := []string{"synth", "--persons", "300", "--years", "3", "--seed", "5", "--anomalies", "--truth-hr-comparator", "0.5"}
	out, code := runBeaver(t, "", append(args, "--out", a)...)
	require.Equal(t, 0, code, out)
	var sum struct {
		Persons int64            `json:"persons"`
		Rows    map[string]int64 `json:"rows"`
		Truth   struct {
			HRComparator float64 `json:"hr_comparator"`
			HRCurrentUse float64 `json:"hr_current_use"`
		} `json:"truth"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &sum), out)
	require.GreaterOrEqual(t, sum.Persons, int64(300))
	require.Equal(t, 0.5, sum.Truth.HRComparator)
	require.Equal(t, 2.0, sum.Truth.HRCurrentUse)
	out, code = runBeaver(t, "", append(args, "--out", b, "--workers", "1")...)
	require.Equal(t, 0, code, out)
	for _, name := range []string{"person", "enrolment", "sdo", "pharmacy", "direct_distribution", "exemption", "er", "outpatient", "cedap", "atc", "product", "outpatient_code"} {
		x, err := os.ReadFile(filepath.Join(a, name+".csv"))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, name+".csv"))
		require.NoError(t, err)
		require.True(t, bytes.Equal(x, y), "%s differs between runs", name)
		require.EqualValues(t, sum.Rows[name], bytes.Count(x, []byte("\n"))-1, name)
	}

	out, code = runBeaver(t, "", "synth", "--persons", "10")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "--out DIR or --load")
	out, code = runBeaver(t, "", "synth", "--persons", "10", "--out", a, "--truth-hr-current-use", "-1")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "hr_current_use")
}

// TestSynthLoad imports a small region through the validated import: every
// row is accepted, so the layouts, codes and dates are what etl load wants.
func TestSynthLoad(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	out, code := runBeaver(t, "", "synth", "--persons", "400", "--years", "3", "--seed", "8", "--load", "--database-url", url)
	require.Equal(t, 0, code, out)
	var sum struct {
		TotalRows int64 `json:"total_rows"`
		Load      struct {
			State        string           `json:"state"`
			RowsRejected int64            `json:"rows_rejected"`
			RejectedBy   map[string]int64 `json:"rejected_by_reason"`
		} `json:"load"`
	}
	require.NoError(t, json.Unmarshal([]byte(out[bytes.IndexByte([]byte(out), '{'):]), &sum), out)
	require.Equal(t, "published", sum.Load.State)
	require.Zero(t, sum.Load.RowsRejected, "rejected: %v", sum.Load.RejectedBy)
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	var n int64
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM pharmacy").Scan(&n))
	require.Positive(t, n)
}
