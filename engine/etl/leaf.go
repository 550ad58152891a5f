package etl

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/schema"
)

// The event flows (schema.VersionedTables) do not go through staging: each
// row is checked in Go during the one streaming pass over its file (against
// the registry and the dictionaries held in memory), encoded in PostgreSQL's
// binary COPY format, routed to its hash partition as the server would
// route it, and copied by several connections into this import's leaves
// (pharmacy_p3_v7), tables that readers cannot see until the publishing
// transaction attaches them. A failed or killed import leaves only
// unattached leaves, which the next import drops.

// leafFlow reports whether the flow is published through leaves.
func leafFlow(f *Flow) bool { return schema.IsVersioned(f.Table) }

// leafTables lists the tables a flow's rows go to: its own and its children.
func leafTables(f *Flow) []string {
	out := []string{f.Table}
	for _, ch := range f.Children {
		out = append(out, ch.Table)
	}
	return out
}

// Bounds of the event identifiers the import derives from the source
// position (see eventID).
const (
	maxEventVersion = 1 << 20
	maxEventFile    = 1 << 11
	maxEventLine    = 1 << 32
)

// eventID is the event_id of the row at line of file fileNo in data version
// v, for flows without a natural key: the same files give the same
// identifiers, whatever the order the rows reach the server in. The
// identifiers of rows inserted outside the import path (the sequence
// flow_event_seq) stay far below them.
func eventID(v int64, fileNo int, line int64) int64 {
	return v<<43 | int64(fileNo)<<32 | line
}

// reserveVersion chooses the data version this import will publish. The
// caller holds the import lock, so no other import can take it; a failed
// import records no version and its number is used again.
func (l *loader) reserveVersion(ctx context.Context) error {
	if err := l.conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) + 1 FROM etl_data_version").Scan(&l.version); err != nil {
		return fmt.Errorf("reserve data version: %w", err)
	}
	if l.version >= maxEventVersion {
		return fmt.Errorf("data version %d: event identifiers allow versions below %d", l.version, maxEventVersion)
	}
	return nil
}

// dropLeftoverLeaves drops the unattached leaves of imports that did not
// publish. The caller holds the import lock.
func dropLeftoverLeaves(ctx context.Context, conn *pgx.Conn) error {
	return dropFound(ctx, conn, "leaves", `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r' AND NOT c.relispartition
		AND c.relname ~ '_p[0-9]+_v[0-9]+$' AND substring(c.relname FROM '^(.*)_p[0-9]+_v[0-9]+$') = ANY ($1)`,
		schema.VersionedTables)
}

// createLeaves creates the unattached leaves of table for this import, one
// per hash partition, with CHECK constraints equal to the partition
// constraint ATTACH would otherwise verify by scanning the rows: the data
// version, and satisfies_hash_partition over the top table's oid exactly as
// PostgreSQL writes the hash partition's bound.
func (l *loader) createLeaves(ctx context.Context, table string) error {
	if l.leaves[table] {
		return nil
	}
	var oid uint32
	if err := l.conn.QueryRow(ctx, "SELECT $1::regclass::oid", table).Scan(&oid); err != nil {
		return fmt.Errorf("create leaves of %s: %w", table, err)
	}
	l.leaves[table] = true
	for i := 0; i < l.parts; i++ {
		leaf := ident(schema.LeafName(table, i, l.version))
		// Autovacuum stays off until the publish: an ANALYZE it started on
		// a freshly loaded leaf would hold the lock ATTACH waits for (for a
		// deadlock_timeout per leaf); the import analyzes the leaves itself.
		hash := fmt.Sprintf(", CHECK (satisfies_hash_partition(%d::oid, %d, %d, person_id))", oid, l.parts, i)
		if l.citus {
			hash = "" // no hash level: Citus's shards hold the persons
		}
		sql := fmt.Sprintf(`CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS,
			CHECK (data_version = %d)%s)
			WITH (autovacuum_enabled = false)`,
			leaf, ident(table), l.version, hash)
		if _, err := l.conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("create leaf %d of %s: %w", i, table, err)
		}
		if l.citus {
			// Distributed before the rows come, in the flows' co-location
			// group: the COPY goes to the shards, and ATTACH takes a leaf
			// whose shards already sit beside the flow's.
			if _, err := l.conn.Exec(ctx, "SELECT create_distributed_table($1, 'person_id', colocate_with => $2)",
				schema.LeafName(table, i, l.version), table); err != nil {
				return fmt.Errorf("distribute leaf %d of %s: %w", i, table, err)
			}
		}
	}
	return nil
}

// dropLeaves drops this import's leaves (after a failure).
func (l *loader) dropLeaves(ctx context.Context) {
	for table := range l.leaves {
		for i := 0; i < l.parts; i++ {
			if _, err := l.conn.Exec(ctx, "DROP TABLE IF EXISTS "+ident(schema.LeafName(table, i, l.version))); err != nil {
				l.opts.Logger.Warn("drop leaf", "table", table, "partition", i, "err", err)
			}
		}
	}
}

