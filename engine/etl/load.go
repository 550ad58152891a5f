package etl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/schema"
	"github.com/beaver-analytics/beaver/schema/errs"
)

// Options configures one import. The zero value imports with today's date,
// detects every file's flow, and logs to slog.Default().
type Options struct {
	// Flow forces the flow of every file (otherwise detected from the file
	// name, then from the header).
	Flow string
	// ImportDate is the date no event may follow (default: today, UTC).
	ImportDate time.Time
	// StartedBy is recorded in the history (default: $USER or "unknown").
	StartedBy string
	// Partitions is passed to schema.EnsurePartitions (0: keep or default).
	Partitions int
	// AfterPublish runs after a successful publish with the new data
	// version (diagnostics, areas). Its error is logged and reported in the
	// result; the import stays published.
	AfterPublish func(ctx context.Context, version int64) error
	Logger       *slog.Logger
	// Streams are event flows read once, as a producer writes them (beaver
	// synth --load), imported with the files.
	Streams []Stream

	// failBeforeCommit, set by tests, is returned last inside the publishing
	// transaction, which it rolls back.
	failBeforeCommit error
	// beforeCommit, set by tests, runs last inside the publishing
	// transaction (to stop a Citus worker there, say).
	beforeCommit func() error
}

// WithDefaults returns the options with zero fields set to their defaults.
func (o Options) WithDefaults() Options {
	if o.ImportDate.IsZero() {
		y, m, d := time.Now().Date()
		o.ImportDate = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	if o.StartedBy == "" {
		o.StartedBy = os.Getenv("USER")
		if o.StartedBy == "" {
			o.StartedBy = "unknown"
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// ImportState is the state of an import, as etl_import records it.
type ImportState string

// Import states recorded in etl_import.
const (
	StateLoading   ImportState = "loading"   // running, or killed (the next import marks it abandoned)
	StatePublished ImportState = "published" // published a new data version
	StateUnchanged ImportState = "unchanged" // every file's content was published before: nothing to do
	StateFailed    ImportState = "failed"    // nothing published (a whole-file error, every row refused, ...)
	StateAbandoned ImportState = "abandoned" // the importing process stopped before publishing
)

// FileState is the state of one file of an import, as etl_import_file
// records it.
type FileState string

// File states recorded in etl_import_file.
const (
	FileLoading   FileState = "loading"   // not read yet, or being read
	FileStaged    FileState = "staged"    // read and checked, waiting for the publish
	FilePublished FileState = "published" // its rows are published (the content is not loaded again)
	FileSkipped   FileState = "skipped"   // its content was published before, or is another file's of the import
	FileFailed    FileState = "failed"    // a whole-file error, or every row of the import refused
)

// Result is what an import did.
type Result struct {
	ImportID      int64            `json:"import_id"`
	State         ImportState      `json:"state"`
	DataVersion   int64            `json:"data_version,omitempty"`
	ImportDate    string           `json:"import_date"`
	RowsRead      int64            `json:"rows_read"`
	RowsPublished int64            `json:"rows_published"`
	RowsRejected  int64            `json:"rows_rejected"`
	RejectedBy    map[string]int64 `json:"rejected_by_reason"`
	Warnings      []string         `json:"warnings,omitempty"`
	// DuplicateRows counts, by flow without a natural key, the rows that
	// repeat an earlier row of the import exactly (every column equal):
	// both are published, as the flow cannot tell a double send from two
	// identical events, but a data manager should see it.
	DuplicateRows map[string]int64 `json:"duplicate_rows,omitempty"`
	// RegistryConflicts are the published events that this import's
	// registry rows put outside their person's life (a death date moved
	// before them, a birth date after them), by flow. The events stay
	// published; the diagnostics count them too.
	RegistryConflicts []RegistryConflict `json:"registry_conflicts,omitempty"`
	Files             []*FileResult      `json:"files"`
	DurationMS        int64              `json:"duration_ms"`
	Timings           Timings            `json:"timings_ms"`
	Error             string             `json:"error,omitempty"`
}

// RegistryConflict counts one flow's published events that a registry
// update puts before their person's birth or after their death.
type RegistryConflict struct {
	Flow        string `json:"flow"`
	AfterDeath  int64  `json:"after_death"`
	BeforeBirth int64  `json:"before_birth"`
	Persons     int64  `json:"persons"`
}

// Timings splits an import's duration (milliseconds) into its stages, so
// that the index builds can be reported apart from the load.
type Timings struct {
	// LoadMS is reading, checking and copying the rows.
	LoadMS int64 `json:"load"`
	// IndexMS is building the indexes of the new rows before publishing.
	IndexMS int64 `json:"index"`
	// PublishMS is the publishing transaction.
	PublishMS int64 `json:"publish"`
}

// FileResult is what an import did with one file.
type FileResult struct {
	No        int       `json:"file_no"`
	Path      string    `json:"path"`
	Flow      string    `json:"flow,omitempty"`
	SHA256    string    `json:"sha256"`
	Bytes     int64     `json:"bytes"`
	Encoding  string    `json:"encoding,omitempty"`
	Delimiter string    `json:"delimiter,omitempty"`
	State     FileState `json:"state"`
	RowsRead  int64     `json:"rows_read"`
	// RowsPublished + RowsRejected = RowsRead for every file an import
	// publishes (checked before it commits).
	RowsPublished int64 `json:"rows_published"`
	RowsRejected  int64 `json:"rows_rejected"`
	// DuplicateRows counts the rows (of a flow without a natural key) that
	// repeat an earlier row of the import exactly.
	DuplicateRows int64    `json:"duplicate_rows,omitempty"`
	Ignored       []string `json:"ignored_columns,omitempty"`
	Note          string   `json:"note,omitempty"`
	Error         string   `json:"error,omitempty"`
	// Streamed is set for a Stream (read once; hashed as read).
	Streamed bool `json:"streamed,omitempty"`

	stream *Stream
	hash   hash.Hash // a stream's content, as read
}

// A Stream is an event flow's rows in its CSV layout, header first, read
// once as a producer writes them, instead of a file. Every row is checked
// as a file's is. The streams of an import are read all at once, after the
// registry and the dictionaries (from files), so a producer may write them
// alternately (an io.Pipe each). Load closes R when it has read it or
// gives up, so that a producer blocked writing to it gets an error. A
// stream's content hash is known only once read: a stream whose content
// was published before is dropped then, and an import whose every input
// was is "unchanged", as with files.
type Stream struct {
	// Name stands for the path in the history and in messages
	// ("synth/pharmacy.csv").
	Name string
	// Flow is the stream's flow, an event flow; no other file or stream
	// of the import may have it.
	Flow string
	R    io.ReadCloser
}

// ErrImportRunning is returned when another import holds the import lock
// (an errs.Conflict).
var ErrImportRunning = errs.Wrap(errs.Conflict, errors.New("another import is running"))

// pathErr is the error of a path given to import that cannot be read:
// errs.NotFound when it does not exist.
func pathErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errs.Wrap(errs.NotFound, err)
	}
	return err
}

// ExpandPaths turns directories into the CSV and Parquet files they hold
// (sorted by name, not recursive) and keeps files as given.
func ExpandPaths(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("etl: %w", pathErr(err))
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("etl: %w", pathErr(err))
		}
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if !e.IsDir() && (ext == ".csv" || ext == ".parquet") {
				out = append(out, filepath.Join(p, e.Name()))
			}
		}
	}
	return out, nil
}

