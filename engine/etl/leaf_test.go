package etl

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/schema/pgtest"
)

const leafPersons = "person_id;sex;birth_date;death_date\n1;F;1950-01-01;\n2;M;1960-01-01;\n3;F;1970-01-01;\n4;M;1980-01-01;\n5;F;1990-01-01;\n"

const leafPharmacy = "person_id;dispensing_date;aic;packs\n" +
	"1;2022-01-01;012345678;1\n2;2022-01-02;012345678;2\n3;2022-01-03;012345678;1\n" +
	"4;2022-01-04;012345678;1\n5;2022-01-05;012345678;3\n9;2022-01-05;012345678;3\n"

func leafOpts() Options {
	return Options{ImportDate: time.Date(2023, 6, 30, 0, 0, 0, 0, time.UTC), StartedBy: "tester",
		Logger: slog.New(slog.DiscardHandler), Partitions: 4}
}

func writeFiles(t *testing.T, files ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i := 0; i < len(files); i += 2 {
		p := filepath.Join(dir, files[i])
		require.NoError(t, os.WriteFile(p, []byte(files[i+1]), 0o644))
		paths = append(paths, p)
	}
	return paths
}

func scalar(t *testing.T, pool *pgxpool.Pool, sql string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, pool.QueryRow(context.Background(), sql).Scan(&n))
	return n
}

// leafTablesSQL counts the tables named like this import's leaves, attached
// or not.
const leafTablesSQL = `SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname ~ '_p[0-9]+_v[0-9]+$'`

// TestFailedPublishAttachesNothing makes the publishing transaction fail
// after the leaves were loaded, indexed and attached: nothing is visible,
// the leaves are gone, and the next import publishes the same version.
func TestFailedPublishAttachesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	paths := writeFiles(t, "person.csv", leafPersons, "pharmacy.csv", leafPharmacy)
	o := leafOpts()
	o.failBeforeCommit = errors.New("forced failure before commit")
	res, err := Load(ctx, pool, paths, o)
	require.ErrorContains(t, err, "forced failure before commit")
	require.Equal(t, StateFailed, res.State)
	require.EqualValues(t, 0, scalar(t, pool, "SELECT count(*) FROM pharmacy"))
	require.EqualValues(t, 0, scalar(t, pool, "SELECT count(*) FROM person"))
	require.EqualValues(t, 0, scalar(t, pool, "SELECT count(*) FROM etl_data_version"))
	require.EqualValues(t, 0, scalar(t, pool, leafTablesSQL))
	require.EqualValues(t, 0, scalar(t, pool, "SELECT count(*) FROM etl_quarantine"))

	// A killed import leaves its leaves unattached; the next import drops
	// them before it starts.
	_, err = pool.Exec(ctx, "CREATE TABLE pharmacy_p2_v1 (LIKE pharmacy)")
	require.NoError(t, err)
	res, err = Load(ctx, pool, paths, leafOpts())
	require.NoError(t, err)
	require.Equal(t, StatePublished, res.State)
	require.EqualValues(t, 1, res.DataVersion)
	require.EqualValues(t, 10, res.RowsPublished, "5 persons and 5 dispensings")
	require.EqualValues(t, 5, scalar(t, pool, "SELECT count(*) FROM pharmacy WHERE data_version = 1"))
	require.EqualValues(t, 4, scalar(t, pool, leafTablesSQL), "one attached leaf per partition")
	require.EqualValues(t, 4, scalar(t, pool, `SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE c.relname ~ '^pharmacy_p[0-9]_v1$'`))
	require.EqualValues(t, 1, scalar(t, pool, "SELECT count(*) FROM etl_quarantine WHERE reason = 'unknown_person' AND line = 7"))
	// Every row sits in the leaf of the partition the server routes its
	// person to, and its event_id encodes version, file and line.
	require.EqualValues(t, 0, scalar(t, pool, `SELECT count(*) FROM pharmacy p
		WHERE tableoid::regclass::text <> 'pharmacy_p' || (SELECT substring(tableoid::regclass::text FROM '_p([0-9]+)$') FROM person q WHERE q.person_id = p.person_id) || '_v1'`))
	require.EqualValues(t, int64(1)<<43|int64(2)<<32|4, scalar(t, pool, "SELECT event_id FROM pharmacy WHERE person_id = 3"))
}

