package etl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Thresholds of the diagnostics. Robust z-scores use the median and the
// MAD scaled by 1.4826 (the normal-consistent MAD, as R's mad()).
const (
	// OutlierMADs: a person is an outlier in a year when their event count
	// exceeds the median by more than this many scaled MADs (at least 1).
	OutlierMADs = 5.0
	// YearZ: a year's row count is suspicious when its robust z-score
	// against the flow's other years exceeds this in absolute value
	// (Iglewicz and Hoaglin's 3.5).
	YearZ    = 3.5
	madScale = 1.4826
)

// Report is the diagnostics of one data version.
type Report struct {
	DataVersion int64        `json:"data_version"`
	ImportDate  string       `json:"import_date"`
	Generated   time.Time    `json:"generated_at"`
	Flows       []FlowReport `json:"flows"`
}

// FlowReport is the diagnostics of one flow.
type FlowReport struct {
	Flow            string         `json:"flow"`
	Rows            int64          `json:"rows"`
	Years           []YearReport   `json:"years"`
	EmptyMonths     []string       `json:"empty_months"`
	SuspiciousYears []int          `json:"suspicious_years"`
	DatesOutOfRange map[string]int `json:"dates_out_of_range"`
	// RegistryConflicts counts the events before their person's birth or
	// after their death. Every event is checked against the registry when
	// it is imported, so these are events that a later registry update
	// put outside the person's life.
	RegistryConflicts int `json:"registry_conflicts"`
	// DuplicateRows counts, for a flow without a natural key, the rows the
	// imports up to the version published that repeated an earlier row of
	// their import exactly (Result.DuplicateRows).
	DuplicateRows int64          `json:"duplicate_rows"`
	Codes         []CodeFinding  `json:"codes"`
	Quarantined   map[string]int `json:"quarantined_by_reason"`
}

// YearReport is one flow's year.
type YearReport struct {
	Year      int       `json:"year"`
	Rows      int64     `json:"rows"`
	Persons   int64     `json:"persons"`
	PerPerson Quantiles `json:"events_per_person"`
	// Outliers is how many persons exceed the robust threshold; Top lists
	// the largest (person_id, events).
	Threshold float64    `json:"outlier_threshold"`
	Outliers  int64      `json:"outlier_persons"`
	Top       [][2]int64 `json:"top_outliers"`
	// YoY is the relative change from the previous year (nil for the
	// first); Z the robust z-score of the row count among the years.
	YoY *float64 `json:"change_from_previous_year"`
	Z   float64  `json:"robust_z"`
}

// Quantiles summarises a distribution of counts.
type Quantiles struct {
	Min, P50, P90, P99, Max float64
}

// CodeFinding is a code column's unknown or out-of-validity codes, in the
// published rows (re-checked against today's dictionaries) and in the
// quarantine of the imports up to the version.
type CodeFinding struct {
	Table        string      `json:"table"`
	Column       string      `json:"column"`
	System       string      `json:"system"`
	Unknown      int64       `json:"published_unknown"`
	OutOfValid   int64       `json:"published_out_of_validity"`
	Quarantined  int64       `json:"quarantined"`
	TopOffenders []CodeCount `json:"top_offenders"`
}

// CodeCount is a code and how often it was refused.
type CodeCount struct {
	Code  string `json:"code"`
	Count int64  `json:"count"`
}

// codeChecks are the published code columns the diagnostics re-check:
// table, column, system, date column.
var codeChecks = [][4]string{
	{"sdo_diagnosis", "code", CodeICD9Dx, "admission_date"},
	{"sdo_procedure", "code", CodeICD9Proc, "admission_date"},
	{"er_diagnosis", "code", CodeICD9Dx, "arrival_date"},
	{"pharmacy", "aic", CodeProduct, "dispensing_date"},
	{"direct_distribution", "aic", CodeProduct, "dispensing_date"},
	{"exemption", "code", CodeExemption, "start_date"},
	{"outpatient", "code", CodeOutpatient, "service_date"},
}

