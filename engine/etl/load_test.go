package etl_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/schema"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var importDate = time.Date(2023, 6, 30, 0, 0, 0, 0, time.UTC)

func opts() etl.Options {
	return etl.Options{ImportDate: importDate, StartedBy: "tester", Logger: slog.New(slog.DiscardHandler)}
}

// write creates the named files in a fresh directory and returns their paths.
func write(t *testing.T, files ...string) []string {
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

// Registry: 1..4 alive, 5 died on 2021-03-15, 6 born 2022-01-10.
const persons = `person_id;sex;birth_date;death_date;birth_municipality
1;F;12/03/1950;;015146
2;M;1961-07-01;;015146
3;F;1970-01-31;;
4;M;1945-02-28;;
5;M;1938-11-11;15/03/2021;
6;F;2022-01-10;;
`

const products = `aic,atc,name,units_per_pack,ddd_per_pack,valid_from,valid_to
012345678,A10BA02,metformin 500,30,15,2000-01-01,
023456789,C09AA05,ramipril 5,28,28,2000-01-01,2019-12-31
`

// pharmacy_2022.csv: line 2 is good, every other line has one fault.
const pharmacy = `person_id;dispensing_date;aic;atc;packs;prescriber_id;cost;copay
1;2022-03-01;012345678;A10BA02;2;GP1;12,50;2
99;2022-03-01;012345678;A10BA02;1;GP1;5;0
2;2022-03-01;012345678;A10BA02;0;GP1;5;0
2;2024-01-01;012345678;A10BA02;1;GP1;5;0
6;2021-12-01;012345678;A10BA02;1;GP1;5;0
5;2022-03-01;012345678;A10BA02;1;GP1;5;0
3;2022-03-01;999999999;A10BA02;1;GP1;5;0
3;31/02/2022;012345678;A10BA02;1;GP1;5;0
3;2022-03-01;023456789;C09AA05;1;GP1;5;0
;2022-03-01;012345678;A10BA02;1;GP1;5;0
3;2022-03-02;012345678;A10BA02;1
4;2022-03-02;012345678;A10BA02;1;GP2;7.5;1
`

const sdo = `person_id,discharge_id,hospital,admission_date,discharge_date,regime,drg,tariff,diag_princ,diag_sec_1,diag_sec_2,proc_princ,proc_princ_date
1,H1-0001,030001,2022-05-02,2022-05-09,1,127,3500.5,4280,25000,4019,8952,2022-05-03
2,H1-0002,030001,2022-06-01,2022-06-02,2,,800,ABCDE,,,,
2,H1-0003,030001,2022-06-10,2022-06-12,1,,800,03812,,,,
3,H1-0001,030001,2022-06-10,2022-06-01,1,,800,4019,,,,
3,H1-0009,030001,2022-07-01,2022-07-02,1,,800,4019,,,,
3,H1-0009,030001,2022-07-05,2022-07-06,1,,800,4019,,,,
`

const exemptions = "person_id;code;start_date;end_date\n" +
	"1;013.250;2015-01-01;\n" +
	"4;043.446.0;2018-01-01;\n" +
	"2;013;2010-05-05;2030-12-31\n"

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

type quarantined struct {
	File   string
	Line   int64
	Column string
	Reason string
}

func quarantine(t *testing.T, pool *pgxpool.Pool, importID int64) []quarantined {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT f.path, q.line, q.column_name, q.reason FROM etl_quarantine q
		JOIN etl_import_file f ON f.import_id = q.import_id AND f.file_no = q.file_no
		WHERE q.import_id = $1 ORDER BY f.file_no, q.line, q.column_name, q.reason`, importID)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (quarantined, error) {
		var q quarantined
		err := r.Scan(&q.File, &q.Line, &q.Column, &q.Reason)
		q.File = filepath.Base(q.File)
		return q, err
	})
	require.NoError(t, err)
	return out
}

func TestLoadPublishesValidRowsAndQuarantinesTheRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	paths := write(t, "person.csv", persons, "product.csv", products, "pharmacy_2022.csv", pharmacy,
		"sdo_2022.csv", sdo, "exemption.csv", exemptions)
	res, err := etl.Load(ctx, pool, paths, opts())
	require.NoError(t, err)
	require.Equal(t, etl.StatePublished, res.State)
	require.EqualValues(t, 1, res.DataVersion)

	require.EqualValues(t, 6, count(t, pool, "SELECT count(*) FROM person"))
	require.EqualValues(t, 2, count(t, pool, "SELECT count(*) FROM dict_product"))
	require.EqualValues(t, 2, count(t, pool, "SELECT count(*) FROM pharmacy WHERE data_version = 1"))
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM pharmacy WHERE person_id = 1 AND packs = 2 AND cost = 12.5"))
	require.EqualValues(t, 2, count(t, pool, "SELECT count(*) FROM sdo"))
	require.EqualValues(t, 3, count(t, pool, "SELECT count(*) FROM sdo_diagnosis WHERE person_id = 1 AND discharge_id = 'H1-0001'"))
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM sdo_diagnosis WHERE person_id = 1 AND position = 0 AND code = '4280'"))
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM sdo_procedure WHERE code = '8952' AND procedure_date = '2022-05-03'"))
	require.EqualValues(t, 2, count(t, pool, "SELECT count(*) FROM exemption"))
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM person WHERE person_id = 1 AND birth_date = '1950-03-12' AND birth_municipality = '015146'"))
	// Rows land in the hash partitions.
	require.EqualValues(t, 8, count(t, pool, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'pharmacy'::regclass"))

	want := []quarantined{
		{"pharmacy_2022.csv", 3, "person_id", "unknown_person"},
		{"pharmacy_2022.csv", 4, "packs", "not_positive"},
		{"pharmacy_2022.csv", 5, "dispensing_date", "date_after_import"},
		{"pharmacy_2022.csv", 6, "dispensing_date", "before_birth"},
		{"pharmacy_2022.csv", 7, "dispensing_date", "after_death"},
		{"pharmacy_2022.csv", 8, "aic", "unknown_code"},
		{"pharmacy_2022.csv", 9, "dispensing_date", "bad_date"},
		{"pharmacy_2022.csv", 10, "aic", "code_out_of_validity"},
		{"pharmacy_2022.csv", 11, "person_id", "required"},
		{"pharmacy_2022.csv", 12, "*", "field_count"},
		{"sdo_2022.csv", 3, "diag_princ", "unknown_code"},
		{"sdo_2022.csv", 4, "diag_princ", "code_out_of_validity"},
		{"sdo_2022.csv", 5, "discharge_date", "date_order"},
		{"sdo_2022.csv", 7, "person_id+discharge_id", "duplicate_key"},
		{"exemption.csv", 3, "code", "code_out_of_validity"},
	}
	require.Equal(t, want, quarantine(t, pool, res.ImportID))
	require.EqualValues(t, 15, res.RowsRejected)
	require.EqualValues(t, 1, res.RejectedBy["unknown_person"])
	require.EqualValues(t, 3, res.RejectedBy["code_out_of_validity"])

	var state, by string
	var version, read, rejected int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT state, started_by, data_version, rows_read, rows_rejected FROM etl_import WHERE id = $1`,
		res.ImportID).Scan(&state, &by, &version, &read, &rejected))
	require.Equal(t, []any{"published", "tester", int64(1), int64(6 + 2 + 12 + 6 + 3), int64(15)},
		[]any{state, by, version, read, rejected})
	require.EqualValues(t, 5, count(t, pool, "SELECT count(*) FROM etl_import_file WHERE import_id = $1 AND state = 'published' AND length(sha256) = 64", res.ImportID))
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM etl_data_version WHERE version = 1 AND import_id = $1", res.ImportID))

	// The same content again is a no-op that says so.
	again, err := etl.Load(ctx, pool, paths, opts())
	require.NoError(t, err)
	require.Equal(t, etl.StateUnchanged, again.State)
	require.Contains(t, again.Files[2].Note, "already published by import")
	require.EqualValues(t, 2, count(t, pool, "SELECT count(*) FROM pharmacy"))
	require.EqualValues(t, 1, count(t, pool, "SELECT max(version) FROM etl_data_version"))

	// A new file appends as version 2; keys already published are refused.
	more := write(t, "sdo_2023.csv", "person_id,discharge_id,admission_date,discharge_date,diag_princ\n"+
		"1,H1-0001,2023-01-02,2023-01-05,4019\n4,H2-0001,2023-01-02,2023-01-05,4019\n")
	res2, err := etl.Load(ctx, pool, more, opts())
	require.NoError(t, err)
	require.EqualValues(t, 2, res2.DataVersion)
	require.Equal(t, []quarantined{{"sdo_2023.csv", 2, "person_id+discharge_id", "already_published"}}, quarantine(t, pool, res2.ImportID))
	require.EqualValues(t, 2, count(t, pool, "SELECT count(*) FROM sdo WHERE data_version = 1"))
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM sdo WHERE data_version = 2"))
}

