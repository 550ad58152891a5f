package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/synth"
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

	// The event flows were streamed, hashed as read: the same region
	// written out and imported as files is the same content, unchanged;
	// so is the same region streamed again.
	var streamed int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM etl_import_file
		WHERE path LIKE 'synth/%' AND state = 'published' AND length(sha256) = 64 AND bytes > 0`).Scan(&streamed))
	require.Equal(t, 7, streamed)
	dir := t.TempDir()
	out, code = runBeaver(t, "", "synth", "--persons", "400", "--years", "3", "--seed", "8", "--out", dir)
	require.Equal(t, 0, code, out)
	out, code = runBeaver(t, "", "etl", "load", dir, "--database-url", url)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "unchanged")
	out, code = runBeaver(t, "", "synth", "--persons", "400", "--years", "3", "--seed", "8", "--load", "--database-url", url)
	require.Equal(t, 0, code, out)
	require.NoError(t, json.Unmarshal([]byte(out[bytes.IndexByte([]byte(out), '{'):]), &sum), out)
	require.Equal(t, "unchanged", sum.Load.State)
	var versions int
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM etl_data_version").Scan(&versions))
	require.Equal(t, 1, versions)
}

// TestSynthParquetLoad loads the same region once as CSV and once as
// Parquet (--format parquet) through the validated import: both publish
// with no rejected row, the same rows per flow and the same sums of the
// numeric columns, so the Parquet types read back as the CSV text.
func TestSynthParquetLoad(t *testing.T) {
	t.Parallel()
	type published struct {
		Rows   map[string]int64
		Sums   [4]float64
		Admits int64
		Deaths int64
	}
	load := func(format string) published {
		url := pgtest.URL(t)
		out, code := runBeaver(t, "", "synth", "--persons", "300", "--years", "3", "--seed", "12", "--format", format, "--load", "--database-url", url)
		require.Equal(t, 0, code, out)
		var sum struct {
			Load struct {
				State        string           `json:"state"`
				RowsRejected int64            `json:"rows_rejected"`
				RejectedBy   map[string]int64 `json:"rejected_by_reason"`
				Files        []struct {
					Path     string `json:"path"`
					Encoding string `json:"encoding"`
				} `json:"files"`
			} `json:"load"`
		}
		require.NoError(t, json.Unmarshal([]byte(out[bytes.IndexByte([]byte(out), '{'):]), &sum), out)
		require.Equal(t, "published", sum.Load.State)
		require.Zero(t, sum.Load.RowsRejected, "%s rejected: %v", format, sum.Load.RejectedBy)
		require.Len(t, sum.Load.Files, 12)
		for _, f := range sum.Load.Files {
			require.Equal(t, "."+format, filepath.Ext(f.Path))
		}
		ctx := context.Background()
		pool, err := pgxpool.New(ctx, url)
		require.NoError(t, err)
		defer pool.Close()
		p := published{Rows: map[string]int64{}}
		for _, table := range []string{"dict_atc", "dict_product", "dict_outpatient", "person", "enrolment", "sdo", "pharmacy", "direct_distribution", "exemption", "er", "outpatient", "cedap"} {
			var n int64
			require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n))
			p.Rows[table] = n
		}
		// Sums of the doubles cast to numeric are exact, so they do not
		// depend on the order the import stored the rows in.
		require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT sum(cost::numeric) FROM pharmacy), (SELECT sum(packs::numeric) FROM pharmacy),
			(SELECT sum(tariff::numeric) FROM sdo), (SELECT sum(tariff::numeric) FROM outpatient)`).Scan(&p.Sums[0], &p.Sums[1], &p.Sums[2], &p.Sums[3]))
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FILTER (WHERE admitted) FROM er").Scan(&p.Admits))
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(death_date) FROM person").Scan(&p.Deaths))
		return p
	}
	c, q := load("csv"), load("parquet")
	require.Positive(t, c.Rows["pharmacy"])
	require.Positive(t, c.Admits)
	require.Equal(t, c, q)

	out, code := runBeaver(t, "", "synth", "--persons", "10", "--out", t.TempDir(), "--format", "xlsx")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "give csv or parquet")
}

// TestSynthProgressText: 250 of 1,000 persons and 1,000,000 rows in 10 s
// are 100,000 rows/s, and the other 750 persons take 30 s at that pace.
func TestSynthProgressText(t *testing.T) {
	t.Parallel()
	require.Equal(t, "synth: 250/1000 persons (25%), 1000000 rows, 100000 rows/s, ETA 30s",
		progressText("synth", synth.Progress{Done: 250, Total: 1000, Rows: 1_000_000, Elapsed: 10 * time.Second}))
	require.Equal(t, "synth: 0/1000 persons (0%), 0 rows, 0 rows/s, ETA ?",
		progressText("synth", synth.Progress{Total: 1000}))
}
