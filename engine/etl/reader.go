package etl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/beaver-analytics/beaver/schema/errs"
)

// FileError is a problem with a whole file: nothing of an import that
// contains such a file is published.
type FileError struct {
	Path   string
	Line   int64  // 0 when the problem is not on one line
	Column string // "" when the problem is not in one column
	Msg    string
}

// Unwrap makes a FileError an errs.Invalid: the file is wrong, and the
// message says where.
func (e *FileError) Unwrap() error { return errs.Invalid }

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %s", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// sniffSize is how much of a file decides its encoding.
const sniffSize = 64 << 10

// decoder turns the raw bytes of a CSV file into UTF-8: a file whose first
// 64 KiB are valid UTF-8 is read as UTF-8 and any invalid byte later is an
// error (with its line); any other file is read as Latin-1 (ISO 8859-1),
// where every byte is a character. A NUL byte is an error in both (a binary
// file, or UTF-16). It remembers the last byte so a missing final newline
// can be told.
type decoder struct {
	src    io.Reader
	latin1 bool
	raw    []byte
	carry  int // bytes of an incomplete UTF-8 sequence kept at raw[:carry]
	out    []byte
	lines  int64 // newlines in the bytes decoded so far
	last   byte
	err    error
	path   string
}

func newDecoder(path string, src *bufio.Reader) (*decoder, error) {
	head, err := src.Peek(sniffSize)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, &FileError{Path: path, Msg: "read: " + err.Error()}
	}
	if len(head) == 0 {
		return nil, &FileError{Path: path, Msg: "empty file"}
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		_, _ = src.Discard(3)
		head = head[3:]
	}
	d := &decoder{src: src, raw: make([]byte, 128<<10), path: path}
	d.latin1 = !utf8.Valid(trimPartialRune(head))
	return d, nil
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b.
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// Encoding names the encoding the file is read as.
func (d *decoder) Encoding() string {
	if d.latin1 {
		return "latin-1"
	}
	return "utf-8"
}

func (d *decoder) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		d.fill()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

func (d *decoder) fill() {
	n, err := io.ReadAtLeast(d.src, d.raw[d.carry:], 1)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	chunk := d.raw[:d.carry+n]
	if n > 0 {
		d.last = chunk[len(chunk)-1]
	}
	if i := bytes.IndexByte(chunk, 0); i >= 0 {
		d.err = &FileError{Path: d.path, Line: d.lines + int64(bytes.Count(chunk[:i], []byte("\n"))) + 1,
			Msg: "undecodable bytes: a NUL byte (a binary file, or UTF-16?); save it as UTF-8 or Latin-1 text"}
		return
	}
	var out []byte
	if d.latin1 {
		out = make([]byte, 0, len(chunk)+len(chunk)/8)
		for _, b := range chunk {
			if b < utf8.RuneSelf {
				out = append(out, b)
			} else {
				out = append(out, 0xC0|b>>6, 0x80|b&0x3F)
			}
		}
		d.carry = 0
	} else {
		whole := chunk
		if err == nil {
			whole = trimPartialRune(chunk)
		}
		if !utf8.Valid(whole) {
			bad := 0
			for bad < len(whole) {
				r, size := utf8.DecodeRune(whole[bad:])
				if r == utf8.RuneError && size <= 1 {
					break
				}
				bad += size
			}
			d.err = &FileError{Path: d.path, Line: d.lines + int64(bytes.Count(whole[:bad], []byte("\n"))) + 1,
				Msg: fmt.Sprintf("undecodable bytes: byte 0x%02x is not UTF-8, and the file began as UTF-8; save the whole file in one encoding (UTF-8 or Latin-1)", whole[bad])}
			return
		}
		out = append([]byte(nil), whole...)
		d.carry = copy(d.raw, chunk[len(whole):])
	}
	d.lines += int64(bytes.Count(out, []byte("\n")))
	d.out = out
	if err != nil {
		if err == io.EOF && d.carry > 0 {
			d.err = &FileError{Path: d.path, Line: d.lines + 1, Msg: "undecodable bytes: the file ends inside a UTF-8 character"}
			return
		}
		d.err = err
	}
}

