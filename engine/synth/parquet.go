package synth

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/beaver-analytics/beaver/engine/etl"
)

// ParquetRowGroup is the number of rows of a Parquet row group (the last
// one holds the rest). A flow's rows are gathered in Arrow builders until
// a row group is full, so it bounds each flow writer's memory; it depends
// on nothing but the rows, so the files are the same whatever the chunk
// size or the number of workers.
const ParquetRowGroup = 1 << 17

// parquetCreatedBy is written as the files' created_by instead of the
// library's default, so that the bytes do not depend on its version string.
const parquetCreatedBy = "beaver synth"

// arrowType returns the Arrow type a column of an import layout is written
// as: the types engine/etl reads back into the same text as the CSV layout
// (integers, doubles, Date32 days, booleans and UTF-8 strings).
func arrowType(t etl.Type) arrow.DataType {
	switch t {
	case etl.TypeInt:
		return arrow.PrimitiveTypes.Int64
	case etl.TypeSmallInt:
		return arrow.PrimitiveTypes.Int32
	case etl.TypeFloat:
		return arrow.PrimitiveTypes.Float64
	case etl.TypeDate:
		return arrow.FixedWidthTypes.Date32
	case etl.TypeBool:
		return arrow.FixedWidthTypes.Boolean
	default: // text, codes and HH:MM times
		return arrow.BinaryTypes.String
	}
}

// parquetWriter turns a flow's CSV rows (as the generator encodes them)
// into one Parquet file, row group by row group.
type parquetWriter struct {
	flow string
	f    *os.File
	bw   *bufio.Writer
	fw   *pqarrow.FileWriter
	rb   *array.RecordBuilder
	cols []func([]byte) error
	n    int   // rows in the builders
	rows int64 // rows taken, for error positions
}

// newParquetWriter creates path for flow with the columns of the CSV
// header, typed after the flow's import layout.
func newParquetWriter(path, flow, header string) (*parquetWriter, error) {
	layout := etl.FlowByName(flow)
	if layout == nil {
		return nil, fmt.Errorf("synth: parquet %s: no such flow in the import layouts", flow)
	}
	names := bytes.Split([]byte(header), []byte{','})
	fields := make([]arrow.Field, len(names))
	for i, n := range names {
		c := layout.Column(string(n))
		if c == nil {
			return nil, fmt.Errorf("synth: parquet %s: column %s is not in the import layout", flow, n)
		}
		fields[i] = arrow.Field{Name: c.Name, Type: arrowType(c.Type), Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	w := &parquetWriter{flow: flow, f: f, bw: bufio.NewWriterSize(f, 1<<20)}
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithCreatedBy(parquetCreatedBy),
		parquet.WithMaxRowGroupLength(ParquetRowGroup),
	)
	w.fw, err = pqarrow.NewFileWriter(schema, nopCloser{w.bw}, props, pqarrow.DefaultWriterProps())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("synth: parquet %s: %w", flow, err)
	}
	w.rb = array.NewRecordBuilder(memory.DefaultAllocator, schema)
	for i := range fields {
		w.cols = append(w.cols, appender(w.rb.Field(i)))
	}
	return w, nil
}

// nopCloser keeps the Parquet writer from closing the buffered writer:
// the buffer is flushed and the file closed by parquetWriter.close.
type nopCloser struct{ *bufio.Writer }

func (nopCloser) Close() error { return nil }

// appender returns the function appending one CSV field to b; an empty
// field is a null, as an empty CSV field is a missing value to the import.
func appender(b array.Builder) func([]byte) error {
	switch b := b.(type) {
	case *array.Int64Builder:
		return func(v []byte) error {
			if len(v) == 0 {
				b.AppendNull()
				return nil
			}
			x, err := strconv.ParseInt(string(v), 10, 64)
			b.Append(x)
			return err
		}
	case *array.Int32Builder:
		return func(v []byte) error {
			if len(v) == 0 {
				b.AppendNull()
				return nil
			}
			x, err := strconv.ParseInt(string(v), 10, 32)
			b.Append(int32(x))
			return err
		}
	case *array.Float64Builder:
		return func(v []byte) error {
			if len(v) == 0 {
				b.AppendNull()
				return nil
			}
			x, err := strconv.ParseFloat(string(v), 64)
			b.Append(x)
			return err
		}
	case *array.Date32Builder:
		return func(v []byte) error {
			if len(v) == 0 {
				b.AppendNull()
				return nil
			}
			d, ok := parseISODate(v)
			if !ok {
				return fmt.Errorf("not a YYYY-MM-DD date: %q", v)
			}
			b.Append(arrow.Date32(d))
			return nil
		}
	case *array.BooleanBuilder:
		return func(v []byte) error {
			switch string(v) {
			case "":
				b.AppendNull()
			case "1":
				b.Append(true)
			case "0":
				b.Append(false)
			default:
				return fmt.Errorf("not a boolean 1/0: %q", v)
			}
			return nil
		}
	case *array.StringBuilder:
		return func(v []byte) error {
			if len(v) == 0 {
				b.AppendNull()
			} else {
				b.BinaryBuilder.Append(v)
			}
			return nil
		}
	}
	panic(fmt.Sprintf("synth: no appender for %T", b))
}

