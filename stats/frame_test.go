package stats

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustRead(t testing.TB, s string) *Frame {
	t.Helper()
	f, err := ReadCSV(strings.NewReader(s))
	require.NoError(t, err)
	return f
}

func allRows(f *Frame) []int {
	rows := make([]int, f.NRows())
	for i := range rows {
		rows[i] = i
	}
	return rows
}

func TestReadCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		names []string
		cells [][]string // rows of raw values
		lines []int
	}{
		{"plain", "a,b\n1,2\n3,4\n", []string{"a", "b"}, [][]string{{"1", "2"}, {"3", "4"}}, []int{2, 3}},
		{"no final newline", "a,b\n1,2\n3,4", []string{"a", "b"}, [][]string{{"1", "2"}, {"3", "4"}}, []int{2, 3}},
		{"crlf", "a,b\r\n1,2\r\n3,\r\n", []string{"a", "b"}, [][]string{{"1", "2"}, {"3", ""}}, []int{2, 3}},
		{"bom", "\xef\xbb\xbfa,b\n1,2\n", []string{"a", "b"}, [][]string{{"1", "2"}}, []int{2}},
		{"semicolon", "a;b\n1,5;2\n", []string{"a", "b"}, [][]string{{"1,5", "2"}}, []int{2}},
		{"comma wins", "a,b;c\n1,2;3\n", []string{"a", "b;c"}, [][]string{{"1", "2;3"}}, []int{2}},
		{"quoted", "name,x\n\"Smith, J\",1\n\"say \"\"hi\"\"\",2\n", []string{"name", "x"},
			[][]string{{"Smith, J", "1"}, {`say "hi"`, "2"}}, []int{2, 3}},
		{"quoted newline", "name,x\n\"two\r\nlines\",1\n\"\",2\r\n", []string{"name", "x"},
			[][]string{{"two\r\nlines", "1"}, {"", "2"}}, []int{2, 4}},
		{"quoted header", "\"a b\",\"c\"\"\"\n1,2\n", []string{"a b", `c"`}, [][]string{{"1", "2"}}, []int{2}},
		{"blank lines skipped", "\na,b\n\n1,2\r\n\r\n3,4\n\n", []string{"a", "b"}, [][]string{{"1", "2"}, {"3", "4"}}, []int{4, 6}},
		{"single column", "y\n1\nNA\n2\n", []string{"y"}, [][]string{{"1"}, {"NA"}, {"2"}}, []int{2, 3, 4}},
		{"quoted crlf end", "a,b\r\n1,\"x\"\r\n2,\"y\"\r", []string{"a", "b"}, [][]string{{"1", "x"}, {"2", "y"}}, []int{2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := mustRead(t, tt.in)
			assert.Equal(t, tt.names, f.Names())
			require.Equal(t, len(tt.cells), f.NRows())
			for j, name := range tt.names {
				got, err := f.Strings(name, allRows(f))
				require.NoError(t, err)
				for i := range tt.cells {
					assert.Equal(t, tt.cells[i][j], got[i], "row %d column %q", i, name)
				}
			}
			for i, l := range tt.lines {
				assert.Equal(t, l, f.Line(i), "line of row %d", i)
			}
		})
	}
}

func TestReadCSVErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, err string }{
		{"empty", "", "csv: empty file"},
		{"blank", "\n\r\n", "csv: empty file"},
		{"no rows", "a,b\n", "csv: no data rows"},
		{"no rows blank", "a,b\n\n\n", "csv: no data rows"},
		{"fields", "a,b,c\n1,2,3\n1,2\n", "csv: line 3: 2 fields, header has 3"},
		{"too many", "a,b\n1,2\n\n1,2,3\n", "csv: line 4: 3 fields, header has 2"},
		{"duplicate", "a,b,a\n1,2,3\n", `csv: line 1: duplicate column name "a"`},
		{"empty name", "a,,b\n1,2,3\n", "csv: line 1: column 2 has an empty name"},
		{"unclosed", "a,b\n1,\"2\n3,4\n", "csv: line 2: quoted field not closed"},
		{"after quote", "a,b\n1,\"2\"x\n", `csv: line 2: unexpected 'x' after a closing quote`},
		{"line after quoted newline", "a,b\n\"x\ny\",1\n1\n", "csv: line 4: 1 fields, header has 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadCSV(strings.NewReader(tt.in))
			require.Error(t, err)
			assert.Equal(t, tt.err, err.Error())
		})
	}
}

func TestReadCSVFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.csv")
	require.NoError(t, os.WriteFile(path, []byte("a\n1\n"), 0o600))
	f, err := ReadCSVFile(path)
	require.NoError(t, err)
	assert.Equal(t, 1, f.NRows())

	require.NoError(t, os.WriteFile(path, []byte("a,b\n1\n"), 0o600))
	_, err = ReadCSVFile(path)
	assert.EqualError(t, err, path+": csv: line 2: 1 fields, header has 2")

	_, err = ReadCSVFile(filepath.Join(t.TempDir(), "missing.csv"))
	assert.ErrorContains(t, err, "read csv:")
}