// leafIndexes returns the SQL that gives a leaf of table the primary key
// and indexes of its parent, so that ATTACH adopts them instead of building
// them inside the publishing transaction.
func (l *loader) leafIndexes(ctx context.Context, table string) ([]func(leaf string) string, error) {
	rows, err := l.conn.Query(ctx, `SELECT pg_get_indexdef(i.indexrelid), coalesce(pg_get_constraintdef(c.oid), '')
		FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype = 'p'
		WHERE i.indrelid = $1::regclass ORDER BY i.indisprimary DESC, i.indexrelid`, table)
	if err != nil {
		return nil, err
	}
	type def struct{ index, pk string }
	defs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (def, error) {
		var d def
		return d, r.Scan(&d.index, &d.pk)
	})
	if err != nil {
		return nil, err
	}
	var out []func(string) string
	for k, d := range defs {
		if d.pk != "" {
			pk := d.pk
			out = append(out, func(leaf string) string {
				return "ALTER TABLE " + ident(leaf) + " ADD CONSTRAINT " + ident(leaf+"_pkey") + " " + pk
			})
			continue
		}
		at := strings.Index(d.index, " USING ")
		if at < 0 {
			return nil, fmt.Errorf("index of %s: unexpected definition %q", table, d.index)
		}
		unique := ""
		if strings.HasPrefix(d.index, "CREATE UNIQUE") {
			unique = "UNIQUE "
		}
		using, n := d.index[at:], k
		out = append(out, func(leaf string) string {
			return "CREATE " + unique + "INDEX " + ident(fmt.Sprintf("%s_i%d", leaf, n)) + " ON " + ident(leaf) + using
		})
	}
	return out, nil
}

// buildLeafIndexes builds the indexes of every leaf and analyzes it, on as
// many connections as there are workers (index builds of different tables
// run in parallel).
func (l *loader) buildLeafIndexes(ctx context.Context) error {
	var stmts []string
	for _, table := range schema.VersionedTables {
		if !l.leaves[table] {
			continue
		}
		defs, err := l.leafIndexes(ctx, table)
		if err != nil {
			return fmt.Errorf("indexes of %s: %w", table, err)
		}
		for i := 0; i < l.parts; i++ {
			leaf := schema.LeafName(table, i, l.version)
			for _, d := range defs {
				stmts = append(stmts, d(leaf))
			}
			stmts = append(stmts, "ANALYZE "+ident(leaf))
		}
	}
	return parallelExec(ctx, l.pool, l.workers(), stmts)
}

// parallelExec runs the statements on n connections of the pool; the first
// error stops the others.
func parallelExec(ctx context.Context, pool *pgxpool.Pool, n int, stmts []string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan string)
	errs := make(chan error, n)
	for w := 0; w < n; w++ {
		go func() {
			for sql := range next {
				if _, err := pool.Exec(ctx, sql); err != nil {
					errs <- fmt.Errorf("%s: %w", sql, err)
					cancel()
					for range next {
					}
					return
				}
			}
			errs <- nil
		}()
	}
	for _, s := range stmts {
		select {
		case next <- s:
		case <-ctx.Done():
		}
	}
	close(next)
	var first error
	for w := 0; w < n; w++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// attachLeaves attaches every leaf of this import, inside the publishing
// transaction.
func (l *loader) attachLeaves(ctx context.Context, tx pgx.Tx) error {
	for _, table := range schema.VersionedTables {
		if !l.leaves[table] {
			continue
		}
		for i := 0; i < l.parts; i++ {
			leaf := ident(schema.LeafName(table, i, l.version))
			// An empty leaf is dropped, not attached: a small import fills
			// a few of the partitions, and every attached leaf is one more
			// relation each query on the table plans over.
			var rows bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+leaf+")").Scan(&rows); err != nil {
				return fmt.Errorf("attach leaf %d of %s: %w", i, table, err)
			}
			if !rows {
				if _, err := tx.Exec(ctx, "DROP TABLE "+leaf); err != nil {
					return fmt.Errorf("drop empty leaf %d of %s: %w", i, table, err)
				}
				continue
			}
			sql := fmt.Sprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES IN (%d)",
				ident(schema.LeafParent(l.citus, table, i)), leaf, l.version)
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("attach leaf %d of %s: %w", i, table, err)
			}
			if _, err := tx.Exec(ctx, "ALTER TABLE "+leaf+" RESET (autovacuum_enabled)"); err != nil {
				return fmt.Errorf("attach leaf %d of %s: %w", i, table, err)
			}
		}
	}
	return nil
}

// workers is the number of connections that copy rows and build indexes
// (and of goroutines that encode rows). The loader's own connection holds
// the import lock and records the refused rows meanwhile, so a pool of two
// connections is enough.
func (l *loader) workers() int {
	return max(1, min(int(l.pool.Config().MaxConns)-1, 2))
}

// personDates is what the checks need of a person of the registry, as
// days since 1970-01-01.
type personDates struct {
	birth, death int32
	dead         bool
}