// Load imports the files as one import: every file is validated into
// staging tables, and then everything is published in one transaction as
// a new data version — or, if any file has a whole-file error, nothing is.
// Files whose content was already published are skipped; when all are,
// the import is "unchanged". The returned error is nil only when the
// import published or was unchanged; the Result is returned in both cases
// when the import got as far as being recorded.
//
// Its errors wrap a kind of schema/errs: errs.Invalid for bad input (a
// FileError, ErrNothingToPublish, bad options), errs.NotFound for a path
// that does not exist, errs.Conflict for ErrImportRunning; any other is
// internal.
func Load(ctx context.Context, pool *pgxpool.Pool, paths []string, opts Options) (*Result, error) {
	res, err := load(ctx, pool, paths, opts)
	if err != nil {
		return res, fmt.Errorf("etl: %w", err)
	}
	return res, nil
}

// load is Load without the package's prefix on its errors.
func load(ctx context.Context, pool *pgxpool.Pool, paths []string, opts Options) (*Result, error) {
	opts = opts.WithDefaults()
	start := time.Now()
	if opts.Flow != "" && FlowByName(opts.Flow) == nil {
		return nil, fmt.Errorf("%w: unknown flow %q (known: %s)", errs.Invalid, opts.Flow, strings.Join(FlowNames(), ", "))
	}
	defer func() {
		for _, st := range opts.Streams {
			st.R.Close()
		}
	}()
	if len(paths) == 0 && len(opts.Streams) == 0 {
		return nil, fmt.Errorf("%w: no files to import", errs.Invalid)
	}
	res := &Result{RejectedBy: map[string]int64{}, ImportDate: opts.ImportDate.Format(time.DateOnly)}
	for i, p := range paths {
		sum, n, err := hashFile(p)
		if err != nil {
			return nil, pathErr(err)
		}
		res.Files = append(res.Files, &FileResult{No: i + 1, Path: p, SHA256: sum, Bytes: n, State: FileLoading})
	}
	streamFlows := map[string]bool{}
	for i := range opts.Streams {
		st := &opts.Streams[i]
		f := FlowByName(st.Flow)
		switch {
		case f == nil:
			return nil, fmt.Errorf("%w: stream %s: unknown flow %q", errs.Invalid, st.Name, st.Flow)
		case !leafFlow(f):
			return nil, fmt.Errorf("%w: stream %s: %s is not an event flow (the registry and dictionaries load from files, before the streams)", errs.Invalid, st.Name, st.Flow)
		case streamFlows[st.Flow]:
			return nil, fmt.Errorf("%w: two streams of flow %s", errs.Invalid, st.Flow)
		case opts.Flow != "" && opts.Flow != st.Flow:
			return nil, fmt.Errorf("%w: stream %s is flow %s, not %s", errs.Invalid, st.Name, st.Flow, opts.Flow)
		}
		streamFlows[st.Flow] = true
		res.Files = append(res.Files, &FileResult{No: len(res.Files) + 1, Path: st.Name, Flow: st.Flow,
			State: FileLoading, Streamed: true, stream: st})
	}

	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", lockImport).Scan(&locked); err != nil {
		return nil, fmt.Errorf("take import lock: %w", err)
	}
	if !locked {
		return nil, ErrImportRunning
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockImport) //nolint:errcheck
	if err := cleanup(ctx, conn.Conn()); err != nil {
		return nil, err
	}
	parts, err := schema.EnsurePartitions(ctx, pool, opts.Partitions)
	if err != nil {
		return nil, err
	}
	citus, err := schema.Citus(ctx, pool)
	if err != nil {
		return nil, err
	}
	if err := ensureDictionaries(ctx, pool); err != nil {
		return nil, err
	}

	if err := conn.QueryRow(ctx, `INSERT INTO etl_import (started_by, import_date) VALUES ($1, $2) RETURNING id`,
		opts.StartedBy, opts.ImportDate).Scan(&res.ImportID); err != nil {
		return nil, fmt.Errorf("record import: %w", err)
	}
	l := &loader{pool: pool, conn: conn.Conn(), opts: opts, res: res, staged: map[string]bool{}, start: start,
		parts: parts, citus: citus, leaves: map[string]bool{}}
	err = l.run(ctx)
	if err != nil {
		res.State = StateFailed
		res.Error = err.Error()
		if citus {
			// When a worker node went away, the pool's sessions hold
			// connections to it that each fail once more on their next
			// write: the next import starts on new sessions (this one's
			// is closed on release).
			defer pool.Reset()
		}
		// A publish that failed at its commit had already marked its
		// files published in memory: nothing of it is.
		res.DataVersion, res.RowsPublished = 0, 0
		for _, f := range res.Files {
			if f.State == FilePublished {
				f.State = FileStaged
			}
		}
		l.dropStaging(context.WithoutCancel(ctx))
		l.dropLeaves(context.WithoutCancel(ctx))
		if ferr := l.finish(context.WithoutCancel(ctx)); ferr != nil {
			opts.Logger.Error("record failed import", "import", res.ImportID, "err", ferr)
		}
		return res, err
	}
	if res.State == StatePublished && opts.AfterPublish != nil {
		if err := opts.AfterPublish(ctx, res.DataVersion); err != nil {
			res.Warnings = append(res.Warnings, "after publish: "+err.Error())
			opts.Logger.Error("after publish", "version", res.DataVersion, "err", err)
		}
	}
	return res, nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// cleanup removes what killed imports left: their staging tables and
