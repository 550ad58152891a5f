package study

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// frame is the rows of one table read from every partition, in the order
// of the query (person_id, entry): one Arrow array per column, NULLs in
// the arrays' validity bitmaps. Integers (smallint, integer, bigint) are
// int64 arrays, floating-point numbers float64, booleans boolean, text
// string and dates date32: the types of the compiler's tables.
type frame struct {
	cols map[string]*column
	n    int
}

// column is one column of a frame.
type column struct {
	arr arrow.Array
	f64 []float64 // the float64 array's values (a view, no copy)
	i64 []int64   // the int64 array's values
}

func newColumn(arr arrow.Array) *column {
	c := &column{arr: arr}
	switch a := arr.(type) {
	case *array.Float64:
		c.f64 = a.Float64Values()
	case *array.Int64:
		c.i64 = a.Int64Values()
	}
	return c
}

// null reports whether row i is NULL.
func (c *column) null(i int) bool { return c.arr.IsNull(i) }

// num reads row i as a number (booleans as 0 and 1): ok false for NULL,
// text and dates.
func (c *column) num(i int) (float64, bool) {
	if c.arr.IsNull(i) {
		return 0, false
	}
	switch a := c.arr.(type) {
	case *array.Float64:
		return c.f64[i], true
	case *array.Int64:
		return float64(c.i64[i]), true
	case *array.Boolean:
		if a.Value(i) {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// boolean reads row i of a boolean column: false for NULL and for other
// types.
func (c *column) boolean(i int) bool {
	a, ok := c.arr.(*array.Boolean)
	return ok && a.IsValid(i) && a.Value(i)
}

// text reads row i as a categorical value: ok false for NULL. Numbers,
// booleans and dates are spelled as Go prints them (the frame once held
// the values pgx decodes, and the documents must not change).
func (c *column) text(i int) (string, bool) {
	if c.arr.IsNull(i) {
		return "", false
	}
	switch a := c.arr.(type) {
	case *array.String:
		return a.Value(i), true
	case *array.Float64:
		return strconv.FormatFloat(c.f64[i], 'g', -1, 64), true
	case *array.Int64:
		return strconv.FormatInt(c.i64[i], 10), true
	case *array.Boolean:
		return strconv.FormatBool(a.Value(i)), true
	case *array.Date32:
		return fmt.Sprint(a.Value(i).ToTime()), true
	}
	return c.arr.ValueStr(i), true
}

// categorical reports whether the column holds text (a categorical
// covariate) rather than numbers, booleans or dates.
func (c *column) categorical() bool { return c.arr.DataType().ID() == arrow.STRING }

// binary reports whether the column holds booleans.
func (c *column) binary() bool { return c.arr.DataType().ID() == arrow.BOOL }

// take returns the rows of c, in order, as a new column.
func (c *column) take(rows []int) *column {
	b := array.NewBuilder(memory.DefaultAllocator, c.arr.DataType())
	defer b.Release()
	b.Reserve(len(rows))
	for _, i := range rows {
		if c.arr.IsNull(i) {
			b.AppendNull()
			continue
		}
		switch a := c.arr.(type) {
		case *array.Float64:
			b.(*array.Float64Builder).Append(a.Value(i))
		case *array.Int64:
			b.(*array.Int64Builder).Append(a.Value(i))
		case *array.Boolean:
			b.(*array.BooleanBuilder).Append(a.Value(i))
		case *array.String:
			b.(*array.StringBuilder).Append(a.Value(i))
		case *array.Date32:
			b.(*array.Date32Builder).Append(a.Value(i))
		}
	}
	return newColumn(b.NewArray())
}

// pgEpochDays is 2000-01-01, PostgreSQL's day 0, in days since 1970-01-01,
// Arrow's.
const pgEpochDays = 10957

// appender decodes one value of PostgreSQL's binary format into a builder.
type appender func(b array.Builder, v []byte) error

// appenderFor returns the decoder of a column's PostgreSQL type and the
// Arrow type it is kept as.
func appenderFor(oid uint32) (arrow.DataType, appender, bool) {
	switch oid {
	case pgtype.Int2OID:
		return arrow.PrimitiveTypes.Int64, fixed(2, func(b array.Builder, v []byte) {
			b.(*array.Int64Builder).Append(int64(int16(binary.BigEndian.Uint16(v))))
		}), true
	case pgtype.Int4OID:
		return arrow.PrimitiveTypes.Int64, fixed(4, func(b array.Builder, v []byte) {
			b.(*array.Int64Builder).Append(int64(int32(binary.BigEndian.Uint32(v))))
		}), true
	case pgtype.Int8OID:
		return arrow.PrimitiveTypes.Int64, fixed(8, func(b array.Builder, v []byte) {
			b.(*array.Int64Builder).Append(int64(binary.BigEndian.Uint64(v)))
		}), true
	case pgtype.Float4OID:
		return arrow.PrimitiveTypes.Float64, fixed(4, func(b array.Builder, v []byte) {
			b.(*array.Float64Builder).Append(float64(math.Float32frombits(binary.BigEndian.Uint32(v))))
		}), true
	case pgtype.Float8OID:
		return arrow.PrimitiveTypes.Float64, fixed(8, func(b array.Builder, v []byte) {
			b.(*array.Float64Builder).Append(math.Float64frombits(binary.BigEndian.Uint64(v)))
		}), true
	case pgtype.BoolOID:
		return arrow.FixedWidthTypes.Boolean, fixed(1, func(b array.Builder, v []byte) {
			b.(*array.BooleanBuilder).Append(v[0] != 0)
		}), true
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID:
		return arrow.BinaryTypes.String, func(b array.Builder, v []byte) error {
			b.(*array.StringBuilder).BinaryBuilder.Append(v)
			return nil
		}, true
	case pgtype.DateOID:
		return arrow.FixedWidthTypes.Date32, func(b array.Builder, v []byte) error {
			if len(v) != 4 {
				return fmt.Errorf("a date of %d bytes", len(v))
			}
			d := int32(binary.BigEndian.Uint32(v))
			if d == math.MaxInt32 || d == math.MinInt32 {
				return fmt.Errorf("an infinite date")
			}
			b.(*array.Date32Builder).Append(arrow.Date32(d + pgEpochDays))
			return nil
		}, true
	}
	return nil, nil, false
}

// fixed checks a fixed-size value's length before decoding it.
func fixed(size int, f func(b array.Builder, v []byte)) appender {
	return func(b array.Builder, v []byte) error {
		if len(v) != size {
			return fmt.Errorf("a value of %d bytes where %d were expected", len(v), size)
		}
		f(b, v)
		return nil
	}
}

// readFrame reads the tables (one per partition) with the same columns as
// one sequence ordered by orderBy, in PostgreSQL's binary format straight
// into Arrow builders. One order across the partitions, not partition after
// partition: the analyses sum in row order, and floating-point sums in
// another order differ in their last digits, so the results would change
// with the partition count or on Citus (one table, shards in any order).
func readFrame(ctx context.Context, pool *pgxpool.Pool, tables []string, orderBy string) (*frame, error) {
	f := &frame{cols: map[string]*column{}}
	var names []string
	var builders []array.Builder
	var appenders []appender
	defer func() {
		for _, b := range builders {
			b.Release()
		}
	}()
	// The tables are a plan's quoted, schema-qualified table names; orderBy
	// is a constant of this package.
	selects := make([]string, len(tables))
	for i, t := range tables {
		selects[i] = "SELECT * FROM " + t
	}
	t := strings.Join(tables, ", ")
	rows, err := pool.Query(ctx, "SELECT * FROM ("+strings.Join(selects, " UNION ALL ")+") u ORDER BY "+orderBy, pgx.QueryResultFormats{pgx.BinaryFormatCode})
	if err != nil {
		return nil, err
	}
	fds := rows.FieldDescriptions()
	for _, fd := range fds {
		typ, app, ok := appenderFor(fd.DataTypeOID)
		if !ok {
			rows.Close()
			return nil, &deterministicError{fmt.Sprintf("column %s of %s has a type (OID %d) the analyses do not read", fd.Name, t, fd.DataTypeOID)}
		}
		names = append(names, fd.Name)
		builders = append(builders, array.NewBuilder(memory.DefaultAllocator, typ))
		appenders = append(appenders, app)
	}
	for rows.Next() {
		for i, v := range rows.RawValues() {
			if v == nil {
				builders[i].AppendNull()
				continue
			}
			if err := appenders[i](builders[i], v); err != nil {
				rows.Close()
				return nil, &deterministicError{fmt.Sprintf("column %s of %s: %v", names[i], t, err)}
			}
		}
		f.n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, name := range names {
		f.cols[name] = newColumn(builders[i].NewArray())
	}
	return f, nil
}
