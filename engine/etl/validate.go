package etl

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/beaver-analytics/beaver/schema"
)

// codeSource returns the SQL of a relation (code, valid_from, valid_to)
// for a code system, including codes staged by this import's dictionary
// files, and whether the dictionary is empty (then codes are not checked).
func (l *loader) codeSource(ctx context.Context, system string) (string, bool, error) {
	sql, err := l.codeSourceSQL(system)
	if err != nil {
		return "", false, err
	}
	var empty bool
	if err := l.conn.QueryRow(ctx, "SELECT NOT EXISTS ("+sql+")").Scan(&empty); err != nil {
		return "", false, fmt.Errorf("read dictionary %s: %w", system, err)
	}
	return sql, empty, nil
}

// codeSourceSQL is the SQL text of codeSource's relation.
func (l *loader) codeSourceSQL(system string) (string, error) {
	var sql, flow string
	switch system {
	case CodeICD9Dx:
		sql = "SELECT code, valid_from, valid_to FROM dict_icd9cm WHERE kind = 'dx'"
	case CodeICD9Proc:
		sql = "SELECT code, valid_from, valid_to FROM dict_icd9cm WHERE kind = 'proc'"
	case CodeExemption:
		sql = "SELECT code, valid_from, valid_to FROM dict_exemption"
	case CodeProduct:
		sql, flow = "SELECT aic AS code, valid_from, valid_to FROM dict_product", "product"
	case CodeOutpatient:
		sql, flow = "SELECT code, valid_from, valid_to FROM dict_outpatient", "outpatient_code"
	case CodeATC:
		sql, flow = "SELECT code, DATE '1900-01-01' AS valid_from, NULL::date AS valid_to FROM dict_atc", "atc"
	default:
		return "", fmt.Errorf("unknown code system %q", system)
	}
	if flow != "" && l.staged[flow] {
		st := ident(l.stageTable(flow))
		if flow == "atc" {
			sql += " UNION ALL SELECT code, DATE '1900-01-01', NULL::date FROM " + st
		} else if flow == "product" {
			sql += " UNION ALL SELECT aic, valid_from, valid_to FROM " + st
		} else {
			sql += " UNION ALL SELECT code, valid_from, valid_to FROM " + st
		}
	}
	return sql, nil
}

