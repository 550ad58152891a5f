package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/schema/pgtest"
)

const etlPersons = "person_id;sex;birth_date;death_date\n1;F;1950-03-12;\n2;M;1961-07-01;2022-06-01\n"

func etlCount(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func TestETLLoadCommand(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "person.csv"), []byte(etlPersons), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "exemption_2022.csv"),
		[]byte("person_id,code,start_date\n1,013,2020-01-01\n2,013,2023-01-01\n3,013,2020-01-01\n"), 0o644))

	out, code := runBeaver(t, "", "etl", "load", dir, "--database-url", url, "--import-date", "2023-06-30", "--user", "anna")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "published data version 1: 5 rows read, 3 published, 2 rejected")
	require.Contains(t, out, "after_death")
	// Each file's line says rows read, published and rejected (issue 15,
	// point 6: it said "3 rows, 2 rejected", read as published).
	require.Contains(t, out, `exemption_2022.csv [exemption, utf-8, ","] 3 rows read, 1 published, 2 rejected`)
	require.Contains(t, out, `person.csv [person, utf-8, ";"] 2 rows read, 2 published, 0 rejected`)
	require.Contains(t, out, "unknown_person")
	require.EqualValues(t, 1, etlCount(t, pool, "SELECT count(*) FROM exemption"))
	require.EqualValues(t, 8, etlCount(t, pool, "SELECT value::int FROM etl_setting WHERE key = 'partitions'"))

	out, code = runBeaver(t, "", "etl", "load", "--database-url", url, filepath.Join(dir, "person.csv"))
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "nothing new")

	bad := filepath.Join(t.TempDir(), "pharmacy.csv")
	require.NoError(t, os.WriteFile(bad, []byte("person_id;dispensing_date;packs\n1;2022-01-01;1\n"), 0o644))
	out, code = runBeaver(t, "", "etl", "load", bad, "--database-url", url)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "failed, nothing published")
	require.Equal(t, 1, strings.Count(out, "missing required column(s) aic"), "the reason is said once:\n%s", out)

	// An error said without the package's prefix again.
	out, code = runBeaver(t, "", "etl", "load", filepath.Join(t.TempDir(), "none.csv"), "--database-url", url)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "beaver etl: stat ")
	require.NotContains(t, out, "etl: etl:")

	out, code = runBeaver(t, "", "etl", "history", "--database-url", url)
	require.Equal(t, 0, code, out)
	require.Regexp(t, `(?m)^1\s+published\s+1\s+.*anna\s+5\s+3\s+2$`, out)
	require.Regexp(t, `(?m)^2\s+unchanged`, out)
	require.Regexp(t, `(?m)^3\s+failed`, out)

	out, code = runBeaver(t, "", "etl", "load", bad, "--flow", "nope", "--database-url", url)
	require.Equal(t, 2, code, out)

	// Diagnostics and areas were computed after the publish.
	out, code = runBeaver(t, "", "etl", "diagnose", "--database-url", url)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "diagnostics of data version 1 (import date 2023-06-30)")
	require.Contains(t, out, "exemption: 1 rows")
	require.Contains(t, out, "quarantined unknown_person: 1")
	out, code = runBeaver(t, "", "etl", "diagnose", "--json", "--database-url", url)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, `"data_version": 1`)
	require.EqualValues(t, 1, etlCount(t, pool, "SELECT count(*) FROM area_person WHERE area = 'diabetes' AND person_id = 1"))

	// An import whose every row is refused publishes nothing and says so.
	refused := filepath.Join(t.TempDir(), "exemption.csv")
	require.NoError(t, os.WriteFile(refused, []byte("person_id,code,start_date\n7,013,2020-01-01\n8,013,2020-01-01\n"), 0o644))
	out, code = runBeaver(t, "", "etl", "load", refused, "--database-url", url, "--import-date", "2023-06-30")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "failed, nothing published: every row was refused")
	require.Contains(t, out, `exemption.csv [exemption, utf-8, ","] 2 rows read, 2 rejected, none published`)
	require.EqualValues(t, 1, etlCount(t, pool, "SELECT max(version) FROM etl_data_version"))
}