// unattached leaves, and marks them abandoned. The caller holds the import
// lock, so no import is live.
func cleanup(ctx context.Context, conn *pgx.Conn) error {
	if err := dropFound(ctx, conn, "staging tables", `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE 'etl\_stage\_%'`); err != nil {
		return err
	}
	if err := dropLeftoverLeaves(ctx, conn); err != nil {
		return err
	}
	_, err := conn.Exec(ctx, `UPDATE etl_import SET state = 'abandoned', finished_at = now(),
		error = 'the importing process stopped before publishing (killed or crashed); nothing was published'
		WHERE state = 'loading'`)
	if err != nil {
		return fmt.Errorf("mark abandoned imports: %w", err)
	}
	return nil
}

// dropFound drops the tables the query names (what says which, in errors).
func dropFound(ctx context.Context, conn *pgx.Conn, what, query string, args ...any) error {
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("find leftover %s: %w", what, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("find leftover %s: %w", what, err)
	}
	for _, n := range names {
		if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+ident(n)); err != nil {
			return fmt.Errorf("drop leftover %s: %w", n, err)
		}
	}
	return nil
}

// loader is one import in progress.
type loader struct {
	pool     *pgxpool.Pool
	conn     *pgx.Conn // holds the import lock
	opts     Options
	res      *Result
	staged   map[string]bool // flows with a staging table
	start    time.Time
	rejects  []reject
	version  int64            // the data version this import publishes
	parts    int              // hash partitions of the flows
	citus    bool             // the flows are distributed by Citus (schema.InitCitus)
	leaves   map[string]bool  // tables with leaves in this import
	leafRows map[string]int64 // rows copied into the leaves, by table
	// mu guards, while several files load at once, the loader's
	// connection, rejects, the result's warnings and the leafLoad's rows.
	mu sync.Mutex
}

