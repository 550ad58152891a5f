package etl_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/schema"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// benchRows is the size of the pharmacy file of BenchmarkImportPharmacy:
// BEAVER_BENCH_ROWS, or the 10 million rows the issue asks to report.
func benchRows(b *testing.B) int {
	if s := os.Getenv("BEAVER_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("BEAVER_BENCH_ROWS=%q: want a positive integer", s)
		}
		return n
	}
	return 10_000_000
}

// writeBenchFiles writes a registry of persons, a product dictionary and a
// pharmacy file of rows dispensings (seeded, so every run reads the same
// bytes). About 1 row in 1000 is refused (an unknown person, a dispensing
// before birth or a non-positive pack count), so validation has work.
func writeBenchFiles(b *testing.B, dir string, rows int) (personPath, productPath, pharmacyPath string) {
	b.Helper()
	persons := min(max(rows/20, 100_000), 1_000_000)
	rng := rand.New(rand.NewPCG(7, 11))
	create := func(name string, fill func(w *bufio.Writer)) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		fill(w)
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		return p
	}
	births := make([]time.Time, persons+1)
	personPath = create("person.csv", func(w *bufio.Writer) {
		w.WriteString("person_id;sex;birth_date;death_date;birth_municipality\n")
		for id := 1; id <= persons; id++ {
			births[id] = time.Date(1930+rng.IntN(80), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
			sex := "M"
			if rng.IntN(2) == 0 {
				sex = "F"
			}
			fmt.Fprintf(w, "%d;%s;%s;;0%05d\n", id, sex, births[id].Format(time.DateOnly), 15000+rng.IntN(200))
		}
	})
	const products = 200
	atcs := []string{"A10BA02", "C09AA05", "C10AA05", "B01AC06", "N02BE01", "R03AK06", "C07AB07", "A02BC01"}
	productPath = create("product.csv", func(w *bufio.Writer) {
		w.WriteString("aic;atc;name;units_per_pack;ddd_per_pack;valid_from;valid_to\n")
		for i := 0; i < products; i++ {
			fmt.Fprintf(w, "%09d;%s;product %d;28;14;2000-01-01;\n", 10_000_000+i, atcs[i%len(atcs)], i)
		}
	})
	pharmacyPath = create("pharmacy.csv", func(w *bufio.Writer) {
		w.WriteString("person_id;dispensing_date;aic;atc;packs;prescriber_id;cost;copay\n")
		base := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := 0; i < rows; i++ {
			id := 1 + rng.IntN(persons)
			day := base.AddDate(0, 0, rng.IntN(8*365))
			packs := 1 + rng.IntN(3)
			switch i % 1000 {
			case 17:
				id = persons + 1 + rng.IntN(1000) // not in the registry
			case 517:
				day = births[id].AddDate(0, 0, -1) // before birth
			case 917:
				packs = 0
			}
			p := rng.IntN(products)
			fmt.Fprintf(w, "%d;%s;%09d;%s;%d;GP%04d;%d.%02d;%d\n", id, day.Format(time.DateOnly), 10_000_000+p,
				atcs[p%len(atcs)], packs, rng.IntN(5000), 3+rng.IntN(60), rng.IntN(100), rng.IntN(3))
		}
	})
	return personPath, productPath, pharmacyPath
}

// BenchmarkImportPharmacy compares beaver's validated import of a pharmacy
// file with a plain `psql \copy` of the same file into an unindexed
// (logged) table on the same server, in the same run. Each iteration uses
// a fresh database holding the registry and the product dictionary. It
// reports rows/s of both, beaver's as a percentage of psql's (the issue's
// target is >= 70), and the index builds and areas separately.
func BenchmarkImportPharmacy(b *testing.B) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		b.Fatal("BenchmarkImportPharmacy needs psql (Debian package postgresql-client) to measure the \\copy baseline: ", err)
	}
	rows := benchRows(b)
	dir := b.TempDir()
	personPath, productPath, pharmacyPath := writeBenchFiles(b, dir, rows)
	ctx := context.Background()
	var copyTime, loadTime, indexTime, publishTime, areaTime time.Duration
	var published int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		url := pgtest.URL(b)
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := schema.EnsurePartitions(ctx, pool, 8); err != nil {
			b.Fatal(err)
		}
		o := opts()
		o.ImportDate = time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC)
		if _, err := etl.Load(ctx, pool, []string{personPath, productPath}, o); err != nil {
			b.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `CREATE TABLE bench_plain (person_id bigint, dispensing_date date, aic text, atc text,
			packs float8, prescriber_id text, cost float8, copay float8)`); err != nil {
			b.Fatal(err)
		}
		checkpoint(b, pool)
		b.StartTimer()

		start := time.Now()
		cmd := exec.Command(psql, url, "-v", "ON_ERROR_STOP=1", "-c",
			`\copy bench_plain FROM '`+pharmacyPath+`' WITH (FORMAT csv, HEADER true, DELIMITER ';')`)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("psql \\copy: %v\n%s", err, out)
		}
		copyTime += time.Since(start)
		b.StopTimer()
		checkpoint(b, pool)
		b.StartTimer()

		start = time.Now()
		res, err := etl.Load(ctx, pool, []string{pharmacyPath}, o)
		if err != nil {
			b.Fatal(err)
		}
		total := time.Since(start)
		indexTime += time.Duration(res.Timings.IndexMS) * time.Millisecond
		publishTime += time.Duration(res.Timings.PublishMS) * time.Millisecond
		loadTime += total - time.Duration(res.Timings.IndexMS)*time.Millisecond
		published += res.RowsPublished

		start = time.Now()
		if err := etl.MaterializeAreas(ctx, pool, res.DataVersion); err != nil {
			b.Fatal(err)
		}
		areaTime += time.Since(start)
		b.StopTimer()
		pool.Close()
		b.StartTimer()
	}
	n := float64(b.N)
	psqlRate := float64(rows) * n / copyTime.Seconds()
	beaverRate := float64(rows) * n / loadTime.Seconds()
	b.ReportMetric(psqlRate, "psql_rows/s")
	b.ReportMetric(beaverRate, "beaver_rows/s")
	b.ReportMetric(100*beaverRate/psqlRate, "pct_of_psql")
	b.ReportMetric(copyTime.Seconds()/n, "psql_s")
	b.ReportMetric(loadTime.Seconds()/n, "import_s")
	b.ReportMetric(publishTime.Seconds()/n, "publish_s")
	b.ReportMetric(indexTime.Seconds()/n, "index_s")
	b.ReportMetric(areaTime.Seconds()/n, "areas_s")
	b.ReportMetric(float64(published)/n, "rows_published")
	b.ReportMetric(peakRSS(b), "peak_rss_MB")
}

// checkpoint writes the dirty pages out before a timed step, so that each
// step pays for its own writes and not for the previous one's (at 10M rows
// the \copy leaves about a gigabyte of dirty pages behind).
func checkpoint(b *testing.B, pool *pgxpool.Pool) {
	if _, err := pool.Exec(context.Background(), "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
}

// peakRSS is the benchmark process's peak resident memory (VmHWM), in MB:
// the import's memory, since generating the files streams.
func peakRSS(b *testing.B) float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