// Diagnose computes the diagnostics of a data version (0: the latest) and
// stores them in etl_diagnostics.
func Diagnose(ctx context.Context, pool *pgxpool.Pool, version int64) (*Report, error) {
	if version == 0 {
		v, err := LatestVersion(ctx, pool)
		if err != nil {
			return nil, err
		}
		version = v
	}
	var importDate time.Time
	err := pool.QueryRow(ctx, `SELECT i.import_date FROM etl_data_version v JOIN etl_import i ON i.id = v.import_id
		WHERE v.version = $1`, version).Scan(&importDate)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("etl: diagnose: no data version %d", version)
	}
	if err != nil {
		return nil, fmt.Errorf("etl: diagnose: %w", err)
	}
	rep := &Report{DataVersion: version, ImportDate: importDate.Format(time.DateOnly), Generated: time.Now().UTC()}
	// The flows are diagnosed side by side, one per core, on connections
	// of their own with JIT off: the queries are full scans whose cost
	// estimates are far above jit_above_cost, and compiling them took longer
	// than running several of them (measured: 78 s for a 100,000-person
	// region with JIT on, one flow after the other).
	cfg := pool.Config().Copy()
	cfg.MaxConns = int32(max(2, runtime.NumCPU()))
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["jit"] = "off"
	// The per-person counts group by person_id, the hash partitions' key:
	// aggregated partition by partition, each hash table fits in memory
	// (measured on 49 million outpatient rows of 1,000,000 persons × 10
	// years: 25 s with one aggregate over all partitions, sorted on disk;
	// 17 s partition-wise with 4 MB of work_mem, 13 s with 256 MB). A
	// query holds every partition's hash table to its end, up to
	// partitions × work_mem × hash_mem_multiplier: 128 MB took a backend to
	// 2.2 GB on 8 partitions, 32 MB to 0.8 GB for 7% more time.
	cfg.ConnConfig.RuntimeParams["enable_partitionwise_aggregate"] = "on"
	cfg.ConnConfig.RuntimeParams["work_mem"] = "32MB"
	// The dates are checked against the registry partition by partition
	// (flows and person share the hash partitioning): hash joins of a few
	// hundred thousand persons each. Without it the planner, which has no
	// statistics on the partitioned parents, chose a nested loop over the
	// person index: 42 s instead of 9 s on those outpatient rows.
	cfg.ConnConfig.RuntimeParams["enable_partitionwise_join"] = "on"
	dpool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("etl: diagnose: %w", err)
	}
	defer dpool.Close()
	var flows []*Flow
	for _, f := range Flows {
		if !f.Dictionary && f.EventDate != "" {
			flows = append(flows, f)
		}
	}
	reports := make([]*FlowReport, len(flows))
	errs := make([]error, len(flows))
	sem := make(chan struct{}, cfg.MaxConns)
	var wg sync.WaitGroup
	for i, f := range flows {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			reports[i], errs[i] = diagnoseFlow(ctx, dpool, f, version, importDate)
		}()
	}
	wg.Wait()
	for i, f := range flows {
		if errs[i] != nil {
			return nil, fmt.Errorf("etl: diagnose %s: %w", f.Name, errs[i])
		}
		rep.Flows = append(rep.Flows, *reports[i])
	}
	doc, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	_, err = pool.Exec(ctx, `INSERT INTO etl_diagnostics (data_version, report) VALUES ($1, $2)
		ON CONFLICT (data_version) DO UPDATE SET report = EXCLUDED.report, generated_at = now()`, version, doc)
	if err != nil {
		return nil, fmt.Errorf("etl: store diagnostics: %w", err)
	}
	return rep, nil
}

// StoredDiagnostics returns the stored report of a version (0: latest), or
// nil when none is stored.
func StoredDiagnostics(ctx context.Context, pool *pgxpool.Pool, version int64) (*Report, error) {
	var doc []byte
	err := pool.QueryRow(ctx, `SELECT report FROM etl_diagnostics WHERE data_version =
		CASE WHEN $1 = 0 THEN (SELECT max(version) FROM etl_data_version) ELSE $1 END`, version).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("etl: read diagnostics: %w", err)
	}
	var rep Report
	if err := json.Unmarshal(doc, &rep); err != nil {
		return nil, fmt.Errorf("etl: read diagnostics: %w", err)
	}
	return &rep, nil
}

