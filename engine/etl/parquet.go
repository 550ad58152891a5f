package etl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// openParquet reads a Parquet file through Apache Arrow, batch by batch,
// and hands its rows to the same validation as CSV rows, as text: strings
// as they are, numbers in Go's shortest form, dates and timestamps as
// YYYY-MM-DD. A row's "line" is its 1-based row number plus one, as if the
// file had a header line, so that quarantine positions read the same.
func openParquet(ctx context.Context, path string, fh *os.File) (*tableFile, error) {
	pf, err := file.NewParquetReader(fh)
	if err != nil {
		return nil, &FileError{Path: path, Msg: "not a readable Parquet file: " + err.Error()}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 16 * 1024}, memory.DefaultAllocator)
	if err != nil {
		return nil, &FileError{Path: path, Msg: "Parquet: " + err.Error()}
	}
	schema, err := fr.Schema()
	if err != nil {
		return nil, &FileError{Path: path, Msg: "Parquet schema: " + err.Error()}
	}
	header := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		header[i] = strings.ToLower(strings.TrimSpace(f.Name))
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return nil, &FileError{Path: path, Msg: "Parquet: " + err.Error()}
	}
	p := &parquetRows{path: path, rr: rr, rec: make([]string, len(header))}
	rows := pf.NumRows()
	return &tableFile{header: header, encoding: "parquet", next: p.next, close: rr.Release, checkText: true,
		dataLines: func() int64 { return rows }}, nil
}

type parquetRows struct {
	path  string
	rr    pqarrow.RecordReader
	batch arrow.RecordBatch
	row   int // next row of batch
	line  int
	rec   []string
}

func (p *parquetRows) next() ([]string, int, error) {
	for p.batch == nil || p.row >= int(p.batch.NumRows()) {
		if !p.rr.Next() {
			if err := p.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
				return nil, 0, &FileError{Path: p.path, Line: int64(p.line + 1), Msg: "Parquet: " + err.Error()}
			}
			return nil, 0, io.EOF
		}
		p.batch, p.row = p.rr.RecordBatch(), 0
	}
	for j := range p.rec {
		p.rec[j] = cellText(p.batch.Column(j), p.row)
	}
	p.row++
	p.line++
	return p.rec, p.line + 1, nil
}

// cellText renders one Arrow value as the text a CSV file would hold.
func cellText(col arrow.Array, i int) string {
	if col.IsNull(i) {
		return ""
	}
	switch a := col.(type) {
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'f', -1, 64)
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'f', -1, 32)
	case *array.Date32:
		return a.Value(i).ToTime().Format(time.DateOnly)
	case *array.Date64:
		return a.Value(i).ToTime().Format(time.DateOnly)
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC().Format(time.DateOnly)
	case *array.Dictionary:
		return cellText(a.Dictionary(), a.GetValueIndex(i))
	default:
		return fmt.Sprint(col.ValueStr(i))
	}
}