func (l *loader) stageTable(flow string) string {
	return fmt.Sprintf("etl_stage_%d_%s", l.res.ImportID, flow)
}

func (l *loader) rejectTable() string { return fmt.Sprintf("etl_stage_%d_reject", l.res.ImportID) }

func (l *loader) run(ctx context.Context) error {
	log := l.opts.Logger.With("import", l.res.ImportID)
	_, err := l.conn.Exec(ctx, "CREATE UNLOGGED TABLE "+ident(l.rejectTable())+
		" (file_no integer NOT NULL, line bigint NOT NULL, column_name text NOT NULL, reason text NOT NULL, value text, detail text)")
	if err != nil {
		return fmt.Errorf("create reject table: %w", err)
	}
	seen := map[string]int{}
	todo := 0
	for _, f := range l.res.Files {
		if f.Streamed {
			todo++
			continue
		}
		published, err := l.publishedNote(ctx, f)
		switch {
		case err != nil:
			return err
		case published != "":
			f.State, f.Note = FileSkipped, published
		case seen[f.SHA256] != 0:
			f.State = FileSkipped
			f.Note = fmt.Sprintf("same content as file %d of this import", seen[f.SHA256])
		default:
			seen[f.SHA256] = f.No
			todo++
		}
		if f.State == FileSkipped {
			log.Info("skipping file", "file", f.Path, "why", f.Note)
		}
	}
	if err := l.recordFiles(ctx); err != nil {
		return err
	}
	if todo == 0 {
		l.res.State = StateUnchanged
		l.dropStaging(ctx)
		return l.finish(ctx)
	}
	if err := l.reserveVersion(ctx); err != nil {
		return err
	}
	// The registry and the dictionaries load first, whatever the order of
	// the files, so that the event rows are checked against them in memory.
	var later, streams []*FileResult
	for _, f := range l.res.Files {
		if f.State == FileSkipped {
			continue
		}
		if f.Streamed {
			streams = append(streams, f)
			continue
		}
		_, _, closeFile, err := l.openFile(ctx, f)
		if err != nil {
			f.State = FileFailed
			f.Error = err.Error()
			return err
		}
		closeFile()
		if leafFlow(FlowByName(f.Flow)) {
			later = append(later, f)
			continue
		}
		log.Info("loading file", "file", f.Path)
		if err := l.loadFile(ctx, f); err != nil {
			f.State = FileFailed
			f.Error = err.Error()
			return err
		}
		f.State = FileStaged
		l.res.RowsRead += f.RowsRead
		log.Info("staged file", "file", f.Path, "flow", f.Flow, "rows_read", f.RowsRead, "encoding", f.Encoding)
	}
	if err := l.validate(ctx); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	if err := l.registryConflicts(ctx); err != nil {
		return err
	}
	for _, f := range later {
		for _, st := range streams {
			if f.Flow == st.Flow {
				err := &FileError{Path: f.Path, Msg: fmt.Sprintf("flow %s comes from the stream %s in this import", f.Flow, st.Path)}
				f.State, f.Error = FileFailed, err.Error()
				return err
			}
		}
	}
	if len(later)+len(streams) > 0 {
		var flows []*Flow
		for _, f := range append(append([]*FileResult{}, later...), streams...) {
			flows = append(flows, FlowByName(f.Flow))
		}
		chk, err := l.loadChecker(ctx, flows)
		if err != nil {
			return err
		}
		ll := &leafLoad{chk: chk, keys: map[string]map[keyHash]lineRef{}, rows: map[string]int64{}}
		for _, f := range later {
			log.Info("loading file", "file", f.Path)
			if err := l.loadLeafFile(ctx, f, ll, nil); err != nil {
				f.State = FileFailed
				f.Error = err.Error()
				return err
			}
			f.State = FileStaged
			l.res.RowsRead += f.RowsRead
			log.Info("loaded file", "file", f.Path, "flow", f.Flow, "rows_read", f.RowsRead, "encoding", f.Encoding)
		}
		if err := l.loadStreams(ctx, streams, ll); err != nil {
			return err
		}
		if l.res.State == StateUnchanged {
			l.dropLeaves(ctx)
			l.dropStaging(ctx)
			return l.finish(ctx)
		}
		if err := l.refusePublishedKeys(ctx, ll); err != nil {
			return err
		}
		l.leafRows = ll.rows
	}
	if refused, err := l.refuseAll(ctx); refused || err != nil {
		return err
	}
	if err := l.countDuplicates(ctx); err != nil {
		return err
	}
	l.res.Timings.LoadMS = time.Since(l.start).Milliseconds()
	t := time.Now()
	if err := l.buildLeafIndexes(ctx); err != nil {
		return fmt.Errorf("build indexes: %w", err)
	}
	l.res.Timings.IndexMS = time.Since(t).Milliseconds()
	t = time.Now()
	if err := l.publish(ctx); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	l.res.Timings.PublishMS = time.Since(t).Milliseconds()
	l.dropStaging(ctx)
	return nil
}