func diagnoseFlow(ctx context.Context, dpool *pgxpool.Pool, f *Flow, version int64, importDate time.Time) (*FlowReport, error) {
	t, d := ident(f.Table), ident(f.EventDate)
	fr := &FlowReport{Flow: f.Name, DatesOutOfRange: map[string]int{}, Quarantined: map[string]int{}, EmptyMonths: []string{}, SuspiciousYears: []int{}, Codes: []CodeFinding{}}
	// One connection for the flow: the rows per person and year are
	// counted once, into a temporary table that the distribution and the
	// outliers read.
	conn, err := dpool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	pp := ident("diagnose_pp_" + f.Name)
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE `+pp+` (year integer, person_id bigint, n float8)`); err != nil {
		return nil, err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+pp) //nolint:errcheck
	if _, err := conn.Exec(ctx, `INSERT INTO `+pp+`
		SELECT extract(year FROM `+d+`)::int, person_id, count(*)::float8
		FROM `+t+` WHERE data_version <= $1 GROUP BY 1, 2`, version); err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `WITH pp AS (SELECT * FROM `+pp+`),
		med AS (SELECT year, percentile_cont(0.5) WITHIN GROUP (ORDER BY n) AS m FROM pp GROUP BY year),
		mad AS (SELECT pp.year, percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(pp.n - med.m)) AS mad
			FROM pp JOIN med USING (year) GROUP BY pp.year)
		SELECT pp.year, sum(pp.n)::bigint, count(*), min(pp.n),
			percentile_cont(0.5) WITHIN GROUP (ORDER BY pp.n), percentile_cont(0.9) WITHIN GROUP (ORDER BY pp.n),
			percentile_cont(0.99) WITHIN GROUP (ORDER BY pp.n), max(pp.n),
			min(med.m) + $1 * greatest($2 * min(mad.mad), 1)
		FROM pp JOIN med USING (year) JOIN mad USING (year) GROUP BY pp.year ORDER BY pp.year`,
		OutlierMADs, madScale)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var y YearReport
		q := &y.PerPerson
		if err := rows.Scan(&y.Year, &y.Rows, &y.Persons, &q.Min, &q.P50, &q.P90, &q.P99, &q.Max, &y.Threshold); err != nil {
			return nil, err
		}
		y.Top = [][2]int64{}
		fr.Years = append(fr.Years, y)
		fr.Rows += y.Rows
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The outlier persons of every year in one scan (one scan a year
	// cost minutes on a million-person region).
	years := make([]int32, len(fr.Years))
	thresholds := make([]float64, len(fr.Years))
	at := make(map[int]int, len(fr.Years))
	for i, y := range fr.Years {
		years[i], thresholds[i] = int32(y.Year), y.Threshold
		at[y.Year] = i
	}
	rows, err = conn.Query(ctx, `WITH th AS (SELECT * FROM unnest($1::int[], $2::float8[]) AS th(year, threshold))
		SELECT pp.year, pp.person_id, pp.n::bigint FROM `+pp+` pp JOIN th USING (year) WHERE pp.n > th.threshold
		ORDER BY pp.year, pp.n DESC, pp.person_id`, years, thresholds)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var year int
		var p, n int64
		if err := rows.Scan(&year, &p, &n); err != nil {
			return nil, err
		}
		y := &fr.Years[at[year]]
		y.Outliers++
		if len(y.Top) < 10 {
			y.Top = append(y.Top, [2]int64{p, n})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range fr.Years {
		y := &fr.Years[i]
		if i > 0 && fr.Years[i-1].Year == y.Year-1 && fr.Years[i-1].Rows > 0 {
			c := float64(y.Rows)/float64(fr.Years[i-1].Rows) - 1
			y.YoY = &c
		}
	}
	counts := make([]float64, len(fr.Years))
	for i, y := range fr.Years {
		counts[i] = float64(y.Rows)
	}
	for i, z := range robustZ(counts) {
		fr.Years[i].Z = z
		if math.Abs(z) > YearZ {
			fr.SuspiciousYears = append(fr.SuspiciousYears, fr.Years[i].Year)
		}
	}

	rows, err = conn.Query(ctx, `WITH m AS (SELECT DISTINCT date_trunc('month', `+d+`)::date AS month FROM `+t+` WHERE data_version <= $1)
		SELECT to_char(g, 'YYYY-MM') FROM generate_series((SELECT min(month) FROM m), (SELECT max(month) FROM m), interval '1 month') g
		WHERE g::date NOT IN (SELECT month FROM m) ORDER BY g`, version)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, err
		}
		fr.EmptyMonths = append(fr.EmptyMonths, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	var future, old, beforeBirth, afterDeath int
	err = conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE e.`+d+` > $2), count(*) FILTER (WHERE e.`+d+` < DATE '1900-01-01'),
		count(*) FILTER (WHERE e.`+d+` < p.birth_date), count(*) FILTER (WHERE e.`+d+` > p.death_date)
		FROM `+t+` e LEFT JOIN person p ON p.person_id = e.person_id WHERE e.data_version <= $1`, version, importDate).
		Scan(&future, &old, &beforeBirth, &afterDeath)
	if err != nil {
		return nil, err
	}
	fr.DatesOutOfRange = map[string]int{"future": future, "before_1900": old, "before_birth": beforeBirth, "after_death": afterDeath}
	fr.RegistryConflicts = beforeBirth + afterDeath
	err = conn.QueryRow(ctx, `SELECT coalesce(sum((summary->'duplicate_rows'->>$1)::bigint), 0)::bigint FROM etl_import
		WHERE state = 'published' AND data_version <= $2`, f.Name, version).Scan(&fr.DuplicateRows)
	if err != nil {
		return nil, err
	}

	rows, err = conn.Query(ctx, `SELECT q.reason, count(DISTINCT (q.import_id, q.file_no, q.line))
		FROM etl_quarantine q JOIN etl_import_file fl ON fl.import_id = q.import_id AND fl.file_no = q.file_no
		JOIN etl_import i ON i.id = q.import_id
		WHERE fl.flow = $1 AND i.data_version <= $2 GROUP BY q.reason`, f.Name, version)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var r string
		var n int
		if err := rows.Scan(&r, &n); err != nil {
			return nil, err
		}
		fr.Quarantined[r] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	tables := map[string]bool{f.Table: true}
	for _, ch := range f.Children {
		tables[ch.Table] = true
	}
	for _, chk := range codeChecks {
		if !tables[chk[0]] {
			continue
		}
		cf := CodeFinding{Table: chk[0], Column: chk[1], System: chk[2], TopOffenders: []CodeCount{}}
		src, err := dictSQL(chk[2])
		if err != nil {
			return nil, err
		}
		// The rows are first counted by code and date (a few hundred
		// thousand pairs for millions of rows), and each pair is looked up
		// in the dictionary once.
		col, at := ident(chk[1]), ident(chk[3])
		err = conn.QueryRow(ctx, `WITH e AS (SELECT `+col+` AS code, `+at+` AS at, count(*) AS n
				FROM `+ident(chk[0])+` WHERE data_version <= $1 GROUP BY 1, 2)
			SELECT
			coalesce(sum(e.n) FILTER (WHERE NOT EXISTS (SELECT 1 FROM (`+src+`) d WHERE d.code = e.code)), 0)::bigint,
			coalesce(sum(e.n) FILTER (WHERE EXISTS (SELECT 1 FROM (`+src+`) d WHERE d.code = e.code) AND NOT EXISTS (SELECT 1 FROM (`+src+`) d
				WHERE d.code = e.code AND d.valid_from <= e.at AND (d.valid_to IS NULL OR e.at <= d.valid_to))), 0)::bigint
			FROM e WHERE EXISTS (SELECT 1 FROM (`+src+`) d0)`, version).
			Scan(&cf.Unknown, &cf.OutOfValid)
		if err != nil {
			return nil, err
		}
		if cf.Unknown+cf.OutOfValid > 0 {
			fr.Codes = append(fr.Codes, cf)
		}
	}
	for _, c := range f.Columns {
		if c.Code == "" {
			continue
		}
		cf := CodeFinding{Table: f.Table, Column: c.Name, System: c.Code, TopOffenders: []CodeCount{}}
		rows, err := conn.Query(ctx, `SELECT q.value, count(*) FROM etl_quarantine q
			JOIN etl_import_file fl ON fl.import_id = q.import_id AND fl.file_no = q.file_no
			JOIN etl_import i ON i.id = q.import_id
			WHERE fl.flow = $1 AND q.column_name = $2 AND q.reason IN ($3, $4) AND i.data_version <= $5
			GROUP BY q.value ORDER BY count(*) DESC, q.value`, f.Name, c.Name, ReasonUnknownCode, ReasonCodeValidity, version)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var cc CodeCount
			if err := rows.Scan(&cc.Code, &cc.Count); err != nil {
				return nil, err
			}
			cf.Quarantined += cc.Count
			if len(cf.TopOffenders) < 10 {
				cf.TopOffenders = append(cf.TopOffenders, cc)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if cf.Quarantined > 0 {
			fr.Codes = append(fr.Codes, cf)
		}
	}
	return fr, nil
}

// dictSQL is the relation (code, valid_from, valid_to) of a code system's
// published dictionary.
func dictSQL(system string) (string, error) {
	l := &loader{staged: map[string]bool{}}
	return l.codeSourceSQL(system)
}

// robustZ returns (x - median) / (1.4826 MAD) for each x; when the MAD is 0
// it uses the mean absolute deviation scaled by 1.2533 (Iglewicz and
// Hoaglin), and 0 when all values are equal.
func robustZ(x []float64) []float64 {
	z := make([]float64, len(x))
	if len(x) < 3 {
		return z
	}
	med := median(x)
	dev := make([]float64, len(x))
	var meanAbs float64
	for i, v := range x {
		dev[i] = math.Abs(v - med)
		meanAbs += dev[i] / float64(len(x))
	}
	scale := madScale * median(dev)
	if scale == 0 {
		scale = 1.2533 * meanAbs
	}
	if scale == 0 {
		return z
	}
	for i, v := range x {
		z[i] = (v - med) / scale
	}
	return z
}

func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
