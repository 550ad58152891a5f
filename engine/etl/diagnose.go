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

	"github.com/beaver-analytics/beaver/schema/errs"
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
		return nil, errs.Wrap(errs.NotFound, fmt.Errorf("etl: diagnose: no data version %d", version))
	}
	if err != nil {
		return nil, fmt.Errorf("etl: diagnose: %w", err)
	}
	rep := &Report{DataVersion: version, ImportDate: importDate.Format(time.DateOnly), Generated: time.Now().UTC()}
	// The flows are diagnosed side by side, one per core, on connections
	// of their own tuned for full scans (why and the measurements:
	// docs/benchmarks.md, "Diagnostics settings"): JIT off; the per-person
	// counts aggregated partition by partition with a work_mem that bounds
	// a backend's memory (a partition-wise aggregate holds every
	// partition's hash table to its end); the dates checked against the
	// registry partition by partition (flows and person share the hash
	// partitioning).
	cfg := pool.Config().Copy()
	cfg.MaxConns = int32(max(2, runtime.NumCPU()))
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["jit"] = "off"
	cfg.ConnConfig.RuntimeParams["enable_partitionwise_aggregate"] = "on"
	cfg.ConnConfig.RuntimeParams["work_mem"] = "32MB"
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
	flowErrs := make([]error, len(flows))
	sem := make(chan struct{}, cfg.MaxConns)
	var wg sync.WaitGroup
	for i, f := range flows {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			reports[i], flowErrs[i] = diagnoseFlow(ctx, dpool, f, version, importDate)
		}()
	}
	wg.Wait()
	for i, f := range flows {
		if flowErrs[i] != nil {
			return nil, fmt.Errorf("etl: diagnose %s: %w", f.Name, flowErrs[i])
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

// flowDiagnosis is the diagnosis of one flow in progress: its connection
// (with the temporary table of rows per person and year) and its report.
type flowDiagnosis struct {
	conn       *pgxpool.Conn
	f          *Flow
	version    int64
	importDate time.Time
	t, d, pp   string // the flow's table, its event date and the temporary table, quoted
	rep        *FlowReport
}

// diagnoseFlow diagnoses one flow in named stages, on one connection of
// dpool: an error says which stage failed.
func diagnoseFlow(ctx context.Context, dpool *pgxpool.Pool, f *Flow, version int64, importDate time.Time) (*FlowReport, error) {
	fd := &flowDiagnosis{f: f, version: version, importDate: importDate,
		t: ident(f.Table), d: ident(f.EventDate), pp: ident("diagnose_pp_" + f.Name),
		rep: &FlowReport{Flow: f.Name, DatesOutOfRange: map[string]int{}, Quarantined: map[string]int{},
			EmptyMonths: []string{}, SuspiciousYears: []int{}, Codes: []CodeFinding{}}}
	conn, err := dpool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer conn.Release()
	fd.conn = conn
	defer conn.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+fd.pp) //nolint:errcheck
	stages := []struct {
		name string
		run  func(context.Context) error
	}{
		{"count events per person and year", fd.countPerPerson},
		{"years", fd.years},
		{"outliers", fd.outliers},
		{"empty months", fd.emptyMonths},
		{"dates out of range", fd.datesOutOfRange},
		{"duplicate rows", fd.duplicateRows},
		{"quarantined rows", fd.quarantined},
		{"published codes", fd.publishedCodes},
		{"quarantined codes", fd.quarantinedCodes},
	}
	for _, st := range stages {
		if err := st.run(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", st.name, err)
		}
	}
	return fd.rep, nil
}

// countPerPerson counts the rows per person and year once, into a
// temporary table that the distribution and the outliers read.
func (fd *flowDiagnosis) countPerPerson(ctx context.Context) error {
	if _, err := fd.conn.Exec(ctx, `CREATE TEMP TABLE `+fd.pp+` (year integer, person_id bigint, n float8)`); err != nil {
		return err
	}
	_, err := fd.conn.Exec(ctx, `INSERT INTO `+fd.pp+`
		SELECT extract(year FROM `+fd.d+`)::int, person_id, count(*)::float8
		FROM `+fd.t+` WHERE data_version <= $1 GROUP BY 1, 2`, fd.version)
	return err
}

// years fills each year's rows, persons, events per person and outlier
// threshold, then the changes between years and their robust z-scores.
func (fd *flowDiagnosis) years(ctx context.Context) error {
	rows, err := fd.conn.Query(ctx, `WITH pp AS (SELECT * FROM `+fd.pp+`),
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
		return err
	}
	fr := fd.rep
	var y YearReport
	q := &y.PerPerson
	_, err = pgx.ForEachRow(rows, []any{&y.Year, &y.Rows, &y.Persons, &q.Min, &q.P50, &q.P90, &q.P99, &q.Max, &y.Threshold}, func() error {
		y.Top = [][2]int64{}
		fr.Years = append(fr.Years, y)
		fr.Rows += y.Rows
		return nil
	})
	if err != nil {
		return err
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
	return nil
}

// outliers finds the outlier persons of every year in one scan (one scan
// a year cost minutes on a million-person region).
func (fd *flowDiagnosis) outliers(ctx context.Context) error {
	fr := fd.rep
	years := make([]int32, len(fr.Years))
	thresholds := make([]float64, len(fr.Years))
	at := make(map[int]int, len(fr.Years))
	for i, y := range fr.Years {
		years[i], thresholds[i] = int32(y.Year), y.Threshold
		at[y.Year] = i
	}
	rows, err := fd.conn.Query(ctx, `WITH th AS (SELECT * FROM unnest($1::int[], $2::float8[]) AS th(year, threshold))
		SELECT pp.year, pp.person_id, pp.n::bigint FROM `+fd.pp+` pp JOIN th USING (year) WHERE pp.n > th.threshold
		ORDER BY pp.year, pp.n DESC, pp.person_id`, years, thresholds)
	if err != nil {
		return err
	}
	var year int
	var p, n int64
	_, err = pgx.ForEachRow(rows, []any{&year, &p, &n}, func() error {
		y := &fr.Years[at[year]]
		y.Outliers++
		if len(y.Top) < 10 {
			y.Top = append(y.Top, [2]int64{p, n})
		}
		return nil
	})
	return err
}

// emptyMonths lists the months with no rows between the first and the last.
func (fd *flowDiagnosis) emptyMonths(ctx context.Context) error {
	rows, err := fd.conn.Query(ctx, `WITH m AS (SELECT DISTINCT date_trunc('month', `+fd.d+`)::date AS month FROM `+fd.t+` WHERE data_version <= $1)
		SELECT to_char(g, 'YYYY-MM') FROM generate_series((SELECT min(month) FROM m), (SELECT max(month) FROM m), interval '1 month') g
		WHERE g::date NOT IN (SELECT month FROM m) ORDER BY g`, fd.version)
	if err != nil {
		return err
	}
	var m string
	_, err = pgx.ForEachRow(rows, []any{&m}, func() error {
		fd.rep.EmptyMonths = append(fd.rep.EmptyMonths, m)
		return nil
	})
	return err
}

// datesOutOfRange counts the published dates after the import date, before
// 1900, and outside their person's life (registry conflicts).
func (fd *flowDiagnosis) datesOutOfRange(ctx context.Context) error {
	d := fd.d
	var future, old, beforeBirth, afterDeath int
	err := fd.conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE e.`+d+` > $2), count(*) FILTER (WHERE e.`+d+` < DATE '1900-01-01'),
		count(*) FILTER (WHERE e.`+d+` < p.birth_date), count(*) FILTER (WHERE e.`+d+` > p.death_date)
		FROM `+fd.t+` e LEFT JOIN person p ON p.person_id = e.person_id WHERE e.data_version <= $1`, fd.version, fd.importDate).
		Scan(&future, &old, &beforeBirth, &afterDeath)
	if err != nil {
		return err
	}
	fd.rep.DatesOutOfRange = map[string]int{"future": future, "before_1900": old, "before_birth": beforeBirth, "after_death": afterDeath}
	fd.rep.RegistryConflicts = beforeBirth + afterDeath
	return nil
}

// duplicateRows sums the exact duplicates the imports up to the version
// counted (Result.DuplicateRows).
func (fd *flowDiagnosis) duplicateRows(ctx context.Context) error {
	return fd.conn.QueryRow(ctx, `SELECT coalesce(sum((summary->'duplicate_rows'->>$1)::bigint), 0)::bigint FROM etl_import
		WHERE state = 'published' AND data_version <= $2`, fd.f.Name, fd.version).Scan(&fd.rep.DuplicateRows)
}

// quarantined counts the flow's quarantined rows by reason.
func (fd *flowDiagnosis) quarantined(ctx context.Context) error {
	rows, err := fd.conn.Query(ctx, `SELECT q.reason, count(DISTINCT (q.import_id, q.file_no, q.line))
		FROM etl_quarantine q JOIN etl_import_file fl ON fl.import_id = q.import_id AND fl.file_no = q.file_no
		JOIN etl_import i ON i.id = q.import_id
		WHERE fl.flow = $1 AND i.data_version <= $2 GROUP BY q.reason`, fd.f.Name, fd.version)
	if err != nil {
		return err
	}
	var r string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&r, &n}, func() error {
		fd.rep.Quarantined[r] = n
		return nil
	})
	return err
}