// publishedNote says which import published f's content (its SHA256)
// before, or "" when none did.
func (l *loader) publishedNote(ctx context.Context, f *FileResult) (string, error) {
	var version, importID int64
	err := l.conn.QueryRow(ctx, `SELECT i.data_version, i.id FROM etl_import_file f JOIN etl_import i ON i.id = f.import_id
		WHERE f.sha256 = $1 AND f.state = 'published' ORDER BY i.id DESC LIMIT 1`, f.SHA256).Scan(&version, &importID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("look up %s: %w", f.Path, err)
	}
	return fmt.Sprintf("same content already published by import %d (data version %d)", importID, version), nil
}

func (l *loader) recordFiles(ctx context.Context) error {
	for _, f := range l.res.Files {
		_, err := l.conn.Exec(ctx, `INSERT INTO etl_import_file (import_id, file_no, path, sha256, bytes, state)
			VALUES ($1, $2, $3, $4, $5, $6)`, l.res.ImportID, f.No, f.Path, f.SHA256, f.Bytes, f.State)
		if err != nil {
			return fmt.Errorf("record file %s: %w", f.Path, err)
		}
	}
	return nil
}

// finish records the import's outcome (its own statement, outside any
// publishing transaction).
func (l *loader) finish(ctx context.Context) error { return l.finishWith(ctx, l.conn) }

// execer is what a connection and a transaction offer to write with.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func (l *loader) finishWith(ctx context.Context, ex execer) error {
	l.res.DurationMS = time.Since(l.start).Milliseconds()
	summary, _ := json.Marshal(l.res)
	_, err := ex.Exec(ctx, `UPDATE etl_import SET state = $2, finished_at = now(), rows_read = $3,
		rows_published = $4, rows_rejected = $5, duration_ms = $6, error = nullif($7, ''), summary = $8
		WHERE id = $1`, l.res.ImportID, l.res.State, l.res.RowsRead, l.res.RowsPublished, l.res.RowsRejected,
		l.res.DurationMS, l.res.Error, summary)
	if err != nil {
		return err
	}
	for _, f := range l.res.Files {
		if _, err := ex.Exec(ctx, `UPDATE etl_import_file SET flow = nullif($3, ''), state = $4, rows_read = $5,
			rows_rejected = $6, error = nullif($7, ''), sha256 = $8, bytes = $9 WHERE import_id = $1 AND file_no = $2`,
			l.res.ImportID, f.No, f.Flow, f.State, f.RowsRead, f.RowsRejected, f.Error, f.SHA256, f.Bytes); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) dropStaging(ctx context.Context) {
	names := []string{l.rejectTable()}
	for flow := range l.staged {
		names = append(names, l.stageTable(flow))
	}
	for _, n := range names {
		if _, err := l.conn.Exec(ctx, "DROP TABLE IF EXISTS "+ident(n)); err != nil {
			l.opts.Logger.Warn("drop staging table", "table", n, "err", err)
		}
	}
}

// ensureStage creates the flow's staging table: file_no, line and every
// column of the layout, typed.
func (l *loader) ensureStage(ctx context.Context, f *Flow) error {
	if l.staged[f.Name] {
		return nil
	}
	cols := []string{"file_no integer NOT NULL", "line bigint NOT NULL"}
	for _, c := range f.Columns {
		cols = append(cols, ident(c.Name)+" "+c.Type.SQL())
	}
	if _, err := l.conn.Exec(ctx, "CREATE UNLOGGED TABLE "+ident(l.stageTable(f.Name))+" ("+strings.Join(cols, ", ")+")"); err != nil {
		return fmt.Errorf("create staging table for %s: %w", f.Name, err)
	}
	l.staged[f.Name] = true
	return nil
}