// span is one validity interval of a code.
type span struct {
	from, to     int32
	hasFrom, end bool
}

// checker holds the registry and the dictionaries in memory for the checks
// of event rows.
type checker struct {
	persons map[int64]personDates
	// codes maps a code system to its codes' validity; a system with an
	// empty dictionary is absent (its codes are not checked).
	codes map[string]map[string][]span
}

func days(t time.Time) int32 { return int32(t.Unix() / 86400) }

func dayText(d int32) string { return time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly) }

// loadChecker reads the registry (published, overlaid with the persons this
// import staged and kept) and the dictionaries the flows check codes
// against.
func (l *loader) loadChecker(ctx context.Context, flows []*Flow) (*checker, error) {
	chk := &checker{persons: map[int64]personDates{}, codes: map[string]map[string][]span{}}
	read := func(sql string) error {
		rows, err := l.conn.Query(ctx, sql)
		if err != nil {
			return err
		}
		defer rows.Close()
		var id int64
		var birth time.Time
		var death pgtype.Date
		for rows.Next() {
			if err := rows.Scan(&id, &birth, &death); err != nil {
				return err
			}
			p := personDates{birth: days(birth), dead: death.Valid}
			if death.Valid {
				p.death = days(death.Time)
			}
			chk.persons[id] = p
		}
		return rows.Err()
	}
	if err := read("SELECT person_id, birth_date, death_date FROM person"); err != nil {
		return nil, fmt.Errorf("read the registry: %w", err)
	}
	if l.staged["person"] {
		if err := read("SELECT person_id, birth_date, death_date FROM " + ident(l.stageTable("person"))); err != nil {
			return nil, fmt.Errorf("read the registry: %w", err)
		}
	}
	for _, f := range flows {
		for _, c := range f.Columns {
			if c.Code == "" {
				continue
			}
			if _, done := chk.codes[c.Code]; done {
				continue
			}
			sql, err := l.codeSourceSQL(c.Code)
			if err != nil {
				return nil, err
			}
			rows, err := l.conn.Query(ctx, sql)
			if err != nil {
				return nil, fmt.Errorf("read dictionary %s: %w", c.Code, err)
			}
			dict := map[string][]span{}
			var code string
			var from, to pgtype.Date
			_, err = pgx.ForEachRow(rows, []any{&code, &from, &to}, func() error {
				s := span{hasFrom: from.Valid, end: to.Valid}
				if from.Valid {
					s.from = days(from.Time)
				}
				if to.Valid {
					s.to = days(to.Time)
				}
				dict[code] = append(dict[code], s)
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("read dictionary %s: %w", c.Code, err)
			}
			if len(dict) == 0 {
				dict = nil
			}
			chk.codes[c.Code] = dict
		}
	}
	return chk, nil
}

// lineRef is where a row came from: its file number (< maxEventFile) and
// line (< maxEventLine) in one word.
type lineRef uint64

func newLineRef(fileNo int, line int64) lineRef { return lineRef(uint64(fileNo)<<32 | uint64(line)) }
func (r lineRef) fileNo() int                   { return int(r >> 32) }
func (r lineRef) line() int64                   { return int64(r & (1<<32 - 1)) }

// keyHash is a natural key's text hashed to 128 bits. An import holds
// every key of its keyed flows (sdo, er: millions) in memory, to refuse a
// repeated key with the line of its first occurrence: 16 bytes a key and
// no pointer for the garbage collector to follow, instead of the text.
// Two keys collide with odds below 10^-22 for 10^8 keys (the seeds are
// random, per process; the map never leaves it).
type keyHash [2]uint64

var keySeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func hashKey(s string) keyHash {
	return keyHash{maphash.String(keySeeds[0], s), maphash.String(keySeeds[1], s)}
}

// leafLoad is the state of the event flows' load in one import.
type leafLoad struct {
	chk  *checker
	keys map[string]map[keyHash]lineRef // flow → natural key → first row
	rows map[string]int64               // table → rows copied
}

// copyHeader starts a binary COPY stream: signature, flags, extension length.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// copyBatchSize is how many bytes of rows of one leaf are sent in one COPY.
const copyBatchSize = 1 << 20

// citusCopyBatchSize is copyBatchSize on Citus, where each COPY into a
// distributed leaf opens its shards' connections and commits on every
// worker, a fixed cost of a few hundred milliseconds; the leaves are
// fewer there (one per table, not one per partition), so the buffers
// are too.
const citusCopyBatchSize = 16 << 20

// batchSize is how many bytes of one leaf's rows go in one COPY.
func (l *loader) batchSize() int {
	if l.citus {
		return citusCopyBatchSize
	}
	return copyBatchSize
}

type copyBatch struct {
	sql  string
	data []byte
}

// copier sends batches of binary COPY data on several connections.
type copier struct {
	ctx    context.Context
	cancel context.CancelFunc
	ch     chan copyBatch
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
}

func newCopier(ctx context.Context, pool *pgxpool.Pool, workers int) *copier {
	c := &copier{ch: make(chan copyBatch, workers)}
	c.ctx, c.cancel = context.WithCancel(ctx)
	for w := 0; w < workers; w++ {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			conn, err := pool.Acquire(c.ctx)
			if err != nil {
				c.fail(err)
				for range c.ch {
				}
				return
			}
			defer conn.Release()
			for b := range c.ch {
				if c.failed() {
					continue
				}
				if _, err := conn.Conn().PgConn().CopyFrom(c.ctx, bytes.NewReader(b.data), b.sql); err != nil {
					c.fail(fmt.Errorf("%s: %w", b.sql, err))
				}
			}
		}()
	}
	return c
}