// publishedCodes re-checks the published codes of the flow's tables against
// today's dictionaries.
func (fd *flowDiagnosis) publishedCodes(ctx context.Context) error {
	tables := map[string]bool{fd.f.Table: true}
	for _, ch := range fd.f.Children {
		tables[ch.Table] = true
	}
	for _, chk := range codeChecks {
		if !tables[chk[0]] {
			continue
		}
		cf := CodeFinding{Table: chk[0], Column: chk[1], System: chk[2], TopOffenders: []CodeCount{}}
		src, err := dictSQL(chk[2])
		if err != nil {
			return err
		}
		// The rows are first counted by code and date (a few hundred
		// thousand pairs for millions of rows), and each pair is looked up
		// in the dictionary once.
		col, at := ident(chk[1]), ident(chk[3])
		err = fd.conn.QueryRow(ctx, `WITH e AS (SELECT `+col+` AS code, `+at+` AS at, count(*) AS n
				FROM `+ident(chk[0])+` WHERE data_version <= $1 GROUP BY 1, 2)
			SELECT
			coalesce(sum(e.n) FILTER (WHERE NOT EXISTS (SELECT 1 FROM (`+src+`) d WHERE d.code = e.code)), 0)::bigint,
			coalesce(sum(e.n) FILTER (WHERE EXISTS (SELECT 1 FROM (`+src+`) d WHERE d.code = e.code) AND NOT EXISTS (SELECT 1 FROM (`+src+`) d
				WHERE d.code = e.code AND d.valid_from <= e.at AND (d.valid_to IS NULL OR e.at <= d.valid_to))), 0)::bigint
			FROM e WHERE EXISTS (SELECT 1 FROM (`+src+`) d0)`, fd.version).
			Scan(&cf.Unknown, &cf.OutOfValid)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", chk[0], chk[1], err)
		}
		if cf.Unknown+cf.OutOfValid > 0 {
			fd.rep.Codes = append(fd.rep.Codes, cf)
		}
	}
	return nil
}