// openFile opens a file of either format positioned at its first row and
// finds its flow; the caller closes it with the returned function.
func (l *loader) openFile(ctx context.Context, fr *FileResult) (*tableFile, *Flow, func(), error) {
	var (
		tf     *tableFile
		source func() // closes what tf reads from
		err    error
	)
	switch {
	case fr.stream != nil: // CSV, hashed as it is read
		fr.hash = sha256.New()
		counted := &countWriter{w: fr.hash}
		source = func() {
			fr.stream.R.Close()
			fr.Bytes = counted.n
		}
		var cf *csvFile
		if cf, err = openCSV(fr.Path, io.TeeReader(fr.stream.R, counted)); err == nil {
			tf = cf.table()
		}
	default:
		fh, ferr := os.Open(fr.Path)
		if ferr != nil {
			return nil, nil, nil, ferr
		}
		source = func() { fh.Close() }
		if strings.EqualFold(filepath.Ext(fr.Path), ".parquet") {
			tf, err = openParquet(ctx, fr.Path, fh)
		} else {
			var cf *csvFile
			if cf, err = openCSV(fr.Path, fh); err == nil {
				tf = cf.table()
			}
		}
	}
	if err != nil {
		source()
		return nil, nil, nil, err
	}
	closeAll := func() {
		if tf.close != nil {
			tf.close()
		}
		source()
	}
	fr.Encoding = tf.encoding
	if tf.delimiter != 0 {
		fr.Delimiter = string(tf.delimiter)
	}
	flow, err := l.detectFlow(fr, tf)
	if err == nil && fr.stream != nil && flow.Name != fr.stream.Flow {
		err = &FileError{Path: fr.Path, Line: 1, Msg: fmt.Sprintf("the stream of flow %s has the header of flow %s", fr.stream.Flow, flow.Name)}
	}
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	fr.Flow = flow.Name
	return tf, flow, closeAll, nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// loadStreams reads the streams into this import's leaves all at once, a
// goroutine each, their batches sharing one copier (so that no stream
// waits for a connection another holds while the producer waits for it).
// When one fails, every stream is closed, which stops the producer and the
// other readers. A stream read whole whose content was published before is
// then dropped from the leaves, as a file with that content would have
// been skipped; when every input was, the import is unchanged.
func (l *loader) loadStreams(ctx context.Context, streams []*FileResult, ll *leafLoad) error {
	if len(streams) == 0 {
		return nil
	}
	log := l.opts.Logger.With("import", l.res.ImportID)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	shared := newCopier(ctx, l.pool, l.workers())
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for _, f := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log.Info("loading stream", "stream", f.Path, "flow", f.Flow)
			err := l.loadLeafFile(ctx, f, ll, shared)
			f.stream.R.Close()
			if err == nil {
				log.Info("loaded stream", "stream", f.Path, "flow", f.Flow, "rows_read", f.RowsRead)
				return
			}
			f.State, f.Error = FileFailed, err.Error()
			mu.Lock()
			defer mu.Unlock()
			if firstErr == nil {
				firstErr = err
				shared.fail(errAborted)
				cancel()
				for _, g := range streams {
					g.stream.R.Close()
				}
			}
		}()
	}
	wg.Wait()
	if err := shared.close(); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("copy into the leaves: %w", err)
	}
	if firstErr != nil {
		return firstErr
	}
	loaded := 0
	for _, f := range streams {
		f.SHA256 = hex.EncodeToString(f.hash.Sum(nil))
		published, err := l.publishedNote(ctx, f)
		if err != nil {
			return err
		}
		if published == "" {
			f.State = FileStaged
			l.res.RowsRead += f.RowsRead
			loaded++
			continue
		}
		f.State, f.Note = FileSkipped, published
		log.Info("dropping stream", "stream", f.Path, "why", f.Note)
		fl := FlowByName(f.Flow)
		for _, table := range leafTables(fl) {
			for i := 0; i < l.parts; i++ {
				if _, err := l.conn.Exec(ctx, "TRUNCATE "+ident(schema.LeafName(table, i, l.version))); err != nil {
					return fmt.Errorf("drop the rows of %s: %w", f.Path, err)
				}
			}
			ll.rows[table] = 0
		}
		delete(ll.keys, fl.Name)
		if _, err := l.conn.Exec(ctx, "DELETE FROM "+ident(l.rejectTable())+" WHERE file_no = $1", f.No); err != nil {
			return fmt.Errorf("drop the refused rows of %s: %w", f.Path, err)
		}
	}
	if loaded == 0 {
		for _, f := range l.res.Files {
			if f.State != FileSkipped {
				return nil
			}
		}
		l.res.State = StateUnchanged
	}
	return nil
}

// newFileSource prepares the parsing of the rows of tf as rows of flow.
func (l *loader) newFileSource(ctx context.Context, fr *FileResult, tf *tableFile, flow *Flow) *fileSource {
	src := &fileSource{l: l, ctx: ctx, tf: tf, fr: fr, flow: flow, sink: &l.rejects}
	src.idx = make([]int, len(flow.Columns))
	pos := map[string]int{}
	for i, h := range tf.header {
		pos[h] = i
	}
	for i, c := range flow.Columns {
		if j, ok := pos[c.Name]; ok {
			src.idx[i] = j
			delete(pos, c.Name)
		} else {
			src.idx[i] = -1
		}
	}
	fr.Ignored = nil
	for h := range pos {
		fr.Ignored = append(fr.Ignored, h)
	}
	sort.Strings(fr.Ignored)
	src.vals = make([]any, len(flow.Columns)+2)
	return src
}