func (c *copier) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.cancel()
}

func (c *copier) failed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err != nil
}

func (c *copier) send(b copyBatch) error {
	select {
	case c.ch <- b:
		return nil
	case <-c.ctx.Done():
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.err != nil {
			return c.err
		}
		return c.ctx.Err()
	}
}

// close waits for the batches sent and returns the first error.
func (c *copier) close() error {
	close(c.ch)
	c.wg.Wait()
	c.cancel()
	return c.err
}

// leafWriter encodes the rows of one file for the leaves of its flow's
// tables and hands full batches to the copier.
type leafWriter struct {
	l       *loader
	flow    *Flow
	col     map[string]int // layout column → index in vals
	tables  []leafTable
	copier  *copier
	shared  bool                      // the copier serves other files too: its owner closes it
	person  int                       // index of person_id in the values
	version []byte                    // the data version, encoded once
	width   map[string]map[string]int // table → column → bytes of a fixed-size type
}

// leafTable is one of the tables a flow writes, with a buffer per partition.
type leafTable struct {
	name string
	sql  []string // COPY statement per partition
	bufs [][]byte
	rows int64
	plan []rowPlan // the rows one source row makes in this table
}

// rowPlan says how to encode one row of a table from a source row's values.
type rowPlan struct {
	fields   []fieldPlan
	when     int  // a value that must not be NULL for the row to exist (-1: always)
	position int  // the position value of a child row, before fields[at] (-1: none)
	at       int  // where the position goes among the fields
	eventID  bool // an event_id follows the fields
}

// fieldPlan is one field of an encoded row: which value, of which type.
type fieldPlan struct {
	src   int // index in the source row's values
	typ   Type
	width int
}

// newLeafWriter prepares the writing of f's rows into this import's leaves
// (creating them); the batches go to shared when it is not nil (streams
// read at once share one copier), else to a copier of the writer's own.
// The caller holds l.mu when other files load at the same time: it uses
// the loader's connection.
func (l *loader) newLeafWriter(ctx context.Context, f *Flow, shared *copier) (*leafWriter, error) {
	w := &leafWriter{l: l, flow: f, col: map[string]int{}}
	for i, c := range f.Columns {
		w.col[c.Name] = i
	}
	w.person = 2 + w.col["person_id"]
	w.version = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(nil, 8), uint64(l.version))
	// Integer columns are encoded in the width the table declares (a
	// layout's small integer is smallint in one table, integer in another).
	w.width = map[string]map[string]int{}
	for _, table := range leafTables(f) {
		rows, err := l.conn.Query(ctx, `SELECT attname, attlen FROM pg_attribute
			WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`, table)
		if err != nil {
			return nil, fmt.Errorf("columns of %s: %w", table, err)
		}
		widths := map[string]int{}
		var name string
		var size int16
		if _, err := pgx.ForEachRow(rows, []any{&name, &size}, func() error { widths[name] = int(size); return nil }); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", table, err)
		}
		w.width[table] = widths
	}
	for ti, table := range leafTables(f) {
		if err := l.createLeaves(ctx, table); err != nil {
			return nil, err
		}
		var cols []string
		if ti == 0 {
			for _, c := range f.Stored() {
				cols = append(cols, c.Name)
			}
			if len(f.Key) == 0 {
				cols = append(cols, "event_id")
			}
		} else {
			ch := f.Children[ti-1]
			cols = append(append(append(cols, ch.Copy...), "position"), ch.Fields...)
		}
		cols = append(cols, "data_version")
		t := leafTable{name: table, bufs: make([][]byte, l.parts)}
		widths := w.width[table]
		field := func(src, dst string) fieldPlan {
			return fieldPlan{src: 2 + w.col[src], typ: f.Columns[w.col[src]].Type, width: widths[dst]}
		}
		if ti == 0 {
			row := rowPlan{when: -1, position: -1, eventID: len(f.Key) == 0}
			for _, c := range f.Stored() {
				row.fields = append(row.fields, field(c.Name, c.Name))
			}
			t.plan = []rowPlan{row}
		} else {
			ch := f.Children[ti-1]
			for pos, g := range ch.Groups {
				row := rowPlan{when: 2 + w.col[g[0]], position: pos, at: len(ch.Copy)}
				for _, name := range ch.Copy {
					row.fields = append(row.fields, field(name, name))
				}
				for k, name := range g {
					row.fields = append(row.fields, field(name, ch.Fields[k]))
				}
				t.plan = append(t.plan, row)
			}
		}
		for i := 0; i < l.parts; i++ {
			t.sql = append(t.sql, "COPY "+ident(schema.LeafName(table, i, l.version))+" ("+strings.Join(identAll(cols), ", ")+") FROM STDIN WITH (FORMAT binary)")
		}
		w.tables = append(w.tables, t)
	}
	if shared != nil {
		w.copier, w.shared = shared, true
	} else {
		w.copier = newCopier(ctx, l.pool, l.workers())
	}
	return w, nil
}

