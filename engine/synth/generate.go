package synth

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Chunk is a run of consecutive top-level persons (residents, then
// immigrants), simulated and encoded as CSV rows.
type Chunk struct {
	// Index is the chunk's position; chunks reach the caller in order.
	Index int
	// First is the top-level index of the chunk's first person.
	First int
	// Persons are the simulated persons (newborns inside their mothers).
	Persons []*Person
	buf     buffers
}

// Rows returns the number of rows the chunk holds for a person-level flow.
func (c *Chunk) Rows(flow string) int64 {
	for i, f := range PersonFlows {
		if f == flow {
			return c.buf.rows[i]
		}
	}
	return 0
}

// Total returns the number of top-level persons a config simulates
// (residents and immigrants; newborns come on top).
func Total(cfg Config) (int, error) {
	r, err := newRegion(cfg)
	if err != nil {
		return 0, err
	}
	return r.total(), nil
}

// Generate simulates the region on cfg.Workers goroutines and calls fn
// with every chunk, in order, from one goroutine. At most a few chunks per
// worker are in memory at once. The output does not depend on Workers or
// ChunkSize.
func Generate(ctx context.Context, cfg Config, fn func(*Chunk) error) error {
	r, err := newRegion(cfg)
	if err != nil {
		return err
	}
	cfg = r.cfg
	total := r.total()
	size := cfg.ChunkSize
	n := (total + size - 1) / size
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	window := make(chan struct{}, 2*cfg.Workers)
	jobs := make(chan int)
	results := make(chan *Chunk, cfg.Workers)
	var wg sync.WaitGroup
	go func() {
		defer close(jobs)
		for i := 0; i < n; i++ {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for w := 0; w < cfg.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				c := &Chunk{Index: i, First: i * size}
				c.buf.asl = make([]string, len(r.p.ASLs))
				for k, a := range r.p.ASLs {
					c.buf.asl[k] = a.Code
				}
				for idx := c.First; idx < min(total, c.First+size); idx++ {
					p := r.simulateIndex(idx)
					c.Persons = append(c.Persons, p)
					c.buf.encode(p)
				}
				select {
				case results <- c:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	pending := map[int]*Chunk{}
	next := 0
	for c := range results {
		pending[c.Index] = c
		for {
			c, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if err := fn(c); err != nil {
				cancel()
				for range results {
				}
				return err
			}
			<-window
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if next != n {
		return fmt.Errorf("synth: generated %d of %d chunks", next, n)
	}
	return nil
}

// Progress is reported while a region is written.
type Progress struct {
	Done, Total int // top-level persons
	Rows        int64
	Elapsed     time.Duration
}

// Stats is what a written region holds.
type Stats struct {
	// Persons is the number of registry rows (newborns included).
	Persons int64
	// Rows are the rows written per flow (dictionaries included).
	Rows    map[string]int64
	Elapsed time.Duration
}

// TotalRows is the sum of Rows.
func (s Stats) TotalRows() int64 {
	var t int64
	for _, v := range s.Rows {
		t += v
	}
	return t
}

// Format is the file format of a written region.
type Format string

// The formats Write knows.
const (
	CSV     Format = "csv"
	Parquet Format = "parquet"
)

// WriteCSV writes the region to dir as CSV files (Write with CSV).
func WriteCSV(ctx context.Context, cfg Config, dir string, progress func(Progress)) (Stats, error) {
	return Write(ctx, cfg, dir, CSV, progress)
}

// Write writes the region to dir: one <flow>.csv or <flow>.parquet per
// flow (the dictionaries atc, product and outpatient_code, and the
// person-level flows) in the import layouts of docs/flows.md. progress,
// when not nil, is called after every chunk.
func Write(ctx context.Context, cfg Config, dir string, format Format, progress func(Progress)) (Stats, error) {
	return writeDir(ctx, cfg, dir, format, PersonFlows[:], progress)
}

// RegistryFlows are the person-level flows that an import loads before the
// event flows (their rows are checked against these).
var RegistryFlows = []string{"person", "enrolment"}

// EventFlows are the person-level flows other than the registry.
var EventFlows = func() []string {
	var out []string
	for _, f := range PersonFlows {
		if !slices.Contains(RegistryFlows, f) {
			out = append(out, f)
		}
	}
	return out
}()

// WriteRegistry writes the dictionaries and the registry flows to dir as
// CSV, as Write does; the event flows are simulated (a person's registry
// rows depend on their whole simulated life) but not written. With
// StreamEvents over the same configuration it gives the same rows as
// Write.
func WriteRegistry(ctx context.Context, cfg Config, dir string, progress func(Progress)) (Stats, error) {
	return writeDir(ctx, cfg, dir, CSV, RegistryFlows, progress)
}

// StreamEvents generates the region and writes the CSV rows of the event
// flows, each header first, to the writers named by flow, chunk by chunk,
// in person order: the bytes Write would put in <flow>.csv. Flows without
// a writer are simulated but not written. The writers are written
// alternately, so whoever reads them must read them all at once (an
// io.Pipe per flow read by one goroutine each). StreamEvents does not close
// them.
func StreamEvents(ctx context.Context, cfg Config, w map[string]io.Writer, progress func(Progress)) (Stats, error) {
	var sinks [numFlows]flowSink
	for i, name := range PersonFlows {
		wr, ok := w[name]
		if !ok {
			continue
		}
		if slices.Contains(RegistryFlows, name) {
			return Stats{}, fmt.Errorf("synth: %s is a registry flow, not an event flow", name)
		}
		s := &streamSink{name: name, w: wr}
		if err := s.write([]byte(headers[i] + "\n")); err != nil {
			return Stats{}, err
		}
		sinks[i] = s
	}
	for name := range w {
		if !slices.Contains(EventFlows, name) {
			return Stats{}, fmt.Errorf("synth: no event flow %q", name)
		}
	}
	total, err := Total(cfg)
	if err != nil {
		return Stats{}, err
	}
	return generateInto(ctx, cfg, total, &sinks, progress)
}

// writeDir writes the dictionaries and the person-level flows named in
// flows to dir.
func writeDir(ctx context.Context, cfg Config, dir string, format Format, flows []string, progress func(Progress)) (Stats, error) {
	st := Stats{Rows: map[string]int64{}}
	if format != CSV && format != Parquet {
		return st, fmt.Errorf("synth: unknown format %q (csv or parquet)", format)
	}
	r, err := newRegion(cfg)
	if err != nil {
		return st, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return st, fmt.Errorf("synth: %w", err)
	}
	ext := "." + string(format)
	dicts := r.dictionaries()
	for _, name := range DictionaryFlows {
		b := dicts[name]
		path := filepath.Join(dir, name+ext)
		if format == Parquet {
			n, err := writeParquetDictionary(path, name, b)
			if err != nil {
				return st, err
			}
			st.Rows[name] = n
			continue
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return st, fmt.Errorf("synth: write %s: %w", name, err)
		}
		st.Rows[name] = int64(countLines(b) - 1)
	}
	var sinks [numFlows]flowSink
	defer func() {
		for _, s := range sinks {
			if s != nil {
				s.abort()
			}
		}
	}()
	for i, name := range PersonFlows {
		if !slices.Contains(flows, name) {
			continue
		}
		path := filepath.Join(dir, name+ext)
		if format == Parquet {
			w, err := newParquetWriter(path, name, headers[i])
			if err != nil {
				return st, err
			}
			sinks[i] = startParquet(w)
			continue
		}
		f, err := os.Create(path)
		if err != nil {
			return st, fmt.Errorf("synth: %w", err)
		}
		s := &csvSink{name: name, f: f, w: bufio.NewWriterSize(f, 1<<20)}
		s.w.WriteString(headers[i] + "\n")
		sinks[i] = s
	}
	gst, err := generateInto(ctx, cfg, r.total(), &sinks, progress)
	if err != nil {
		return st, err
	}
	for i, s := range sinks {
		if s == nil {
			continue
		}
		sinks[i] = nil
		if err := s.close(); err != nil {
			return st, err
		}
	}
	for k, v := range gst.Rows {
		st.Rows[k] = v
	}
	st.Persons, st.Elapsed = gst.Persons, gst.Elapsed
	return st, nil
}

// generateInto runs the generator and hands each chunk's rows to the sinks
// that are not nil, in person order; total is the persons Generate will
// simulate, for the progress. Stats count the rows of every flow, written
// or not.
func generateInto(ctx context.Context, cfg Config, total int, sinks *[numFlows]flowSink, progress func(Progress)) (Stats, error) {
	began := time.Now()
	st := Stats{Rows: map[string]int64{}}
	var rows int64
	done := 0
	err := Generate(ctx, cfg, func(c *Chunk) error {
		for i, s := range sinks {
			if s != nil {
				if err := s.write(c.buf.b[i]); err != nil {
					return err
				}
			}
			st.Rows[PersonFlows[i]] += c.buf.rows[i]
			rows += c.buf.rows[i]
		}
		st.Persons += c.buf.rows[flowPerson]
		done += len(c.Persons)
		if progress != nil {
			progress(Progress{Done: done, Total: total, Rows: rows, Elapsed: time.Since(began)})
		}
		return nil
	})
	st.Elapsed = time.Since(began)
	return st, err
}

// streamSink writes the rows to a writer as they come.
type streamSink struct {
	name string
	w    io.Writer
}

func (s *streamSink) write(b []byte) error {
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("synth: write %s: %w", s.name, err)
	}
	return nil
}

func (s *streamSink) close() error { return nil }
func (s *streamSink) abort()       {}

// flowSink receives a person-level flow's encoded rows, chunk by chunk.
type flowSink interface {
	// write takes a chunk's rows; the sink may keep b until close.
	write(b []byte) error
	// close finishes the file.
	close() error
	// abort closes the file after a failure.
	abort()
}

// csvSink writes the rows as they are.
type csvSink struct {
	name string
	f    *os.File
	w    *bufio.Writer
}

func (s *csvSink) write(b []byte) error {
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("synth: write %s: %w", s.name, err)
	}
	return nil
}

func (s *csvSink) close() error {
	if err := s.w.Flush(); err != nil {
		s.f.Close()
		return fmt.Errorf("synth: write %s: %w", s.name, err)
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("synth: close %s: %w", s.name, err)
	}
	return nil
}

func (s *csvSink) abort() { s.f.Close() }

// parquetSink converts a flow's rows to Parquet on a goroutine of its own,
// so that the flows are encoded in parallel with each other and with the
// simulation; a few chunks queue per flow at most.
type parquetSink struct {
	w      *parquetWriter
	ch     chan []byte
	done   chan error
	failed atomic.Pointer[error]
}

func startParquet(w *parquetWriter) *parquetSink {
	s := &parquetSink{w: w, ch: make(chan []byte, 4), done: make(chan error, 1)}
	go func() {
		var err error
		for b := range s.ch {
			if err == nil {
				if err = w.lines(b); err != nil {
					s.failed.Store(&err)
				}
			}
		}
		s.done <- err
	}()
	return s
}

func (s *parquetSink) write(b []byte) error {
	if err := s.failed.Load(); err != nil {
		return *err
	}
	s.ch <- b
	return nil
}

func (s *parquetSink) close() error {
	close(s.ch)
	if err := <-s.done; err != nil {
		s.w.abort()
		return err
	}
	return s.w.close()
}

func (s *parquetSink) abort() {
	close(s.ch)
	<-s.done
	s.w.abort()
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}