// validate runs the checks that need the database (registry, codes,
// duplicates) on the staged rows, flow by flow in publishing order, adds
// their failures to the reject table and deletes the refused rows from
// staging, so that what remains in staging is exactly what will publish.
func (l *loader) validate(ctx context.Context) error {
	if err := l.flushRejects(ctx); err != nil {
		return err
	}
	rt := ident(l.rejectTable())
	insert := "INSERT INTO " + rt + " (file_no, line, column_name, reason, value, detail) "
	for _, f := range Flows {
		if !l.staged[f.Name] {
			continue
		}
		st := ident(l.stageTable(f.Name))
		exec := func(what, sql string, args ...any) error {
			if _, err := l.conn.Exec(ctx, sql, args...); err != nil {
				return fmt.Errorf("%s: %s: %w", f.Name, what, err)
			}
			return nil
		}
		if len(f.Key) > 0 {
			keys := make([]string, len(f.Key))
			join := make([]string, len(f.Key))
			for i, k := range f.Key {
				keys[i] = ident(k)
				join[i] = "t." + ident(k) + " = s." + ident(k)
			}
			keyText := "concat_ws('|', " + strings.Join(prefix("s.", keys), ", ") + ")"
			err := exec("duplicate keys", insert+`SELECT s.file_no, s.line, $1, $2, `+keyText+`, 'key appears earlier in this import'
				FROM (SELECT *, row_number() OVER (PARTITION BY `+strings.Join(keys, ", ")+` ORDER BY file_no, line) AS rn FROM `+st+`) s
				WHERE s.rn > 1`, strings.Join(f.Key, "+"), ReasonDuplicateKey)
			if err != nil {
				return err
			}
			if !f.Upsert {
				err := exec("published keys", insert+`SELECT s.file_no, s.line, $1, $2, `+keyText+`, 'key already in the published data'
					FROM `+st+` s WHERE EXISTS (SELECT 1 FROM `+ident(f.Table)+` t WHERE `+strings.Join(join, " AND ")+`)`,
					strings.Join(f.Key, "+"), ReasonPublished)
				if err != nil {
					return err
				}
			}
		}
		if f.HasPerson() && f.Name != "person" {
			personJoin := " LEFT JOIN person p ON p.person_id = s.person_id"
			birth, death, known := "p.birth_date", "p.death_date", "p.person_id IS NOT NULL"
			if l.staged["person"] {
				sp := ident(l.stageTable("person"))
				personJoin += " LEFT JOIN " + sp + " sp ON sp.person_id = s.person_id"
				birth = "coalesce(sp.birth_date, p.birth_date)"
				death = "CASE WHEN sp.person_id IS NOT NULL THEN sp.death_date ELSE p.death_date END"
				known = "(p.person_id IS NOT NULL OR sp.person_id IS NOT NULL)"
			}
			err := exec("registry", insert+`SELECT s.file_no, s.line, 'person_id', $1, s.person_id::text, 'not in the registry of persons'
				FROM `+st+` s`+personJoin+` WHERE NOT `+known, ReasonUnknownPerson)
			if err != nil {
				return err
			}
			if f.EventDate != "" {
				ev := "s." + ident(f.EventDate)
				err := exec("birth and death", insert+`SELECT s.file_no, s.line, $1,
					CASE WHEN `+ev+` < `+birth+` THEN $2 ELSE $3 END, `+ev+`::text,
					CASE WHEN `+ev+` < `+birth+` THEN 'birth ' || `+birth+`::text ELSE 'death ' || `+death+`::text END
					FROM `+st+` s`+personJoin+` WHERE `+known+` AND (`+ev+` < `+birth+` OR `+ev+` > `+death+`)`,
					f.EventDate, ReasonBeforeBirth, ReasonAfterDeath)
				if err != nil {
					return err
				}
			}
		}
		for _, c := range f.Columns {
			if c.Code == "" {
				continue
			}
			src, empty, err := l.codeSource(ctx, c.Code)
			if err != nil {
				return err
			}
			if empty {
				l.warn(fmt.Sprintf("%s.%s: the %s dictionary is empty, codes were not checked", f.Name, c.Name, c.Code))
				continue
			}
			col, at := "s."+ident(c.Name), "s."+ident(c.CodeDate)
			err = exec("codes of "+c.Name, insert+`SELECT s.file_no, s.line, $1,
				CASE WHEN EXISTS (SELECT 1 FROM (`+src+`) d WHERE d.code = `+col+`) THEN $3 ELSE $2 END,
				`+col+`, $4 || ' at ' || `+at+`::text
				FROM `+st+` s WHERE `+col+` IS NOT NULL AND NOT EXISTS (SELECT 1 FROM (`+src+`) d WHERE d.code = `+col+`
					AND d.valid_from <= `+at+` AND (d.valid_to IS NULL OR `+at+` <= d.valid_to))`,
				c.Name, ReasonUnknownCode, ReasonCodeValidity, c.Code)
			if err != nil {
				return err
			}
		}
		if err := exec("drop refused rows", `DELETE FROM `+st+` s USING `+rt+` r WHERE r.file_no = s.file_no AND r.line = s.line`); err != nil {
			return err
		}
	}
	return nil
}

func prefix(p string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = p + n
	}
	return out
}

func (l *loader) warn(msg string) {
	if !slices.Contains(l.res.Warnings, msg) {
		l.res.Warnings = append(l.res.Warnings, msg)
	}
}

// registryConflicts finds the published events that the registry rows of
// this import put outside their person's life: a death date moved before
// them, or a birth date after them. Events are checked against the
// registry when they are imported, so these can only come from a registry
// update; they stay published, and the import reports them (in its
// result, as a warning) by flow, with their counts. Only the persons whose
// dates changed are looked up, through each table's person index.
func (l *loader) registryConflicts(ctx context.Context) error {
	if !l.staged["person"] {
		return nil
	}
	changed := `SELECT s.person_id, s.birth_date, s.death_date FROM ` + ident(l.stageTable("person")) + ` s
		JOIN person p ON p.person_id = s.person_id
		WHERE s.birth_date > p.birth_date OR (s.death_date IS NOT NULL AND s.death_date < coalesce(p.death_date, 'infinity'))`
	for _, f := range Flows {
		if f.Dictionary || f.EventDate == "" {
			continue
		}
		ev := "e." + ident(f.EventDate)
		c := RegistryConflict{Flow: f.Name}
		err := l.conn.QueryRow(ctx, `WITH c AS (`+changed+`)
			SELECT count(*) FILTER (WHERE `+ev+` > c.death_date), count(*) FILTER (WHERE `+ev+` < c.birth_date),
				count(DISTINCT c.person_id)
			FROM c JOIN `+ident(f.Table)+` e ON e.person_id = c.person_id
			WHERE `+ev+` > c.death_date OR `+ev+` < c.birth_date`).Scan(&c.AfterDeath, &c.BeforeBirth, &c.Persons)
		if err != nil {
			return fmt.Errorf("registry conflicts with %s: %w", f.Name, err)
		}
		if c.AfterDeath+c.BeforeBirth == 0 {
			continue
		}
		l.res.RegistryConflicts = append(l.res.RegistryConflicts, c)
		l.warn(fmt.Sprintf("registry: the new birth or death dates of %d persons put %d published %s events outside their lives (%d after death, %d before birth); the events stay published",
			c.Persons, c.AfterDeath+c.BeforeBirth, f.Name, c.AfterDeath, c.BeforeBirth))
	}
	return nil
}