// TestAttachSkipsTheScan checks that the leaves' CHECK constraints let
// ATTACH PARTITION prove the partition constraint without reading the rows
// (PostgreSQL says so at DEBUG1).
func TestAttachSkipsTheScan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	require.NoError(t, err)
	var mu sync.Mutex
	var notices []string
	cfg.ConnConfig.RuntimeParams["client_min_messages"] = "debug1"
	cfg.ConnConfig.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		mu.Lock()
		notices = append(notices, n.Message)
		mu.Unlock()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer pool.Close()
	paths := writeFiles(t, "person.csv", leafPersons, "pharmacy.csv", leafPharmacy)
	_, err = Load(ctx, pool, paths, leafOpts())
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	for i := 0; i < 4; i++ {
		want := `partition constraint for table "pharmacy_p` + string(rune('0'+i)) + `_v1" is implied by existing constraints`
		found := false
		for _, n := range notices {
			found = found || strings.Contains(n, want)
		}
		require.True(t, found, "no notice %q", want)
	}
}

// TestSmallPoolManyRejects imports through a pool of two connections a file
// whose refused rows are flushed while the leaves are being copied: the
// import must neither wait for a third connection nor lose a refusal.
func TestSmallPoolManyRejects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	require.NoError(t, err)
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer pool.Close()
	var b strings.Builder
	b.WriteString("person_id;dispensing_date;aic;packs\n")
	for i := 0; i < 12000; i++ {
		id := 1 + i%5
		if i%2 == 1 {
			id = 100 + i // not in the registry
		}
		b.WriteString(strconv.Itoa(id) + ";2022-01-01;012345678;1\n")
	}
	paths := writeFiles(t, "person.csv", leafPersons, "pharmacy.csv", b.String())
	res, err := Load(ctx, pool, paths, leafOpts())
	require.NoError(t, err)
	require.EqualValues(t, 6000, res.RejectedBy[ReasonUnknownPerson])
	require.EqualValues(t, 6000, scalar(t, pool, "SELECT count(*) FROM pharmacy"))
	require.EqualValues(t, 6000, scalar(t, pool, "SELECT count(DISTINCT line) FROM etl_quarantine"))
}

// TestLineRefAndKeyHash: a row's file and line survive their packing at
// the largest values an import allows, and keys hash apart and alike.
func TestLineRefAndKeyHash(t *testing.T) {
	for _, c := range []struct {
		file int
		line int64
	}{{1, 1}, {maxEventFile - 1, maxEventLine - 1}, {7, 1 << 31}} {
		r := newLineRef(c.file, c.line)
		require.Equal(t, c.file, r.fileNo())
		require.Equal(t, c.line, r.line())
	}
	require.Equal(t, hashKey("12|H1-0001"), hashKey("12|H1-0001"))
	require.NotEqual(t, hashKey("12|H1-0001"), hashKey("12|H1-0002"))
	require.NotEqual(t, hashKey("1|2H1-0001"), hashKey("12|H1-0001"))
}

// BenchmarkKeyMemory measures what an import holds per natural key of a
// keyed flow (docs/flows.md): the heap of a map of 1,000,000 keys, as
// checkRow fills it, divided by the keys.
//
//	go test ./engine/etl -run '^$' -bench KeyMemory -benchtime 1x
func BenchmarkKeyMemory(b *testing.B) {
	const n = 1_000_000
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		keys := map[keyHash]lineRef{}
		for i := range n {
			keys[hashKey(strconv.Itoa(100000000+i)+"|0300112"+strconv.Itoa(i))] = newLineRef(1, int64(i+2))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/key")
		runtime.KeepAlive(keys)
	}
}
