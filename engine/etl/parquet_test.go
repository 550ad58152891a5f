package etl_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// writePersonsParquet writes a registry file with typed columns: dates as
// Arrow date32, the municipality as a string, one null death date per row
// but the last, and a birth date after the import date on row 3.
func writePersonsParquet(t *testing.T, path string) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "person_id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "sex", Type: arrow.BinaryTypes.String},
		{Name: "birth_date", Type: arrow.FixedWidthTypes.Date32},
		{Name: "death_date", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "birth_municipality", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	date := func(s string) arrow.Date32 {
		return arrow.Date32FromTime(mustDate(t, s))
	}
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"F", "M", "F"}, nil)
	b.Field(2).(*array.Date32Builder).AppendValues([]arrow.Date32{date("1950-03-12"), date("1961-07-01"), date("2030-01-01")}, nil)
	b.Field(3).(*array.Date32Builder).AppendValues([]arrow.Date32{0, date("2021-03-15"), 0}, []bool{false, true, false})
	b.Field(4).(*array.StringBuilder).AppendValues([]string{"015146", "", ""}, []bool{true, false, false})
	rec := b.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(path)
	require.NoError(t, err)
	w, err := pqarrow.NewFileWriter(schema, f, nil, pqarrow.DefaultWriterProps())
	require.NoError(t, err)
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
}

func mustDate(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	require.NoError(t, err)
	return d
}

func TestLoadParquet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	path := filepath.Join(t.TempDir(), "person.parquet")
	writePersonsParquet(t, path)
	res, err := etl.Load(ctx, pool, []string{path}, opts())
	require.NoError(t, err)
	require.Equal(t, etl.StatePublished, res.State)
	require.Equal(t, int64(3), res.RowsRead)
	require.Equal(t, int64(2), res.RowsPublished)
	require.Equal(t, "parquet", res.Files[0].Encoding)

	var sex, municipality string
	var death *string
	require.NoError(t, pool.QueryRow(ctx, "SELECT sex, coalesce(birth_municipality, ''), death_date::text FROM person WHERE person_id = 2").Scan(&sex, &municipality, &death))
	require.Equal(t, "M", sex)
	require.Equal(t, "", municipality)
	require.NotNil(t, death)
	require.Equal(t, "2021-03-15", *death)

	// Row 3 (line 4, counting a header line as CSV files do) is after the
	// import date.
	var line int64
	var column, reason string
	require.NoError(t, pool.QueryRow(ctx, "SELECT line, column_name, reason FROM etl_quarantine WHERE import_id = $1", res.ImportID).Scan(&line, &column, &reason))
	require.Equal(t, int64(4), line)
	require.Equal(t, "birth_date", column)
	require.Equal(t, etl.ReasonDateFuture, reason)
}

func TestLoadBrokenParquet(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "person.parquet")
	require.NoError(t, os.WriteFile(path, []byte("PAR1 this is not parquet"), 0o644))
	_, err := etl.Load(context.Background(), pgtest.Pool(t), []string{path}, opts())
	require.Error(t, err)
	require.Contains(t, err.Error(), "not a readable Parquet file")
	require.Contains(t, err.Error(), path)
}

// Parquet strings that PostgreSQL would refuse (invalid UTF-8, NUL bytes)
// are quarantined row by row with their reason (issue 14, point 2: the
// whole import failed on a raw SQLSTATE 22021 COPY error). The registry
// rows go through staging, the pharmacy rows through the leaves.
func TestLoadParquetBadText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	dir := t.TempDir()
	write := func(name string, fields []arrow.Field, fill func(b *array.RecordBuilder)) string {
		schema := arrow.NewSchema(fields, nil)
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		fill(b)
		rec := b.NewRecordBatch()
		defer rec.Release()
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		require.NoError(t, err)
		w, err := pqarrow.NewFileWriter(schema, f, nil, pqarrow.DefaultWriterProps())
		require.NoError(t, err)
		require.NoError(t, w.Write(rec))
		require.NoError(t, w.Close())
		return path
	}
	str := func(name string) arrow.Field { return arrow.Field{Name: name, Type: arrow.BinaryTypes.String} }
	person := write("person.parquet", []arrow.Field{{Name: "person_id", Type: arrow.PrimitiveTypes.Int64}, str("sex"), str("birth_date"), str("birth_municipality")},
		func(b *array.RecordBuilder) {
			b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
			b.Field(1).(*array.StringBuilder).AppendValues([]string{"F", "M", "F"}, nil)
			b.Field(2).(*array.StringBuilder).AppendValues([]string{"1950-03-12", "1961-07-01", "1970-01-31"}, nil)
			b.Field(3).(*array.StringBuilder).AppendValues([]string{"015146", "01\xff5146", "015146"}, nil)
		})
	pharmacy := write("pharmacy.parquet", []arrow.Field{{Name: "person_id", Type: arrow.PrimitiveTypes.Int64}, str("dispensing_date"), str("aic"), str("packs"), str("prescriber_id")},
		func(b *array.RecordBuilder) {
			b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 1, 1, 3}, nil)
			b.Field(1).(*array.StringBuilder).AppendValues([]string{"2022-01-01", "2022-01-02", "2022-01-03", "2022-01-04"}, nil)
			b.Field(2).(*array.StringBuilder).AppendValues([]string{"012345678", "012345678", "012345678", "012345678"}, nil)
			b.Field(3).(*array.StringBuilder).AppendValues([]string{"1", "1", "1", "1"}, nil)
			b.Field(4).(*array.StringBuilder).AppendValues([]string{"GP1", "GP\x002", "GP\xe83", "GP4"}, nil)
		})
	product := filepath.Join(dir, "product.csv")
	require.NoError(t, os.WriteFile(product, []byte("aic,atc,name,valid_from\n012345678,A10BA02,metformin 500,2000-01-01\n"), 0o644))
	res, err := etl.Load(ctx, pool, []string{person, product, pharmacy}, opts())
	require.NoError(t, err)
	require.Equal(t, []quarantined{
		{"person.parquet", 3, "birth_municipality", etl.ReasonBadText},
		{"pharmacy.parquet", 3, "prescriber_id", etl.ReasonBadText},
		{"pharmacy.parquet", 4, "prescriber_id", etl.ReasonBadText},
	}, quarantine(t, pool, res.ImportID))
	require.EqualValues(t, 2, count(t, pool, "SELECT count(*) FROM person"))
	require.EqualValues(t, 2, count(t, pool, "SELECT count(*) FROM pharmacy"))
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM etl_quarantine WHERE import_id = $1 AND detail = 'a NUL byte at byte 3'", res.ImportID))
}
