package synth

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/require"
)

// TestParquet writes the same region as CSV and as Parquet and reads the
// Parquet files back: every cell renders to the CSV cell's value (numbers
// compared as numbers, since the CSV writes money with two decimals), the
// column types are those of the import layouts, row groups hold
// ParquetRowGroup rows but the last, and the bytes do not depend on the
// workers or the chunk size.
func TestParquet(t *testing.T) {
	t.Parallel()
	// 4,000 persons × 8 years give about 160,000 outpatient rows: two row
	// groups, the second partial.
	base := Config{Persons: 4000, Years: 8, Seed: 21, Anomalies: true}
	csvDir, pqDir := t.TempDir(), t.TempDir()
	stc, err := Write(context.Background(), base, csvDir, CSV, nil)
	require.NoError(t, err)
	stp, err := Write(context.Background(), base, pqDir, Parquet, nil)
	require.NoError(t, err)
	require.Equal(t, stc.Rows, stp.Rows)
	require.Greater(t, stp.Rows["outpatient"], int64(ParquetRowGroup), "the region should span two row groups")

	files, err := Files(pqDir)
	require.NoError(t, err)
	require.Len(t, files, len(PersonFlows)+len(DictionaryFlows))
	for _, path := range files {
		name := filepath.Base(path)
		name = name[:len(name)-len(".parquet")]
		want := readCSV(t, filepath.Join(csvDir, name+".csv"))
		got, types, groups := readParquet(t, path)
		require.Equal(t, want[0], got[0], "%s header", name)
		require.Len(t, got, len(want), "%s rows", name)
		for i := 1; i < len(want); i++ {
			for j := range want[i] {
				w, g := want[i][j], got[i][j]
				if w != g {
					// Money: "12.30" in CSV is the double 12.3.
					wf, err1 := strconv.ParseFloat(w, 64)
					gf, err2 := strconv.ParseFloat(g, 64)
					require.True(t, err1 == nil && err2 == nil && wf == gf, "%s row %d column %s: csv %q parquet %q", name, i, want[0][j], w, g)
				}
			}
		}
		for k, n := range groups {
			if k < len(groups)-1 {
				require.EqualValues(t, ParquetRowGroup, n, "%s row group %d", name, k)
			}
		}
		switch name {
		case "pharmacy":
			require.Equal(t, []string{"int64", "date32", "utf8", "utf8", "float64", "utf8", "float64", "float64"}, types)
		case "er":
			require.Equal(t, "bool", types[6])
		case "cedap":
			require.Equal(t, "int32", types[3])
		}
	}

	for _, variant := range []Config{
		{Persons: 4000, Years: 8, Seed: 21, Anomalies: true, Workers: 1, ChunkSize: 1000},
		{Persons: 4000, Years: 8, Seed: 21, Anomalies: true, Workers: 5, ChunkSize: 7},
	} {
		dir := t.TempDir()
		_, err := Write(context.Background(), variant, dir, Parquet, nil)
		require.NoError(t, err)
		for _, path := range files {
			a, err := os.ReadFile(path)
			require.NoError(t, err)
			b, err := os.ReadFile(filepath.Join(dir, filepath.Base(path)))
			require.NoError(t, err)
			require.True(t, bytes.Equal(a, b), "%s differs with workers %d chunk %d", filepath.Base(path), variant.Workers, variant.ChunkSize)
		}
	}
}

func TestFilesOneFormat(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := Config{Persons: 20, Years: 2, Seed: 1}
	_, err := Write(context.Background(), cfg, dir, CSV, nil)
	require.NoError(t, err)
	_, err = Write(context.Background(), cfg, dir, Parquet, nil)
	require.NoError(t, err)
	_, err = Files(dir)
	require.ErrorContains(t, err, "both atc.csv and atc.parquet")
	_, err = Write(context.Background(), cfg, dir, "xlsx", nil)
	require.ErrorContains(t, err, `unknown format "xlsx"`)
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	require.NoError(t, err)
	return recs
}

// readParquet returns the header and the rows of a Parquet file rendered
// as the CSV layout writes them (booleans as 1/0, dates ISO, numbers in
// their shortest form), the columns' Arrow types and the rows per row
// group.
func readParquet(t *testing.T, path string) ([][]string, []string, []int64) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	require.NoError(t, err)
	defer pf.Close()
	var groups []int64
	for i := 0; i < pf.NumRowGroups(); i++ {
		groups = append(groups, pf.RowGroup(i).NumRows())
	}
	require.Equal(t, parquetCreatedBy, pf.MetaData().GetCreatedBy())
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 10000}, memory.DefaultAllocator)
	require.NoError(t, err)
	schema, err := fr.Schema()
	require.NoError(t, err)
	var header, types []string
	for _, fd := range schema.Fields() {
		header = append(header, fd.Name)
		types = append(types, fd.Type.String())
	}
	out := [][]string{header}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	require.NoError(t, err)
	defer rr.Release()
	for rr.Next() {
		rec := rr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, rec.NumCols())
			for j := range row {
				row[j] = cell(rec.Column(j), i)
			}
			out = append(out, row)
		}
	}
	return out, types, groups
}

func cell(col arrow.Array, i int) string {
	if col.IsNull(i) {
		return ""
	}
	switch a := col.(type) {
	case *array.String:
		return a.Value(i)
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'f', -1, 64)
	case *array.Date32:
		return a.Value(i).ToTime().Format(time.DateOnly)
	case *array.Boolean:
		if a.Value(i) {
			return "1"
		}
		return "0"
	}
	panic("unexpected column type " + col.DataType().String())
}

// BenchmarkWrite measures generation with --out in both formats: rows per
// second over every flow (make bench; figures in docs/benchmarks.md).
func BenchmarkWrite(b *testing.B) {
	for _, f := range []Format{CSV, Parquet} {
		b.Run(string(f), func(b *testing.B) {
			dir := b.TempDir()
			var rows int64
			for i := 0; i < b.N; i++ {
				st, err := Write(context.Background(), Config{Persons: 20_000, Seed: 1}, dir, f, nil)
				require.NoError(b, err)
				rows = st.TotalRows()
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