// appendValue encodes one parsed value of a column of type t in the binary
// COPY format (length, then bytes; -1 for NULL); width is the size of the
// table column's integer type.
func appendValue(b []byte, t Type, width int, v any) []byte {
	if v == nil {
		return binary.BigEndian.AppendUint32(b, math.MaxUint32)
	}
	switch t {
	case TypeInt, TypeSmallInt:
		switch width {
		case 2:
			return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint32(b, 2), uint16(int16(v.(int64))))
		case 4:
			return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(b, 4), uint32(int32(v.(int64))))
		}
		return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(b, 8), uint64(v.(int64)))
	case TypeFloat:
		return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(b, 8), math.Float64bits(v.(float64)))
	case TypeDate:
		// PostgreSQL counts days from 2000-01-01.
		return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(b, 4), uint32(days(v.(time.Time))-10957))
	case TypeTime:
		return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(b, 8), uint64(v.(pgtype.Time).Microseconds))
	case TypeBool:
		x := byte(0)
		if v.(bool) {
			x = 1
		}
		return append(binary.BigEndian.AppendUint32(b, 1), x)
	default:
		s := v.(string)
		return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...)
	}
}

// write encodes one checked row (vals as fileSource fills them) into the
// buffers of its partition.
func (w *leafWriter) write(vals []any) error {
	part := hashPartition(vals[w.person].(int64), w.l.parts)
	for ti := range w.tables {
		t := &w.tables[ti]
		for _, row := range t.plan {
			if row.when >= 0 && vals[row.when] == nil {
				continue
			}
			b := t.bufs[part]
			if b == nil {
				b = append(make([]byte, 0, w.l.batchSize()+4096), copyHeader...)
			}
			n := len(row.fields) + 1
			if row.position >= 0 {
				n++
			}
			if row.eventID {
				n++
			}
			b = binary.BigEndian.AppendUint16(b, uint16(n))
			for i, fd := range row.fields {
				if i == row.at && row.position >= 0 {
					b = append(binary.BigEndian.AppendUint32(b, 2), byte(row.position>>8), byte(row.position))
				}
				b = appendValue(b, fd.typ, fd.width, vals[fd.src])
			}
			if row.eventID {
				id := eventID(w.l.version, int(vals[0].(int32)), vals[1].(int64))
				b = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(b, 8), uint64(id))
			}
			b = append(b, w.version...)
			t.rows++
			if err := w.flushIfFull(t, part, b); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *leafWriter) flushIfFull(t *leafTable, part int, b []byte) error {
	if len(b) < w.l.batchSize() {
		t.bufs[part] = b
		return nil
	}
	t.bufs[part] = nil
	return w.copier.send(copyBatch{sql: t.sql[part], data: append(b, 0xff, 0xff)})
}

// close sends what the buffers hold and waits for every COPY (of a shared
// copier, its owner waits).
func (w *leafWriter) close() error {
	if err := w.flush(); err != nil {
		w.abort()
		return err
	}
	if w.shared {
		return nil
	}
	return w.copier.close()
}

// flush sends what the buffers hold.
func (w *leafWriter) flush() error {
	for ti := range w.tables {
		t := &w.tables[ti]
		for part, b := range t.bufs {
			if b == nil {
				continue
			}
			t.bufs[part] = nil
			if err := w.copier.send(copyBatch{sql: t.sql[part], data: append(b, 0xff, 0xff)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// clone returns a writer with buffers of its own that shares the copier,
// for another encoding goroutine.
func (w *leafWriter) clone() *leafWriter {
	c := *w
	c.tables = make([]leafTable, len(w.tables))
	for i, t := range w.tables {
		t.bufs = make([][]byte, len(t.bufs))
		t.rows = 0
		c.tables[i] = t
	}
	return &c
}

// abort stops the copies after a failure (of a shared copier too: the
// import fails as a whole).
func (w *leafWriter) abort() {
	if w.shared {
		w.copier.fail(errAborted)
		return
	}
	w.copier.cancel()
	w.copier.close()
}

// errAborted is a shared copier's error after one of its files failed.
var errAborted = errors.New("stopped: another file of the import failed")

// recordBatch is a run of records read from a file, handed to an encoding
// goroutine.
type recordBatch struct {
	lines  []int64
	fields []string // len(lines) records of width fields each
}

const recordBatchRows = 2048

// loadLeafFile streams one event file into this import's leaves. One
// goroutine reads the records (CSV or Parquet, with their line numbers);
// encoding goroutines parse each value (fileSource.parse), run the checks
// that need the registry, the dictionaries and the keys seen before
// (checkRow), and encode the kept rows for their partition's leaf; the
// copier sends full buffers on its own connections. A flow with a natural
// key is encoded by one goroutine, in file order, so that the first
// occurrence of a key is the one kept.
//
// Several files may load at once (streams, with a shared copier): what
// they share — the loader's connection, the refused rows, the warnings and
// ll — is taken under l.mu; their flows differ, so each has its own keys.
func (l *loader) loadLeafFile(ctx context.Context, fr *FileResult, ll *leafLoad, shared *copier) error {
	tf, flow, closeFile, err := l.openFile(ctx, fr)
	if err != nil {
		return stageErr(fr, "open", err)
	}
	defer closeFile()
	lf, err := l.prepareLeafFile(ctx, fr, ll, tf, flow, shared)
	if err != nil {
		return stageErr(fr, "prepare the leaves", err)
	}
	lf.startEncoders(ctx)
	readErr := lf.read(ctx)
	encodeErr := lf.wait()
	for _, st := range []struct {
		name string
		err  error
	}{{"read", readErr}, {"read", lf.src.err}, {"check and encode", encodeErr}} {
		if st.err != nil {
			lf.w.abort()
			return stageErr(fr, st.name, st.err)
		}
	}
	if !lf.w.shared {
		if err := lf.w.copier.close(); err != nil {
			return stageErr(fr, "copy into the leaves", err)
		}
	}
	if fr.RowsRead == 0 {
		return &FileError{Path: fr.Path, Msg: "empty file: a header and no rows"}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return stageErr(fr, "record refused rows", l.flushRejectsOn(ctx, l.conn))
}

// stageErr says which stage of a file's load failed; a FileError, which
// names the file and the line for the user, is returned as it is.
func stageErr(fr *FileResult, stage string, err error) error {
	var fe *FileError
	if err == nil || errors.As(err, &fe) {
		return err
	}
	return fmt.Errorf("%s: %s: %w", fr.Path, stage, err)
}

// leafFile is one event file streaming into the leaves: the reader's
// source, the encoders' writer and checks, and the channels between them.
type leafFile struct {
	l        *loader
	fr       *FileResult
	ll       *leafLoad
	width    int // fields of a record
	src      *fileSource
	w        *leafWriter
	checks   *rowChecks
	encoders int
	batches  chan *recordBatch
	free     chan *recordBatch // batches the encoders are done with
	done     chan encoderOutcome
}

// encoderOutcome is what one encoding goroutine did: its error and the rows
// it wrote to each of the flow's tables.
type encoderOutcome struct {
	err  error
	rows []int64
}

// prepareLeafFile creates the flow's leaves and the writer, and the checks
// of its rows (a flow with a natural key shares its keys with the import's
// other files of the flow, and is encoded by one goroutine, in file
// order, so that the first occurrence of a key is the one kept).
func (l *loader) prepareLeafFile(ctx context.Context, fr *FileResult, ll *leafLoad, tf *tableFile, flow *Flow, shared *copier) (*leafFile, error) {
	if fr.No >= maxEventFile {
		return nil, fmt.Errorf("an import holds at most %d files", maxEventFile-1)
	}
	lf := &leafFile{l: l, fr: fr, ll: ll, width: len(tf.header), src: l.newFileSource(ctx, fr, tf, flow)}
	l.mu.Lock()
	defer l.mu.Unlock()
	w, err := l.newLeafWriter(ctx, flow, shared)
	if err != nil {
		return nil, err
	}
	lf.w = w
	keys := ll.keys[flow.Name]
	if len(flow.Key) > 0 && keys == nil {
		keys = map[keyHash]lineRef{}
		ll.keys[flow.Name] = keys
	}
	lf.checks = l.newRowChecks(flow, ll.chk, keys)
	lf.encoders = l.workers()
	if len(flow.Key) > 0 {
		lf.encoders = 1
	}
	lf.batches = make(chan *recordBatch, 2*lf.encoders)
	lf.free = make(chan *recordBatch, 4*lf.encoders)
	lf.done = make(chan encoderOutcome, lf.encoders)
	return lf, nil
}

// startEncoders starts the goroutines that parse, check and encode the
// batches of records, each with a writer, a source and refused rows of its
// own.
func (lf *leafFile) startEncoders(ctx context.Context) {
	for e := 0; e < lf.encoders; e++ {
		ew := lf.w.clone()
		es := *lf.src
		es.fr = &FileResult{No: lf.fr.No, Path: lf.fr.Path}
		es.vals = make([]any, len(lf.src.vals))
		var local []reject
		es.sink = &local
		go func() { lf.done <- lf.encode(ctx, ew, &es, &local) }()
	}
}

// encode is one encoding goroutine: it runs until the batches are closed,
// and after an error only drains them.
func (lf *leafFile) encode(ctx context.Context, ew *leafWriter, es *fileSource, local *[]reject) encoderOutcome {
	var out encoderOutcome
	for b := range lf.batches {
		if out.err != nil {
			continue
		}
		for i, line := range b.lines {
			rec := b.fields[i*lf.width : (i+1)*lf.width]
			if !es.parse(line, rec) || !lf.l.checkRow(es, lf.checks) {
				continue
			}
			if err := ew.write(es.vals); err != nil {
				out.err = err
				break
			}
		}
		if out.err == nil && len(*local) > 0 {
			out.err = lf.l.addRejects(ctx, local)
		}
		select {
		case lf.free <- b:
		default:
		}
	}
	if out.err == nil {
		out.err = ew.flush()
	}
	for _, t := range ew.tables {
		out.rows = append(out.rows, t.rows)
	}
	return out
}

// read reads the file's records into batches for the encoders, and closes
// the batches; the rows the reader itself refuses (field count, quoting,
// length) go to the refused rows here.
func (lf *leafFile) read(ctx context.Context) error {
	var readErr error
	var readerRejects []reject
	lf.src.sink = &readerRejects
	b := &recordBatch{}
	for {
		rec, line, ok := lf.src.nextRecord()
		if !ok {
			break
		}
		if line >= maxEventLine {
			readErr = &FileError{Path: lf.fr.Path, Line: line, Msg: fmt.Sprintf("more than %d lines", int64(maxEventLine-1))}
			break
		}
		b.lines = append(b.lines, line)
		b.fields = append(b.fields, rec...)
		if len(b.lines) == recordBatchRows {
			lf.batches <- b
			select {
			case b = <-lf.free:
				b.lines, b.fields = b.lines[:0], b.fields[:0]
			default:
				b = &recordBatch{}
			}
		}
		if len(readerRejects) >= 1024 {
			if readErr = lf.l.addRejects(ctx, &readerRejects); readErr != nil {
				break
			}
		}
	}
	if len(b.lines) > 0 && readErr == nil {
		lf.batches <- b
	}
	close(lf.batches)
	if err := lf.l.addRejects(ctx, &readerRejects); err != nil && readErr == nil {
		readErr = err
	}
	return readErr
}

// wait waits for the encoders, adds the rows they wrote to the import's
// and the file's counts, and returns the first encoder's error.
func (lf *leafFile) wait() error {
	var first error
	for e := 0; e < lf.encoders; e++ {
		out := <-lf.done
		if out.err != nil && first == nil {
			first = out.err
		}
		lf.l.mu.Lock()
		for i, n := range out.rows {
			lf.ll.rows[lf.w.tables[i].name] += n
		}
		if len(out.rows) > 0 {
			lf.fr.RowsPublished += out.rows[0]
		}
		lf.l.mu.Unlock()
	}
	return first
}

// addRejects moves a goroutine's refused rows to the loader's, which it
// records once they are many, on the loader's connection (under l.mu, as
// several files may load at once).
func (l *loader) addRejects(ctx context.Context, local *[]reject) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rejects = append(l.rejects, *local...)
	*local = (*local)[:0]
	if len(l.rejects) >= 4096 {
		return l.flushRejectsOn(ctx, l.conn)
	}
	return nil
}

// rowChecks are the checks of one flow's rows that need the registry, the
// dictionaries or the rows seen before, with the positions of the values
// they read.
type rowChecks struct {
	chk    *checker
	keys   map[keyHash]lineRef
	key    []int // natural key values
	keyCol string
	person int
	event  int // the event date, -1 when the flow has none
	codes  []codeCheck
}

type codeCheck struct {
	src, at      int // the code's value and its date's
	name, system string
	dict         map[string][]span
}

func (l *loader) newRowChecks(f *Flow, chk *checker, keys map[keyHash]lineRef) *rowChecks {
	at := func(name string) int {
		for i, c := range f.Columns {
			if c.Name == name {
				return i + 2
			}
		}
		return -1
	}
	rc := &rowChecks{chk: chk, keys: keys, keyCol: strings.Join(f.Key, "+"), person: at("person_id"), event: -1}
	for _, k := range f.Key {
		rc.key = append(rc.key, at(k))
	}
	if f.EventDate != "" {
		rc.event = at(f.EventDate)
	}
	for i, c := range f.Columns {
		if c.Code == "" {
			continue
		}
		dict := chk.codes[c.Code]
		if dict == nil {
			l.warn(fmt.Sprintf("%s.%s: the %s dictionary is empty, codes were not checked", f.Name, c.Name, c.Code))
			continue
		}
		rc.codes = append(rc.codes, codeCheck{src: i + 2, at: at(c.CodeDate), name: c.Name, system: c.Code, dict: dict})
	}
	return rc
}

// checkRow runs the checks that need the registry, the dictionaries and the
// rows seen before on a row that parsed; it records every failure and
// reports whether the row is kept.
func (l *loader) checkRow(s *fileSource, rc *rowChecks) bool {
	f := s.flow
	vals := s.vals
	line := vals[1].(int64)
	ok := true
	fail := func(column, reason, value, detail string) {
		if ok {
			s.fr.RowsRejected++
		}
		ok = false
		if len(value) > 200 {
			value = value[:200]
		}
		*s.sink = append(*s.sink, reject{s.fr.No, line, column, reason, value, detail})
	}
	if len(rc.key) > 0 {
		parts := make([]string, len(rc.key))
		for i, k := range rc.key {
			parts[i] = keyText(vals[k])
		}
		key := strings.Join(parts, "|")
		h := hashKey(key)
		if _, dup := rc.keys[h]; dup {
			fail(rc.keyCol, ReasonDuplicateKey, key, "key appears earlier in this import")
		} else {
			rc.keys[h] = newLineRef(s.fr.No, line)
		}
	}
	id := vals[rc.person].(int64)
	p, known := rc.chk.persons[id]
	if !known {
		fail("person_id", ReasonUnknownPerson, strconv.FormatInt(id, 10), "not in the registry of persons")
	} else if rc.event >= 0 {
		ev := days(vals[rc.event].(time.Time))
		switch {
		case ev < p.birth:
			fail(f.EventDate, ReasonBeforeBirth, dayText(ev), "birth "+dayText(p.birth))
		case p.dead && ev > p.death:
			fail(f.EventDate, ReasonAfterDeath, dayText(ev), "death "+dayText(p.death))
		}
	}
	for _, cc := range rc.codes {
		v := vals[cc.src]
		if v == nil {
			continue
		}
		code := v.(string)
		at, hasAt := vals[cc.at].(time.Time)
		spans, found := cc.dict[code]
		valid := false
		if hasAt {
			d := days(at)
			for _, sp := range spans {
				if sp.hasFrom && sp.from <= d && (!sp.end || d <= sp.to) {
					valid = true
					break
				}
			}
		}
		if valid {
			continue
		}
		reason := ReasonUnknownCode
		if found {
			reason = ReasonCodeValidity
		}
		detail := ""
		if hasAt {
			detail = cc.system + " at " + at.Format(time.DateOnly)
		}
		fail(cc.name, reason, code, detail)
	}
	return ok
}

// keyText writes a key value as PostgreSQL's text cast does.
func keyText(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return x
	case time.Time:
		return x.Format(time.DateOnly)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// refusePublishedKeys removes from the leaves the rows whose natural key is
// already published (and their children), quarantining them with the line
// they came from.
func (l *loader) refusePublishedKeys(ctx context.Context, ll *leafLoad) error {
	for _, f := range Flows {
		keys := ll.keys[f.Name]
		if len(f.Key) == 0 || !l.leaves[f.Table] {
			continue
		}
		join := make([]string, len(f.Key))
		texts := make([]string, len(f.Key))
		for i, k := range f.Key {
			join[i] = "t." + ident(k) + " = l." + ident(k)
			// || and not concat_ws: Citus runs RETURNING on the shards and
			// allows only immutable functions there; keys are never null.
			texts[i] = "l." + ident(k) + "::text"
		}
		for i := 0; i < l.parts; i++ {
			published := ident(schema.LeafParent(l.citus, f.Table, i))
			rows, err := l.conn.Query(ctx, "DELETE FROM "+ident(schema.LeafName(f.Table, i, l.version))+" l USING "+published+
				" t WHERE "+strings.Join(join, " AND ")+" RETURNING "+strings.Join(texts, " || '|' || "))
			if err != nil {
				return fmt.Errorf("%s: published keys: %w", f.Name, err)
			}
			refused, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return fmt.Errorf("%s: published keys: %w", f.Name, err)
			}
			ll.rows[f.Table] -= int64(len(refused))
			for _, key := range refused {
				at, ok := keys[hashKey(key)]
				if !ok {
					return fmt.Errorf("%s: published key %q not among the rows read", f.Name, key)
				}
				l.rejects = append(l.rejects, reject{at.fileNo(), at.line(), strings.Join(f.Key, "+"), ReasonPublished, key, "key already in the published data"})
				l.res.Files[at.fileNo()-1].RowsPublished--
			}
			if len(refused) == 0 {
				continue
			}
			for _, ch := range f.Children {
				cjoin := make([]string, len(f.Key))
				for k, name := range f.Key {
					cjoin[k] = "t." + ident(name) + " = c." + ident(name)
				}
				tag, err := l.conn.Exec(ctx, "DELETE FROM "+ident(schema.LeafName(ch.Table, i, l.version))+" c USING "+published+
					" t WHERE "+strings.Join(cjoin, " AND "))
				if err != nil {
					return fmt.Errorf("%s: published keys: %w", ch.Table, err)
				}
				ll.rows[ch.Table] -= tag.RowsAffected()
			}
		}
	}
	return l.flushRejects(ctx)
}