func TestLoadRefusesBadFilesWhole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	base, err := etl.Load(ctx, pool, write(t, "person.csv", persons), opts())
	require.NoError(t, err)

	// A valid UTF-8 start longer than the sniffing window, then a Latin-1 byte.
	var long strings.Builder
	long.WriteString("person_id;dispensing_date;aic;packs\n")
	for long.Len() < 70<<10 {
		long.WriteString("1;2022-01-01;012345678;1\n")
	}
	long.WriteString("1;2022-01-01;caf\xe8;1\n")
	cases := []struct {
		name, file, content, want string
	}{
		{"empty", "pharmacy.csv", "", "empty file"},
		{"header only", "pharmacy.csv", "person_id;dispensing_date;aic;packs\n", "a header and no rows"},
		{"missing column", "pharmacy.csv", "person_id;dispensing_date;packs\n1;2022-01-01;1\n", "missing required column(s) aic of flow pharmacy"},
		{"unknown header", "data.csv", "foo;bar\n1;2\n", "unknown header"},
		{"header without required", "data.csv", "person_id;dispensing_date;atc\n1;2022-01-01;A10\n", "lacks required column(s) aic, packs"},
		{"tabs", "pharmacy.csv", "person_id\tdispensing_date\taic\tpacks\n1\t2022-01-01\t1\t1\n", "wrong delimiter"},
		{"mixed delimiters", "pharmacy.csv", "person_id;dispensing_date;aic;packs\n1,2022-01-01,012345678,1\n", "line 2: wrong delimiter"},
		{"undecodable", "pharmacy.csv", long.String(), "undecodable bytes"},
		{"binary", "pharmacy.csv", "person_id;dispensing_date;aic;packs\n1;2022\x00;x;1\n", "undecodable bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			paths := write(t, "product.csv", products, tc.file, tc.content)
			res, err := etl.Load(ctx, pool, paths, opts())
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.Contains(t, err.Error(), tc.file)
			var fe *etl.FileError
			require.True(t, errors.As(err, &fe), "%T %v", err, err)
			require.Equal(t, etl.StateFailed, res.State)
			// Nothing published: not even the good product file.
			require.EqualValues(t, base.DataVersion, count(t, pool, "SELECT max(version) FROM etl_data_version"))
			require.EqualValues(t, 0, count(t, pool, "SELECT count(*) FROM dict_product"))
			require.EqualValues(t, 0, count(t, pool, "SELECT count(*) FROM pharmacy"))
			require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM etl_import WHERE id = $1 AND state = 'failed' AND error LIKE '%' || $2 || '%'", res.ImportID, tc.want))
			require.EqualValues(t, 0, count(t, pool, "SELECT count(*) FROM pg_class WHERE relname LIKE 'etl_stage%'"))
		})
	}
}