// TestReadCSVParallel checks that the chunked parser agrees with the
// sequential one (a quote anywhere forces the sequential path) on a file
// large enough to be split, with blank lines at chunk edges.
func TestReadCSVParallel(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	sb.WriteString("id,x,g\n")
	n := 0
	for sb.Len() < 3<<20 {
		if rng.IntN(500) == 0 {
			sb.WriteString("\n")
		}
		fmt.Fprintf(&sb, "%d,%.6f,g%d\r\n", n, rng.NormFloat64(), rng.IntN(3))
		n++
	}
	par := mustRead(t, sb.String())
	seq := mustRead(t, sb.String()+"\"q\",1,x\n")
	require.Equal(t, n, par.NRows())
	require.Equal(t, n+1, seq.NRows())
	for _, col := range []string{"id", "x", "g"} {
		a, err := par.Strings(col, allRows(par))
		require.NoError(t, err)
		b, err := seq.Strings(col, allRows(par))
		require.NoError(t, err)
		require.Equal(t, a, b, col)
	}
	for i := range n {
		require.Equal(t, seq.Line(i), par.Line(i), "line of row %d", i)
	}
	ids, err := par.Floats("id", allRows(par))
	require.NoError(t, err)
	for i, v := range ids {
		require.Equal(t, float64(i), v)
	}
}

func TestComplete(t *testing.T) {
	t.Parallel()
	f := mustRead(t, "a,b,c\n1,2,3\nNA,2,3\n1,,3\n1, NA ,x\n4,5,\n")
	rows, err := f.Complete("a", "b")
	require.NoError(t, err)
	assert.Equal(t, []int{0, 4}, rows)
	rows, err = f.Complete("c")
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 2, 3}, rows)
	rows, err = f.Complete()
	require.NoError(t, err)
	assert.Len(t, rows, 5)
	_, err = f.Complete("a", "zz")
	assert.EqualError(t, err, `column "zz" not found; columns are: a, b, c`)
}

func TestFloats(t *testing.T) {
	t.Parallel()
	f := mustRead(t, "x,y\n1.5,abc\n -2e3 ,NA\n0x1p-2,Inf\n,1e999\n")
	x, err := f.Floats("x", []int{0, 1, 2})
	require.NoError(t, err)
	assert.Equal(t, []float64{1.5, -2000, 0.25}, x)
	tests := []struct {
		col  string
		row  int
		want string
	}{
		{"y", 0, `column "y", line 2: "abc" is not a number`},
		{"y", 1, `column "y", line 3: missing value`},
		{"y", 2, `column "y", line 4: "Inf" is not a finite number`},
		{"y", 3, `column "y", line 5: "1e999" is out of range`},
		{"x", 3, `column "x", line 5: missing value`},
		{"nope", 0, `column "nope" not found; columns are: x, y`},
	}
	for _, tt := range tests {
		_, err := f.Floats(tt.col, []int{tt.row})
		assert.EqualError(t, err, tt.want)
	}
}

func TestEvents(t *testing.T) {
	t.Parallel()
	f := mustRead(t, "e\n1\n0\ntrue\nFALSE\nTRUE\nfalse\n1.0\n2\nyes\n")
	ev, err := f.Events("e", []int{0, 1, 2, 3, 4, 5, 6})
	require.NoError(t, err)
	assert.Equal(t, []bool{true, false, true, false, true, false, true}, ev)
	_, err = f.Events("e", []int{7})
	assert.EqualError(t, err, `column "e", line 9: "2" is not 0/1 or true/false`)
	_, err = f.Events("e", []int{8})
	assert.EqualError(t, err, `column "e", line 10: "yes" is not 0/1 or true/false`)
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "a;b\n1;2\r\n", "\xef\xbb\xbfx\n\"a\"\"b\"\n", "a,b\n\"x\ny\",2\n",
		"a\n\n\n1\n", "", "\"", "a,b\n1,\"2", "a,a\n1,2\n", "a,b\r\n1,\"x\"\r",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		fr, err := ReadCSV(strings.NewReader(string(in)))
		if err != nil {
			return
		}
		rows := allRows(fr)
		require.Positive(t, fr.NRows())
		for _, name := range fr.Names() {
			v, err := fr.Strings(name, rows)
			require.NoError(t, err)
			require.Len(t, v, fr.NRows())
		}
		for j := range fr.cols {
			require.Len(t, fr.cols[j], 2*fr.NRows())
		}
		prev := 1
		for i := range rows {
			require.Greater(t, fr.Line(i), prev)
			prev = fr.Line(i)
		}
		_, _ = fr.Complete(fr.Names()...)
		_, _ = fr.Floats(fr.Names()[0], rows)
	})
}

// writeNumericCSV writes a CSV of n rows and k numeric columns of six
// decimals, seeded.
func writeNumericCSV(tb testing.TB, path string, n, k int) {
	tb.Helper()
	fh, err := os.Create(path)
	require.NoError(tb, err)
	w := bufio.NewWriterSize(fh, 1<<20)
	rng := rand.New(rand.NewPCG(42, 1))
	for j := range k {
		if j > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, "x%d", j+1)
	}
	w.WriteByte('\n')
	for range n {
		for j := range k {
			if j > 0 {
				w.WriteByte(',')
			}
			fmt.Fprintf(w, "%.6f", rng.NormFloat64()*10)
		}
		w.WriteByte('\n')
	}
	require.NoError(tb, w.Flush())
	require.NoError(tb, fh.Close())
}

// BenchmarkReadCSV1M reads 1,000,000 rows × 12 numeric columns; the
// "+floats" variant also parses every column as numbers.
func BenchmarkReadCSV1M(b *testing.B) {
	path := filepath.Join(b.TempDir(), "x.csv")
	writeNumericCSV(b, path, 1_000_000, 12)
	st, err := os.Stat(path)
	require.NoError(b, err)
	b.Run("read", func(b *testing.B) {
		b.SetBytes(st.Size())
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ReadCSVFile(path); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read+floats", func(b *testing.B) {
		b.SetBytes(st.Size())
		b.ReportAllocs()
		for b.Loop() {
			f, err := ReadCSVFile(path)
			if err != nil {
				b.Fatal(err)
			}
			rows, err := f.Complete(f.Names()...)
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range f.Names() {
				if _, err := f.Floats(c, rows); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