// tableFile is an open input file of either format, read row by row.
type tableFile struct {
	header    []string
	delimiter rune   // CSV only
	encoding  string // "utf-8", "latin-1" or "parquet"
	// next returns the next row and its line number, or io.EOF; a
	// *rowError is a row to quarantine (reading goes on), any other error
	// fails the file.
	next func() ([]string, int, error)
	// complete reports whether the file ended with a newline (CSV only).
	complete func() bool
	// dataLines returns, once the file is read, how many rows it holds by
	// a count independent of the reader (the newlines the decoder saw, the
	// rows in a Parquet file's metadata), less the blank lines skipped: the
	// rows read must equal it.
	dataLines func() int64
	// checkText asks for every field to be checked for valid UTF-8 and NUL
	// bytes (Parquet strings: a CSV file's decoder has checked its bytes).
	checkText bool
	close     func()
}

// rowError is a row the reader cannot split into the header's fields: it
// is quarantined with its reason, and reading goes on with the next line.
type rowError struct {
	line   int
	fields int // fields found (field_count)
	column string
	reason string
	value  string
	detail string
}

func (e *rowError) Error() string { return fmt.Sprintf("line %d: %s: %s", e.line, e.reason, e.detail) }

// separator joins header names in messages as the file does.
func (t *tableFile) separator() string {
	if t.delimiter == 0 {
		return ", "
	}
	return string(t.delimiter)
}

// table reads the CSV file as a tableFile.
func (cf *csvFile) table() *tableFile {
	return &tableFile{
		header: cf.header, delimiter: cf.delimiter, encoding: cf.dec.Encoding(),
		next:     cf.next,
		complete: func() bool { return cf.dec.last == '\n' },
		dataLines: func() int64 {
			lines := cf.dec.lines
			if cf.dec.last != '\n' {
				lines++
			}
			return lines - 1 - cf.blank
		},
	}
}

// csvFile reads a CSV file one physical line at a time and splits each
// line into fields itself, so that a stray quote can never reach past its
// own line (see splitLine): one line is one row, read, published or
// quarantined.
type csvFile struct {
	path      string
	dec       *decoder
	br        *bufio.Reader
	header    []string
	delimiter rune
	line      int   // physical lines read, the header included
	blank     int64 // empty data lines, skipped
	rec       []string
}

// maxLine is the longest line read whole: a longer line is quarantined
// (field_too_long) and skipped, unread, without holding it in memory.
const maxLine = 1 << 20

// readLine returns the next physical line without its line break (and a
// final carriage return), or io.EOF. A line longer than maxLine is
// returned cut to its first 200 bytes, with long set.
func (cf *csvFile) readLine() (line string, long bool, err error) {
	b, err := cf.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// The reader's buffer is maxLine: this line is longer.
		head := string(b[:200])
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = cf.br.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return "", false, cf.readErr(err)
		}
		cf.line++
		return head, true, nil
	}
	if err != nil && err != io.EOF {
		return "", false, cf.readErr(err)
	}
	if len(b) == 0 && err == io.EOF {
		return "", false, io.EOF
	}
	cf.line++
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	return string(b), false, nil
}

// readErr is the file's error when reading the next line failed.
func (cf *csvFile) readErr(err error) error {
	var fe *FileError
	if errors.As(err, &fe) {
		return fe
	}
	return &FileError{Path: cf.path, Line: int64(cf.line + 1), Msg: "read: " + err.Error()}
}

// next returns the next non-blank line's fields and line number.
func (cf *csvFile) next() ([]string, int, error) {
	for {
		s, long, err := cf.readLine()
		if err != nil {
			return nil, 0, err
		}
		if long {
			return nil, cf.line, &rowError{line: cf.line, column: "*", reason: ReasonFieldTooLong, value: s,
				detail: fmt.Sprintf("the line is longer than %d bytes", maxLine)}
		}
		if s == "" {
			cf.blank++
			continue
		}
		rec, qe := splitLine(s, byte(cf.delimiter), cf.rec[:0])
		cf.rec = rec
		if qe != nil {
			qe.line = cf.line
			if qe.field < len(cf.header) {
				qe.column = cf.header[qe.field]
			}
			return rec, cf.line, qe.rowError
		}
		if len(rec) != len(cf.header) {
			return rec, cf.line, &rowError{line: cf.line, fields: len(rec), column: "*", reason: ReasonFieldCount,
				detail: fmt.Sprintf("%d fields, the header has %d", len(rec), len(cf.header))}
		}
		return rec, cf.line, nil
	}
}