// loadFile copies the rows of a registry or dictionary file that pass the
// per-row checks into the flow's staging table.
func (l *loader) loadFile(ctx context.Context, fr *FileResult) error {
	tf, flow, closeFile, err := l.openFile(ctx, fr)
	if err != nil {
		return err
	}
	defer closeFile()
	if err := l.ensureStage(ctx, flow); err != nil {
		return err
	}
	src := l.newFileSource(ctx, fr, tf, flow)
	cols := []string{"file_no", "line"}
	for _, c := range flow.Columns {
		cols = append(cols, c.Name)
	}
	_, err = l.conn.CopyFrom(ctx, pgx.Identifier{l.stageTable(flow.Name)}, cols, src)
	if src.err != nil {
		return src.err
	}
	if err != nil {
		return fmt.Errorf("%s: copy into staging: %w", fr.Path, err)
	}
	if fr.RowsRead == 0 {
		return &FileError{Path: fr.Path, Msg: "empty file: a header and no rows"}
	}
	return l.flushRejects(ctx)
}

func (l *loader) detectFlow(fr *FileResult, tf *tableFile) (*Flow, error) {
	var flow *Flow
	how := ""
	switch {
	case l.opts.Flow != "":
		flow, how = FlowByName(l.opts.Flow), "--flow"
	default:
		if flow = flowFromFileName(filepath.Base(fr.Path)); flow != nil {
			how = "the file name"
		}
	}
	if flow == nil {
		f, missing, err := flowFromHeader(tf.header)
		if err != nil {
			return nil, &FileError{Path: fr.Path, Line: 1, Msg: err.Error()}
		}
		if len(missing) > 0 {
			return nil, &FileError{Path: fr.Path, Line: 1, Msg: fmt.Sprintf(
				"unknown header: closest flow is %s, which lacks required column(s) %s", f.Name, strings.Join(missing, ", "))}
		}
		return f, nil
	}
	var missing []string
	for _, name := range flow.Required() {
		if !slices.Contains(tf.header, name) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, &FileError{Path: fr.Path, Line: 1, Msg: fmt.Sprintf("missing required column(s) %s of flow %s (flow from %s; header: %s)",
			strings.Join(missing, ", "), flow.Name, how, strings.Join(tf.header, tf.separator()))}
	}
	return flow, nil
}

// fileSource feeds CopyFrom with the valid rows of one file, parsing and
// checking each row; refused rows go to the reject buffer.
type fileSource struct {
	l    *loader
	ctx  context.Context
	tf   *tableFile
	fr   *FileResult
	flow *Flow
	idx  []int // file field of each layout column, -1 when absent
	vals []any
	err  error
	sink *[]reject // where refused values go

	lastLine int64
}

func (s *fileSource) Next() bool {
	for {
		rec, line, ok := s.nextRecord()
		if !ok {
			return false
		}
		if s.parse(line, rec) {
			return true
		}
		if len(s.l.rejects) >= 4096 {
			if s.err = s.l.flushRejects(s.ctx); s.err != nil {
				return false
			}
		}
	}
}

// nextRecord returns the next record that has as many fields as the
// header, and its line; other rows are quarantined here. It returns false
// at the end of the file, or on a whole-file error (in s.err).
func (s *fileSource) nextRecord() ([]string, int64, bool) {
	for {
		rec, line, err := s.tf.next()
		if err == io.EOF {
			s.checkLines()
			s.warnUnterminated()
			return nil, 0, false
		}
		var re *rowError
		if err != nil && !errors.As(err, &re) {
			var fe *FileError
			if !errors.As(err, &fe) {
				fe = &FileError{Path: s.fr.Path, Line: s.lastLine + 1, Msg: err.Error()}
			}
			s.err = fe
			return nil, 0, false
		}
		s.fr.RowsRead++
		s.lastLine = int64(line)
		if re != nil {
			if re.reason == ReasonFieldCount && len(rec) == 1 && strings.ContainsRune(rec[0], otherDelimiter(s.tf.delimiter)) {
				s.err = &FileError{Path: s.fr.Path, Line: int64(line), Msg: fmt.Sprintf(
					"wrong delimiter: the header is separated by %q but this line by %q", s.tf.delimiter, otherDelimiter(s.tf.delimiter))}
				return nil, 0, false
			}
			s.rejectRow(int64(line), re.column, re.reason, re.value, re.detail)
			continue
		}
		return rec, int64(line), true
	}
}

// checkLines fails the file when the rows read differ from the rows the
// file holds by an independent count (tableFile.dataLines): no line may be
// lost, or read twice, between the file and the import.
func (s *fileSource) checkLines() {
	if s.tf.dataLines == nil {
		return
	}
	if n := s.tf.dataLines(); n != s.fr.RowsRead {
		s.err = fmt.Errorf("%s: %d rows read, but the file holds %d data lines", s.fr.Path, s.fr.RowsRead, n)
	}
}