func TestInitPartitions(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	out, code := runBeaver(t, "", "init", "--partitions", "4", "--database-url", url)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "4 partitions")
	require.EqualValues(t, 4, etlCount(t, pool, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'pharmacy'::regclass"))
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "person.csv"), []byte(etlPersons), 0o644))
	out, code = runBeaver(t, "", "etl", "load", dir, "--database-url", url)
	require.Equal(t, 0, code, out)
	out, code = runBeaver(t, "", "init", "--partitions", "16", "--database-url", url)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "cannot change once flow data exists")
}

// TestETLKillMidLoad kills an import with SIGKILL while it copies a large
// file: the published data must stay exactly as before, and the next import
// must clean up and succeed.
func TestETLKillMidLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	dir := t.TempDir()
	persons := filepath.Join(dir, "person.csv")
	f, err := os.Create(persons)
	require.NoError(t, err)
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "person_id;sex;birth_date")
	for i := 1; i <= 1000; i++ {
		fmt.Fprintf(w, "%d;F;1950-01-01\n", i)
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	small := filepath.Join(dir, "pharmacy_small.csv")
	require.NoError(t, os.WriteFile(small, []byte("person_id;dispensing_date;aic;packs\n1;2022-01-01;012345678;1\n2;2022-01-02;012345678;2\n"), 0o644))
	out, code := runBeaver(t, "", "etl", "load", persons, small, "--database-url", url, "--import-date", "2023-06-30")
	require.Equal(t, 0, code, out)

	const rows = 500_000
	big := filepath.Join(t.TempDir(), "pharmacy_big.csv")
	f, err = os.Create(big)
	require.NoError(t, err)
	w = bufio.NewWriter(f)
	fmt.Fprintln(w, "person_id;dispensing_date;aic;atc;packs;prescriber_id;cost;copay")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(w, "%d;2022-%02d-%02d;%09d;A10BA02;%d;GP%d;%d.50;2\n", i%1000+1, i%12+1, i%28+1, i%5000, i%3+1, i%200, i%40)
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())

	before := etlCount(t, pool, "SELECT count(*) FROM pharmacy")
	require.EqualValues(t, 2, before)

	p := start(t, nil, "etl", "load", big, "--database-url", url, "--import-date", "2023-06-30")
	// Wait until the server is copying rows of the big file, then kill -9.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var copied int64
		require.NoError(t, pool.QueryRow(ctx, `SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy
			WHERE relid::regclass::text ~ '^pharmacy_p[0-9]+_v[0-9]+$'`).Scan(&copied))
		if copied > 0 {
			break
		}
		select {
		case err := <-p.done:
			t.Fatalf("the import ended (%v) before it could be killed mid-copy:\n%s", err, p.Stderr())
		default:
		}
		require.True(t, time.Now().Before(deadline), "the import never started copying:\n%s", p.Stderr())
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, p.cmd.Process.Kill())
	<-p.done

	require.EqualValues(t, before, etlCount(t, pool, "SELECT count(*) FROM pharmacy"))
	require.EqualValues(t, 1, etlCount(t, pool, "SELECT max(version) FROM etl_data_version"))
	require.EqualValues(t, 1, etlCount(t, pool, "SELECT count(*) FROM etl_import WHERE state = 'loading'"))

	out, code = runBeaver(t, "", "etl", "load", big, "--database-url", url, "--import-date", "2023-06-30")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "published data version 2")
	require.EqualValues(t, 1, etlCount(t, pool, "SELECT count(*) FROM etl_import WHERE state = 'abandoned'"))
	// The product dictionary is empty, so every row is published.
	require.EqualValues(t, before+rows, etlCount(t, pool, "SELECT count(*) FROM pharmacy"))
	require.EqualValues(t, 0, etlCount(t, pool, "SELECT count(*) FROM pg_class WHERE relname LIKE 'etl_stage%'"))
	require.EqualValues(t, 0, etlCount(t, pool, "SELECT count(*) FROM pg_class WHERE relname ~ '_p[0-9]+_v[0-9]+$' AND NOT relispartition"), "unattached leaves")
}
