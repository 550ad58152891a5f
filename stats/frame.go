package stats

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// Frame is a parsed CSV file held column-wise.
//
// The file is read once into memory; each field is kept as a pair of
// offsets into that buffer (quoted fields are unescaped in place), and
// numbers are parsed only when a column is asked for with Floats or Events.
type Frame struct {
	data  string         // file contents, after in-place unescaping of quoted fields
	names []string       // header
	index map[string]int // column name → position
	cols  [][]uint32     // cols[j][2*i], cols[j][2*i+1]: start and end of field (i, j) in data
	lines []uint32       // 1-based file line of each data row
}

// maxCSVBytes is the largest file the offset representation can address.
const maxCSVBytes = math.MaxUint32

// ReadCSV parses a CSV file with a header row (see ReadCSVFile for the rules).
func ReadCSV(r io.Reader) (*Frame, error) {
	buf, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	return parseCSV(buf)
}

// ReadCSVFile reads and parses a CSV file with a header row: comma-separated
// (semicolon when the header has semicolons and no comma), RFC 4180 quoting,
// LF or CRLF line ends, UTF-8 byte order mark ignored, blank lines skipped.
// An empty field or NA is a missing value.
func ReadCSVFile(path string) (*Frame, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	f, err := parseCSV(buf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// NRows returns the number of data rows.
func (f *Frame) NRows() int { return len(f.lines) }

// Names returns the column names in file order.
func (f *Frame) Names() []string { return append([]string(nil), f.names...) }

// Line returns the 1-based line number in the file of data row i (header is
// line 1), for error messages.
func (f *Frame) Line(row int) int { return int(f.lines[row]) }

// field returns the raw value of row i in column j.
func (f *Frame) field(j, i int) string {
	c := f.cols[j]
	return f.data[c[2*i]:c[2*i+1]]
}

// column returns the position of a named column or a not-found error.
func (f *Frame) column(name string) (int, error) {
	j, ok := f.index[name]
	if !ok {
		return 0, fmt.Errorf("column %q not found; columns are: %s", name, strings.Join(f.names, ", "))
	}
	return j, nil
}

// isMissing reports whether a raw field is a missing value (empty or NA).
func isMissing(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || s == "NA"
}

// Complete checks that every named column exists (error: `column "x" not
// found; columns are: a, b, c`) and returns the indices of the rows in which
// none of them is missing (empty field or NA) — R's na.omit.
func (f *Frame) Complete(cols ...string) ([]int, error) {
	idx := make([]int, len(cols))
	for k, c := range cols {
		j, err := f.column(c)
		if err != nil {
			return nil, err
		}
		idx[k] = j
	}
	rows := make([]int, 0, f.NRows())
	for i := range f.NRows() {
		ok := true
		for _, j := range idx {
			if isMissing(f.field(j, i)) {
				ok = false
				break
			}
		}
		if ok {
			rows = append(rows, i)
		}
	}
	return rows, nil
}

// parallelRows is the number of rows above which column conversions are
// split across goroutines.
const parallelRows = 1 << 16

// convert runs fn over blocks of [0,n), in parallel when n is large, and
// returns the error of the lowest failing block.
func convert(n int, fn func(lo, hi int) error) error {
	workers := runtime.GOMAXPROCS(0)
	if n < parallelRows || workers < 2 {
		return fn(0, n)
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = fn(lo, hi)
		}()
	}
	wg.Wait()
	return firstNonNil(errs)
}

func firstNonNil(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// parseNumber parses a numeric field; it accepts what strconv.ParseFloat
// accepts, surrounded by spaces, and refuses missing and non-finite values.
func parseNumber(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if t == "" || t == "NA" {
		return 0, errors.New("missing value")
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return v, nil
}

// Floats parses a column at the given rows (error: `column "age", line 17:
// "abc" is not a number`). Missing and non-finite values are errors.
func (f *Frame) Floats(col string, rows []int) ([]float64, error) {
	j, err := f.column(col)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(rows))
	err = convert(len(rows), func(lo, hi int) error {
		for k := lo; k < hi; k++ {
			v, err := parseNumber(f.field(j, rows[k]))
			if err != nil {
				return fmt.Errorf("column %q, line %d: %w", col, f.Line(rows[k]), err)
			}
			out[k] = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Events parses a 0/1 (or true/false, TRUE/FALSE) column at the given rows
// (error names column, line and value).
func (f *Frame) Events(col string, rows []int) ([]bool, error) {
	j, err := f.column(col)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(rows))
	err = convert(len(rows), func(lo, hi int) error {
		for k := lo; k < hi; k++ {
			s := f.field(j, rows[k])
			switch strings.TrimSpace(s) {
			case "1", "true", "TRUE", "True":
				out[k] = true
			case "0", "false", "FALSE", "False":
				out[k] = false
			default:
				v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
				if err != nil || (v != 0 && v != 1) {
					return fmt.Errorf("column %q, line %d: %q is not 0/1 or true/false", col, f.Line(rows[k]), s)
				}
				out[k] = v == 1
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Strings returns a column's raw values at the given rows.
func (f *Frame) Strings(col string, rows []int) ([]string, error) {
	j, err := f.column(col)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for k, i := range rows {
		out[k] = f.field(j, i)
	}
	return out, nil
}

// parseCSV parses a whole file held in buf; it unescapes quoted fields in
// place, so buf is owned by the returned frame.
func parseCSV(buf []byte) (*Frame, error) {
	if len(buf) > maxCSVBytes {
		return nil, fmt.Errorf("csv: file of %d bytes is larger than the 4 GiB supported", len(buf))
	}
	buf = bytes.TrimPrefix(buf, []byte("\xef\xbb\xbf"))

	// Header: the first non-blank line.
	p, line := 0, 1
	for p < len(buf) {
		if buf[p] == '\n' {
			p, line = p+1, line+1
		} else if buf[p] == '\r' && p+1 < len(buf) && buf[p+1] == '\n' {
			p, line = p+2, line+1
		} else {
			break
		}
	}
	if p == len(buf) {
		return nil, errors.New("csv: empty file")
	}
	sep := byte(',')
	first := buf[p:]
	if k := bytes.IndexByte(first, '\n'); k >= 0 {
		first = first[:k]
	}
	if bytes.IndexByte(first, ',') < 0 && bytes.IndexByte(first, ';') >= 0 {
		sep = ';'
	}
	var hdr []uint32
	next, nl, err := parseRecord(buf, p, len(buf), sep, &hdr)
	if err != nil {
		return nil, fmt.Errorf("csv: line %d: %w", line, err)
	}
	ncol := len(hdr) / 2
	f := &Frame{names: make([]string, ncol), index: make(map[string]int, ncol)}
	for j := range ncol {
		name := string(buf[hdr[2*j]:hdr[2*j+1]])
		if strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("csv: line %d: column %d has an empty name", line, j+1)
		}
		if _, dup := f.index[name]; dup {
			return nil, fmt.Errorf("csv: line %d: duplicate column name %q", line, name)
		}
		f.names[j] = name
		f.index[name] = j
	}
	p, line = next, line+nl+1

	// Body: split into chunks at line ends and parse them in parallel, unless
	// a quote appears (a quoted field may hold a line end).
	body := buf[p:]
	chunks := []int{p, len(buf)}
	if workers := runtime.GOMAXPROCS(0); workers > 1 && len(body) > 1<<20 && bytes.IndexByte(body, '"') < 0 {
		nch := 4 * workers
		chunks = chunks[:1]
		for c := 1; c < nch; c++ {
			at := p + len(body)*c/nch
			if at <= chunks[len(chunks)-1] {
				continue
			}
			k := bytes.IndexByte(buf[at:], '\n')
			if k < 0 {
				break
			}
			at += k + 1
			if at > chunks[len(chunks)-1] && at < len(buf) {
				chunks = append(chunks, at)
			}
		}
		chunks = append(chunks, len(buf))
	}
	nch := len(chunks) - 1
	// Upper bound of rows (and first line) of each chunk.
	bound := make([]int, nch+1)
	lineAt := make([]int, nch+1)
	lineAt[0] = line
	var wg sync.WaitGroup
	for c := range nch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seg := buf[chunks[c]:chunks[c+1]]
			n := bytes.Count(seg, []byte{'\n'})
			bound[c+1] = n
			if len(seg) > 0 && seg[len(seg)-1] != '\n' {
				bound[c+1]++
			}
		}()
	}
	wg.Wait()
	for c := range nch {
		lineAt[c+1] = lineAt[c] + bound[c+1] // exact when chunks hold no quotes (nch > 1)
		bound[c+1] += bound[c]
	}
	total := bound[nch]
	f.cols = make([][]uint32, ncol)
	for j := range f.cols {
		f.cols[j] = make([]uint32, 2*total)
	}
	f.lines = make([]uint32, total)
	got := make([]int, nch)
	errs := make([]error, nch)
	for c := range nch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[c], errs[c] = f.parseRows(buf, chunks[c], chunks[c+1], lineAt[c], sep, bound[c])
		}()
	}
	wg.Wait()
	if err := firstNonNil(errs); err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	// Close the gaps left by blank lines.
	n := got[0]
	for c := 1; c < nch; c++ {
		if bound[c] != n {
			for j := range f.cols {
				copy(f.cols[j][2*n:], f.cols[j][2*bound[c]:2*(bound[c]+got[c])])
			}
			copy(f.lines[n:], f.lines[bound[c]:bound[c]+got[c]])
		}
		n += got[c]
	}
	if n == 0 {
		return nil, errors.New("csv: no data rows")
	}
	for j := range f.cols {
		f.cols[j] = f.cols[j][: 2*n : 2*n]
	}
	f.lines = f.lines[:n:n]
	f.data = unsafe.String(unsafe.SliceData(buf), len(buf))
	return f, nil
}

// parseRows parses the records in buf[lo:hi], the first on the given line,
// into rows base, base+1, ... and returns how many it stored.
func (f *Frame) parseRows(buf []byte, lo, hi, line int, sep byte, base int) (int, error) {
	ncol := len(f.cols)
	rec := make([]uint32, 0, 2*ncol)
	p, r := lo, base
	for p < hi {
		if buf[p] == '\n' {
			p, line = p+1, line+1
			continue
		}
		if buf[p] == '\r' && p+1 < hi && buf[p+1] == '\n' {
			p, line = p+2, line+1
			continue
		}
		next, nl, err := parseRecord(buf, p, hi, sep, &rec)
		if err != nil {
			return 0, fmt.Errorf("line %d: %w", line, err)
		}
		if len(rec) != 2*ncol {
			return 0, fmt.Errorf("line %d: %d fields, header has %d", line, len(rec)/2, ncol)
		}
		for j, c := range f.cols {
			c[2*r], c[2*r+1] = rec[2*j], rec[2*j+1]
		}
		f.lines[r] = uint32(line)
		r++
		p, line = next, line+nl+1
	}
	return r - base, nil
}

// parseRecord parses one record starting at buf[p] (not past hi), replacing
// *rec with the start/end offsets of its fields. It returns the offset after
// the record's line end and how many line ends were inside quoted fields.
// Quoted fields are unescaped in place, starting at their opening quote.
func parseRecord(buf []byte, p, hi int, sep byte, rec *[]uint32) (next, nl int, err error) {
	*rec = (*rec)[:0]
	for {
		var s, e int
		if p < hi && buf[p] == '"' {
			s = p
			w := p
			p++
			for {
				k := bytes.IndexByte(buf[p:hi], '"')
				if k < 0 {
					return 0, 0, errors.New("quoted field not closed")
				}
				nl += bytes.Count(buf[p:p+k], []byte{'\n'})
				w += copy(buf[w:], buf[p:p+k])
				p += k + 1
				if p < hi && buf[p] == '"' {
					buf[w] = '"'
					w, p = w+1, p+1
					continue
				}
				break
			}
			e = w
			if p < hi && buf[p] == '\r' && (p+1 == hi || buf[p+1] == '\n') {
				p++
			}
			if p < hi && buf[p] != sep && buf[p] != '\n' {
				return 0, 0, fmt.Errorf("unexpected %q after a closing quote", buf[p])
			}
		} else {
			s = p
			for p < hi && buf[p] != sep && buf[p] != '\n' {
				p++
			}
			e = p
			if e > s && buf[e-1] == '\r' && (p == hi || buf[p] == '\n') {
				e--
			}
		}
		*rec = append(*rec, uint32(s), uint32(e))
		if p < hi && buf[p] == sep {
			p++
			continue
		}
		if p < hi { // '\n'
			p++
		}
		return p, nl, nil
	}
}