// warnUnterminated warns of a last line without a final newline: it was
// checked as every line is, but the file may have been cut in its last
// field (…,117.20,1 for …,117.20,1.00), which no check can see.
func (s *fileSource) warnUnterminated() {
	if s.err != nil || s.lastLine == 0 || s.tf.complete == nil || s.tf.complete() {
		return
	}
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	s.l.warn(fmt.Sprintf("%s: line %d, the last, has no final newline: the file may have been cut, and its last field (%s) truncated; the line was checked as the others",
		s.fr.Path, s.lastLine, s.tf.header[len(s.tf.header)-1]))
}

func otherDelimiter(d rune) rune {
	if d == ';' {
		return ','
	}
	return ';'
}

func (s *fileSource) rejectRow(line int64, column, reason, value, detail string) {
	s.fr.RowsRejected++
	if len(value) > 200 {
		value = value[:200]
	}
	*s.sink = append(*s.sink, reject{s.fr.No, line, column, reason, value, detail})
}

// parse fills s.vals from the record; it reports false (and records the
// reasons) when a value is refused.
func (s *fileSource) parse(line int64, rec []string) bool {
	s.vals[0] = int32(s.fr.No)
	s.vals[1] = line
	ok := true
	for i := range s.flow.Columns {
		c := &s.flow.Columns[i]
		raw := ""
		if j := s.idx[i]; j >= 0 {
			raw = strings.TrimSpace(rec[j])
		}
		var v any
		reason, detail := "", ""
		if s.tf.checkText {
			reason, detail = checkText(raw)
		}
		if reason == "" {
			v, reason, detail = parseValue(c, raw, s.l.opts.ImportDate)
		}
		if reason != "" {
			if ok {
				s.fr.RowsRejected++
			}
			ok = false
			if len(raw) > 200 {
				raw = raw[:200]
			}
			*s.sink = append(*s.sink, reject{s.fr.No, line, c.Name, reason, raw, detail})
		}
		s.vals[i+2] = v
	}
	if !ok {
		return false
	}
	for _, pair := range s.flow.Ordered {
		a, b := s.value(pair[0]), s.value(pair[1])
		ta, okA := a.(time.Time)
		tb, okB := b.(time.Time)
		if okA && okB && ta.After(tb) {
			s.rejectRow(line, pair[1], ReasonDateOrder, fmtDate(b), pair[0]+" "+fmtDate(a)+" is after "+pair[1])
			return false
		}
	}
	return true
}

// storable is a refused value as the quarantine can hold it: a value cut
// at 200 bytes inside a character, an invalid byte (written as U+FFFD) or
// a NUL byte (written as \0) would fail the COPY of the refused rows.
func storable(v string) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	if strings.IndexByte(v, 0) >= 0 {
		v = strings.ReplaceAll(v, "\x00", `\0`)
	}
	return v
}

// checkText refuses a string PostgreSQL would refuse (and fail the whole
// COPY with SQLSTATE 22021): invalid UTF-8, or a NUL byte.
func checkText(raw string) (reason, detail string) {
	if i := strings.IndexByte(raw, 0); i >= 0 {
		return ReasonBadText, fmt.Sprintf("a NUL byte at byte %d", i+1)
	}
	if !utf8.ValidString(raw) {
		return ReasonBadText, "not valid UTF-8"
	}
	return "", ""
}

func (s *fileSource) value(name string) any {
	for i, c := range s.flow.Columns {
		if c.Name == name {
			return s.vals[i+2]
		}
	}
	return nil
}

func (s *fileSource) Values() ([]any, error) { return s.vals, nil }

func (s *fileSource) Err() error { return s.err }

// flushRejects copies the buffered rejects into the import's reject table
// (through another connection: the loader's is busy copying).
func (l *loader) flushRejects(ctx context.Context) error { return l.flushRejectsOn(ctx, l.pool) }

// copyFromer is what a pool and a connection offer to COPY with.
type copyFromer interface {
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// flushRejectsOn is flushRejects through dst.
func (l *loader) flushRejectsOn(ctx context.Context, dst copyFromer) error {
	if len(l.rejects) == 0 {
		return nil
	}
	rows := make([][]any, len(l.rejects))
	for i, r := range l.rejects {
		rows[i] = []any{int32(r.fileNo), r.line, r.column, r.reason, storable(r.value), r.detail}
	}
	_, err := dst.CopyFrom(ctx, pgx.Identifier{l.rejectTable()},
		[]string{"file_no", "line", "column_name", "reason", "value", "detail"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("record rejected rows: %w", err)
	}
	l.rejects = l.rejects[:0]
	return nil
}