func TestLoadLatin1AndComma(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	paths := write(t, "person.csv", persons,
		"outpatient_code.csv", "code;description;tariff;valid_from\n89.7;visita generale \xe8 prima;20,66;01/01/2000\n",
		"outpatient.csv", "person_id;service_date;code;quantity;tariff\n1;02/02/2022;89.7;1;20,66\n2;02/02/2022;89.7;1,5;\n")
	res, err := etl.Load(ctx, pool, paths, opts())
	require.NoError(t, err)
	require.Equal(t, "latin-1", res.Files[1].Encoding)
	require.EqualValues(t, 0, res.RowsRejected)
	var desc string
	require.NoError(t, pool.QueryRow(ctx, "SELECT description FROM dict_outpatient WHERE code = '89.7'").Scan(&desc))
	require.Equal(t, "visita generale è prima", desc)
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM outpatient WHERE quantity = 1.5"))
}

func TestEnsurePartitionsRefusesChangeWithData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	n, err := schema.EnsurePartitions(ctx, pool, 4)
	require.NoError(t, err)
	require.Equal(t, 4, n)
	n, err = schema.EnsurePartitions(ctx, pool, 0)
	require.NoError(t, err)
	require.Equal(t, 4, n)
	n, err = schema.EnsurePartitions(ctx, pool, 2) // no data yet: allowed
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.EqualValues(t, 2, count(t, pool, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'sdo_diagnosis'::regclass"))
	_, err = etl.Load(ctx, pool, write(t, "person.csv", persons), opts())
	require.NoError(t, err)
	_, err = schema.EnsurePartitions(ctx, pool, 8)
	require.ErrorIs(t, err, schema.ErrPartitionsFixed)
	require.EqualValues(t, 2, count(t, pool, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'person'::regclass"))
}

// A registry row updated by a later import stays visible to studies pinned
// to the version that first published it.
func TestRegistryUpdateKeepsFirstVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	_, err := etl.Load(ctx, pool, write(t, "person.csv", persons), opts())
	require.NoError(t, err)
	moved := strings.Replace(persons, "2;M;1961-07-01;;015146", "2;M;1961-07-01;2022-02-02;015146", 1)
	res, err := etl.Load(ctx, pool, write(t, "person.csv", moved), opts())
	require.NoError(t, err)
	require.EqualValues(t, 2, res.DataVersion)
	var version int64
	var death string
	require.NoError(t, pool.QueryRow(ctx, "SELECT data_version, death_date::text FROM person WHERE person_id = 2").Scan(&version, &death))
	require.EqualValues(t, 1, version, "still visible to a study pinned to version 1")
	require.Equal(t, "2022-02-02", death, "with the latest attributes")
}

// A registry update that moves a death date before published events (or a
// birth date after them) is reported, with counts, in the import's result
// and in the diagnostics (issue 14, point 4: accepted silently).
func TestRegistryUpdateReportsConflicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	events := "person_id;dispensing_date;aic;packs\n2;2022-03-01;012345678;1\n2;2022-06-01;012345678;1\n2;2021-01-01;012345678;1\n3;2022-03-01;012345678;1\n"
	_, err := etl.Load(ctx, pool, write(t, "person.csv", persons, "product.csv", products, "pharmacy.csv", events), opts())
	require.NoError(t, err)
	moved := strings.Replace(persons, "2;M;1961-07-01;;015146", "2;M;1961-07-01;2022-02-02;015146", 1)
	moved = strings.Replace(moved, "3;F;1970-01-31;;", "3;F;2022-04-01;;", 1)
	res, err := etl.Load(ctx, pool, write(t, "person.csv", moved), opts())
	require.NoError(t, err)
	require.Equal(t, []etl.RegistryConflict{{Flow: "pharmacy", AfterDeath: 2, BeforeBirth: 1, Persons: 2}}, res.RegistryConflicts)
	require.Contains(t, strings.Join(res.Warnings, "\n"), "put 3 published pharmacy events outside their lives")

	rep, err := etl.Diagnose(ctx, pool, 0)
	require.NoError(t, err)
	for _, f := range rep.Flows {
		want := 0
		if f.Flow == "pharmacy" {
			want = 3
		}
		require.Equal(t, want, f.RegistryConflicts, f.Flow)
	}
}