// parseISODate returns the day number of YYYY-MM-DD.
func parseISODate(v []byte) (int, bool) {
	if len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return 0, false
	}
	n := func(s []byte) int {
		x := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return -1
			}
			x = x*10 + int(c-'0')
		}
		return x
	}
	y, m, d := n(v[:4]), n(v[5:7]), n(v[8:])
	if y < 0 || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, false
	}
	return daysFromCivil(y, m, d), true
}

// lines appends a chunk's encoded rows: comma-separated lines with no
// quoting (the person-level flows never hold a comma or a quote).
func (w *parquetWriter) lines(b []byte) error {
	for len(b) > 0 {
		end := bytes.IndexByte(b, '\n')
		if end < 0 {
			end = len(b)
		}
		line := b[:end]
		b = b[min(end+1, len(b)):]
		w.rows++
		for i, col := range w.cols {
			var v []byte
			c, last := bytes.IndexByte(line, ','), i == len(w.cols)-1
			switch {
			case last && c >= 0:
				return fmt.Errorf("synth: parquet %s row %d: more than %d fields", w.flow, w.rows, len(w.cols))
			case last:
				v = line
			case c < 0:
				return fmt.Errorf("synth: parquet %s row %d: %d fields, want %d", w.flow, w.rows, i+1, len(w.cols))
			default:
				v, line = line[:c], line[c+1:]
			}
			if bytes.IndexByte(v, '"') >= 0 {
				return fmt.Errorf("synth: parquet %s row %d: quoted field %d", w.flow, w.rows, i+1)
			}
			if err := col(v); err != nil {
				return fmt.Errorf("synth: parquet %s row %d field %d: %w", w.flow, w.rows, i+1, err)
			}
		}
		if err := w.rowDone(); err != nil {
			return err
		}
	}
	return nil
}

// records appends parsed CSV records (the dictionaries, whose names may be
// quoted).
func (w *parquetWriter) records(recs [][]string) error {
	for _, rec := range recs {
		w.rows++
		if len(rec) != len(w.cols) {
			return fmt.Errorf("synth: parquet %s row %d: %d fields, want %d", w.flow, w.rows, len(rec), len(w.cols))
		}
		for i, col := range w.cols {
			if err := col([]byte(rec[i])); err != nil {
				return fmt.Errorf("synth: parquet %s row %d field %d: %w", w.flow, w.rows, i+1, err)
			}
		}
		if err := w.rowDone(); err != nil {
			return err
		}
	}
	return nil
}

func (w *parquetWriter) rowDone() error {
	w.n++
	if w.n == ParquetRowGroup {
		return w.flush()
	}
	return nil
}

// flush writes the builders' rows as one row group.
func (w *parquetWriter) flush() error {
	rec := w.rb.NewRecordBatch()
	defer rec.Release()
	w.n = 0
	if err := w.fw.Write(rec); err != nil {
		return fmt.Errorf("synth: parquet %s: %w", w.flow, err)
	}
	return nil
}

// close writes the last row group and the footer, and closes the file.
// A file with no rows still gets one empty row group, so that it has the
// same shape as any other.
func (w *parquetWriter) close() error {
	defer w.rb.Release()
	if w.n > 0 || w.rows == 0 {
		if err := w.flush(); err != nil {
			w.f.Close()
			return err
		}
	}
	if err := w.fw.Close(); err != nil {
		w.f.Close()
		return fmt.Errorf("synth: parquet %s: %w", w.flow, err)
	}
	if err := w.bw.Flush(); err != nil {
		w.f.Close()
		return fmt.Errorf("synth: write %s: %w", w.flow, err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("synth: close %s: %w", w.flow, err)
	}
	return nil
}

// abort closes the file after a failure elsewhere.
func (w *parquetWriter) abort() {
	w.rb.Release()
	w.f.Close()
}

// writeParquetDictionary writes a dictionary's CSV content as Parquet.
func writeParquetDictionary(path, flow string, content []byte) (int64, error) {
	recs, err := csv.NewReader(bytes.NewReader(content)).ReadAll()
	if err != nil || len(recs) == 0 {
		return 0, fmt.Errorf("synth: dictionary %s: %v", flow, err)
	}
	header := recs[0][0]
	for _, h := range recs[0][1:] {
		header += "," + h
	}
	w, err := newParquetWriter(path, flow, header)
	if err != nil {
		return 0, err
	}
	if err := w.records(recs[1:]); err != nil {
		w.abort()
		return 0, err
	}
	return int64(len(recs) - 1), w.close()
}