// countDuplicates counts, for each flow without a natural key, the rows of
// this import that repeat an earlier row exactly (every stored column
// equal), by file: the later rows, in file and line order, are the
// repeats. They are published (identical dispensings on one day can be
// real), and reported in the result, its summary, a warning per file and
// the diagnostics. Duplicates share a person, so they meet in one leaf or
// in the staging table. Each relation is counted by one hash aggregate,
// on the pool's workers side by side; only a relation that holds
// duplicates of a flow read from several files is sorted, to tell which
// file repeats which (BenchmarkImportPharmacy: a window sort of every leaf
// cost 2.9 s a million rows, the aggregates a fraction of it).
func (l *loader) countDuplicates(ctx context.Context) error {
	type job struct {
		flow          *Flow
		rel           string
		cols          string
		fileNo, order string
		files         int // files of the flow in this import
	}
	var jobs []job
	for _, f := range Flows {
		if len(f.Key) > 0 || f.Dictionary {
			continue
		}
		var cols []string
		for _, c := range f.Stored() {
			cols = append(cols, ident(c.Name))
		}
		files := 0
		for _, fr := range l.res.Files {
			if fr.Flow == f.Name && fr.State == FileStaged {
				files++
			}
		}
		j := job{flow: f, cols: strings.Join(cols, ", "), fileNo: "file_no", order: "file_no, line", files: files}
		switch {
		case leafFlow(f) && l.leaves[f.Table]:
			j.fileNo, j.order = fmt.Sprintf("(event_id >> 32) & %d", maxEventFile-1), "event_id"
			for i := 0; i < l.parts; i++ {
				j.rel = ident(schema.LeafName(f.Table, i, l.version))
				jobs = append(jobs, j)
			}
		case !leafFlow(f) && l.staged[f.Name]:
			j.rel = ident(l.stageTable(f.Name))
			jobs = append(jobs, j)
		}
	}
	byNo := map[int]*FileResult{}
	for _, f := range l.res.Files {
		byNo[f.No] = f
	}
	var mu sync.Mutex
	count := func(ctx context.Context, j job) error {
		var n int64
		err := l.pool.QueryRow(ctx, `SELECT coalesce(sum(n - 1), 0)::bigint FROM (SELECT count(*) AS n FROM `+j.rel+
			` GROUP BY `+j.cols+`) g WHERE n > 1`).Scan(&n)
		if err != nil || n == 0 {
			return err
		}
		perFile := map[int]int64{}
		if j.files == 1 {
			for _, fr := range l.res.Files {
				if fr.Flow == j.flow.Name && fr.State == FileStaged {
					perFile[fr.No] = n
				}
			}
		} else {
			rows, err := l.pool.Query(ctx, `SELECT no, count(*) FROM (SELECT `+j.fileNo+` AS no,
				row_number() OVER (PARTITION BY `+j.cols+` ORDER BY `+j.order+`) AS rn FROM `+j.rel+`) d
				WHERE rn > 1 GROUP BY no`)
			if err != nil {
				return err
			}
			var no int
			var k int64
			if _, err := pgx.ForEachRow(rows, []any{&no, &k}, func() error { perFile[no] += k; return nil }); err != nil {
				return err
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if l.res.DuplicateRows == nil {
			l.res.DuplicateRows = map[string]int64{}
		}
		l.res.DuplicateRows[j.flow.Name] += n
		for no, k := range perFile {
			if fr := byNo[no]; fr != nil {
				fr.DuplicateRows += k
			}
		}
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan job)
	errc := make(chan error, l.workers())
	for w := 0; w < l.workers(); w++ {
		go func() {
			var first error
			for j := range next {
				if first != nil {
					continue
				}
				if err := count(ctx, j); err != nil {
					first = fmt.Errorf("%s: count duplicate rows: %w", j.flow.Name, err)
					cancel()
				}
			}
			errc <- first
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	var first error
	for w := 0; w < l.workers(); w++ {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return first
	}
	for _, fr := range l.res.Files {
		if fr.DuplicateRows > 0 {
			l.warn(fmt.Sprintf("%s: %d rows repeat an earlier row of this import exactly (flow %s has no natural key: they are published; a file sent twice?)",
				fr.Path, fr.DuplicateRows, fr.Flow))
		}
	}
	return nil
}