// quarantinedCodes counts the quarantined codes of each code column, with
// the ten most frequent.
func (fd *flowDiagnosis) quarantinedCodes(ctx context.Context) error {
	f := fd.f
	for _, c := range f.Columns {
		if c.Code == "" {
			continue
		}
		cf := CodeFinding{Table: f.Table, Column: c.Name, System: c.Code, TopOffenders: []CodeCount{}}
		rows, err := fd.conn.Query(ctx, `SELECT q.value, count(*) FROM etl_quarantine q
			JOIN etl_import_file fl ON fl.import_id = q.import_id AND fl.file_no = q.file_no
			JOIN etl_import i ON i.id = q.import_id
			WHERE fl.flow = $1 AND q.column_name = $2 AND q.reason IN ($3, $4) AND i.data_version <= $5
			GROUP BY q.value ORDER BY count(*) DESC, q.value`, f.Name, c.Name, ReasonUnknownCode, ReasonCodeValidity, fd.version)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		var cc CodeCount
		_, err = pgx.ForEachRow(rows, []any{&cc.Code, &cc.Count}, func() error {
			cf.Quarantined += cc.Count
			if len(cf.TopOffenders) < 10 {
				cf.TopOffenders = append(cf.TopOffenders, cc)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		if cf.Quarantined > 0 {
			fd.rep.Codes = append(fd.rep.Codes, cf)
		}
	}
	return nil
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