// quoteError is a line whose quotes do not balance: field is the 0-based
// field where the quoting went wrong.
type quoteError struct {
	*rowError
	field int
}

// splitLine splits one line into its fields. A field that begins with a
// double quote is quoted: it ends at the next quote followed by the
// delimiter or the end of the line, may hold the delimiter, and writes a
// quote inside as two (""). A quoted field never spans lines: a quote not
// closed on its line, or closed and followed by other text, is a quoting
// error for this line alone. A quote inside an unquoted field is an
// ordinary character (5" tube).
func splitLine(s string, delim byte, rec []string) ([]string, *quoteError) {
	bad := func(at int, detail string) *quoteError {
		value := s[at:]
		if len(value) > 200 {
			value = value[:200]
		}
		return &quoteError{rowError: &rowError{column: "*", reason: ReasonBadQuote, value: value,
			detail: fmt.Sprintf("field %d: %s", len(rec)+1, detail)}, field: len(rec)}
	}
	i := 0
	for {
		if i < len(s) && s[i] == '"' {
			open := i
			j := i + 1
			start := j
			var esc []byte
			for {
				k := strings.IndexByte(s[j:], '"')
				if k < 0 {
					return rec, bad(open, "the quote that opens it is not closed on this line (a quoted field ends on its own line)")
				}
				j += k
				if j+1 < len(s) && s[j+1] == '"' {
					esc = append(esc, s[start:j+1]...)
					j += 2
					start = j
					continue
				}
				field := s[start:j]
				if esc != nil {
					field = string(append(esc, field...))
				}
				j++
				switch {
				case j == len(s):
					return append(rec, field), nil
				case s[j] != delim:
					return rec, bad(open, fmt.Sprintf("text after its closing quote (%q); write a quote inside a quoted field as \"\"", s[j:min(len(s), j+10)]))
				}
				rec = append(rec, field)
				i = j + 1
				break
			}
			continue
		}
		k := strings.IndexByte(s[i:], delim)
		if k < 0 {
			return append(rec, s[i:]), nil
		}
		rec = append(rec, s[i:i+k])
		i += k + 1
	}
}

// openCSV reads the header of a CSV file: it decides the encoding, the
// delimiter (';' or ',', whichever the header line has more of) and
// returns the header names in lower case.
func openCSV(path string, src io.Reader) (*csvFile, error) {
	dec, err := newDecoder(path, bufio.NewReaderSize(src, sniffSize))
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(dec, maxLine)
	var first []byte
	for size := 4096; ; size *= 2 {
		b, err := br.Peek(size)
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			first = b[:i]
			break
		}
		if err != nil {
			var fe *FileError
			if errors.As(err, &fe) {
				return nil, fe
			}
			first = b
			break
		}
		if size >= 1<<20 {
			return nil, &FileError{Path: path, Line: 1, Msg: "header line longer than 1 MiB: not a CSV file?"}
		}
	}
	line := strings.TrimRight(string(first), "\r")
	if strings.TrimSpace(line) == "" {
		return nil, &FileError{Path: path, Line: 1, Msg: "empty file: no header line"}
	}
	semi, comma := strings.Count(line, ";"), strings.Count(line, ",")
	delim := ';'
	switch {
	case semi == 0 && comma == 0:
		for _, other := range []struct{ sep, name string }{{"\t", "tabs"}, {"|", "'|'"}} {
			if strings.Contains(line, other.sep) {
				return nil, &FileError{Path: path, Line: 1, Msg: "wrong delimiter: the header is separated by " + other.name + "; Beaver reads ';' or ','"}
			}
		}
	case comma > semi:
		delim = ','
	}
	cf := &csvFile{path: path, dec: dec, br: br, delimiter: delim}
	text, _, err := cf.readLine()
	if err != nil {
		return nil, err
	}
	header, qe := splitLine(text, byte(delim), nil)
	if qe != nil {
		return nil, &FileError{Path: path, Line: 1, Msg: "read header: " + qe.detail}
	}
	names := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		names[i] = strings.ToLower(strings.TrimSpace(h))
		if names[i] == "" {
			return nil, &FileError{Path: path, Line: 1, Msg: fmt.Sprintf("header column %d has no name", i+1)}
		}
		if seen[names[i]] {
			return nil, &FileError{Path: path, Line: 1, Column: names[i], Msg: "column named twice in the header"}
		}
		seen[names[i]] = true
	}
	cf.header = names
	return cf, nil
}
