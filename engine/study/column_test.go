package study

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// frameOf builds a frame of n rows from Go values, as readFrame keeps
// them: int32 and int64 as int64, float64, bool, string, time.Time as a
// date; nil is NULL. The first non-nil value gives a column's type.
func frameOf(n int, cols map[string][]any) *frame {
	f := &frame{n: n, cols: map[string]*column{}}
	for name, vals := range cols {
		if len(vals) != n {
			panic(fmt.Sprintf("frameOf: column %s has %d values, not %d", name, len(vals), n))
		}
		var typ arrow.DataType = arrow.PrimitiveTypes.Float64
		for _, v := range vals {
			switch v.(type) {
			case nil:
				continue
			case int32, int64:
				typ = arrow.PrimitiveTypes.Int64
			case bool:
				typ = arrow.FixedWidthTypes.Boolean
			case string:
				typ = arrow.BinaryTypes.String
			case time.Time:
				typ = arrow.FixedWidthTypes.Date32
			}
			break
		}
		b := array.NewBuilder(memory.DefaultAllocator, typ)
		for _, v := range vals {
			switch x := v.(type) {
			case nil:
				b.AppendNull()
			case int32:
				b.(*array.Int64Builder).Append(int64(x))
			case int64:
				b.(*array.Int64Builder).Append(x)
			case float64:
				b.(*array.Float64Builder).Append(x)
			case bool:
				b.(*array.BooleanBuilder).Append(x)
			case string:
				b.(*array.StringBuilder).Append(x)
			case time.Time:
				b.(*array.Date32Builder).Append(arrow.Date32FromTime(x))
			default:
				panic(fmt.Sprintf("frameOf: column %s: value %v of type %T", name, v, v))
			}
		}
		f.cols[name] = newColumn(b.NewArray())
	}
	return f
}

// TestColumn: the readings of each type, NULLs, and take.
func TestColumn(t *testing.T) {
	t.Parallel()
	day := time.Date(2015, 3, 1, 0, 0, 0, 0, time.UTC)
	f := frameOf(3, map[string][]any{
		"i": {int64(3), nil, int32(-2)},
		"x": {1.5, 0.1, nil},
		"b": {true, false, nil},
		"s": {"A", nil, "B"},
		"d": {day, nil, day},
	})
	i, x, b, s, d := f.cols["i"], f.cols["x"], f.cols["b"], f.cols["s"], f.cols["d"]
	v, ok := i.num(0)
	require.True(t, ok)
	require.Equal(t, 3.0, v)
	_, ok = i.num(1)
	require.False(t, ok)
	require.True(t, i.null(1))
	txt, _ := i.text(2)
	require.Equal(t, "-2", txt)
	txt, _ = x.text(1)
	require.Equal(t, "0.1", txt)
	v, _ = b.num(0)
	require.Equal(t, 1.0, v)
	require.True(t, b.boolean(0))
	require.False(t, b.boolean(2))
	require.False(t, i.boolean(0))
	txt, _ = b.text(1)
	require.Equal(t, "false", txt)
	require.True(t, s.categorical())
	require.False(t, d.categorical())
	_, ok = d.num(0)
	require.False(t, ok, "a date is no number")
	txt, _ = d.text(0)
	require.Equal(t, fmt.Sprint(day), txt, "dates spell as pgx's time.Time did")
	_, ok = s.text(1)
	require.False(t, ok)

	sub := s.take([]int{2, 1})
	txt, _ = sub.text(0)
	require.Equal(t, "B", txt)
	require.True(t, sub.null(1))
	require.Equal(t, []float64{0.1, 1.5}, x.take([]int{1, 0}).f64)
}
