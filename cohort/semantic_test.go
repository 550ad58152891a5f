package cohort_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/cohort/cohorttest"
	"github.com/beaver-analytics/beaver/schema"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// history is a tiny hand-made database: the flows hash-partitioned in two,
// then the fixture rows inserted.
func history(t *testing.T, fixture string) *pgxpool.Pool {
	t.Helper()
	pool := pgtest.Pool(t)
	ctx := context.Background()
	require.NoError(t, func() error { _, err := schema.EnsurePartitions(ctx, pool, 2); return err }())
	_, err := pool.Exec(ctx, fixture)
	require.NoError(t, err)
	return pool
}

// runPlan compiles protocol for the given partition count into schema, runs
// it and returns the rows of query (see queryPlan).
func runPlan(t *testing.T, pool *pgxpool.Pool, protocol, schema string, partitions int, query string, opts ...func(*cohort.Options)) []string {
	t.Helper()
	execPlan(t, pool, protocol, schema, partitions, opts...)
	return queryPlan(t, pool, schema, partitions, query)
}

// execPlan compiles protocol for the given partition count into schema and
// runs it; opts change the compile options (data version 1) first.
func execPlan(t *testing.T, pool *pgxpool.Pool, protocol, schema string, partitions int, opts ...func(*cohort.Options)) *cohort.Plan {
	t.Helper()
	p, err := cohort.DecodeBytes([]byte(protocol))
	require.NoError(t, err)
	o := cohort.Options{Schema: schema, Partitions: partitions, DataVersion: 1}
	for _, f := range opts {
		f(&o)
	}
	plan, err := cohort.Compile(p, o)
	require.NoError(t, err)
	require.NoError(t, cohorttest.Run(context.Background(), pool, plan))
	return plan
}

// queryPlan returns the rows of query, in which {name} stands for the union
// of the partitions of the study table name.
func queryPlan(t *testing.T, pool *pgxpool.Pool, schema string, partitions int, query string) []string {
	t.Helper()
	lines, err := cohorttest.Lines(context.Background(), pool, expandTables(query, schema, partitions))
	require.NoError(t, err)
	return lines
}

// runBoth runs the plan partitioned in two and over one partition (the
// parent tables), checks that both give the same rows, and returns them.
func runBoth(t *testing.T, pool *pgxpool.Pool, protocol, schema, query string, opts ...func(*cohort.Options)) []string {
	t.Helper()
	two := runPlan(t, pool, protocol, schema+"_2", 2, query, opts...)
	one := runPlan(t, pool, protocol, schema+"_1", 1, query, opts...)
	require.Equal(t, one, two, "two partitions and one give the same rows")
	return two
}

// expandTables replaces {name} with the union of the partitions of a study
// table.
func expandTables(q, schema string, partitions int) string {
	for {
		i := strings.Index(q, "{")
		if i < 0 {
			return q
		}
		j := strings.Index(q[i:], "}") + i
		name := q[i+1 : j]
		var parts []string
		for k := 0; k < partitions; k++ {
			parts = append(parts, fmt.Sprintf("SELECT * FROM %q.%q", schema, fmt.Sprintf("%s_p%d", name, k)))
		}
		q = q[:i] + "(" + strings.Join(parts, " UNION ALL ") + ") AS " + name + q[j+1:]
	}
}

// indexHistory: persons 1–8, all women, enrolled from 2010-01-01 (open) in
// ASL01 unless said otherwise; NSAID (M01AB05) dispensings. Rows are data
// version 1 except one.
const indexHistory = `
INSERT INTO person (person_id, sex, birth_date, data_version) VALUES
 (1, 'F', '1950-06-15', 1), (2, 'F', '1950-06-15', 1), (3, 'F', '1950-06-15', 1), (4, 'F', '1950-06-15', 1),
 (5, 'F', '1950-06-15', 1), (6, 'F', '1950-06-15', 1), (7, 'F', '1950-06-15', 1), (8, 'F', '1965-03-02', 1);
INSERT INTO enrolment (person_id, start_date, end_date, asl, data_version) VALUES
 (1, '2010-01-01', NULL, 'ASL01', 1), (2, '2010-01-01', NULL, 'ASL01', 1),
 (3, '2014-03-02', NULL, 'ASL01', 1),
 (4, '2014-03-03', NULL, 'ASL01', 1),
 (5, '2013-01-01', '2014-06-30', 'ASL01', 1), (5, '2014-07-02', NULL, 'ASL01', 1),
 (6, '2010-01-01', NULL, 'ASL01', 1), (7, '2010-01-01', NULL, 'ASL01', 1), (8, '2010-01-01', NULL, 'ASL01', 1);
INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, data_version) VALUES
 (1, '2014-03-01', '000000001', 'M01AB05', 1, 1), (1, '2015-03-01', '000000001', 'M01AB05', 1, 1),
 (2, '2014-03-01', '000000001', 'M01AB05', 1, 1), (2, '2015-03-02', '000000001', 'M01AB05', 1, 1),
 (2, '2015-02-01', '000000001', 'M01AB05', 1, 2),
 (3, '2015-03-02', '000000001', 'M01AB05', 1, 1),
 (4, '2015-03-02', '000000001', 'M01AB05', 1, 1),
 (5, '2015-03-02', '000000001', 'M01AB05', 1, 1),
 (6, '2015-01-10', '000000001', 'M01AB05', 1, 1), (6, '2015-01-10', '000000002', 'M01AB05', 2, 1),
 (6, '2015-06-01', '000000001', 'M01AB05', 1, 1), (6, '2016-02-01', '000000001', 'M01AB05', 1, 1),
 (7, '2014-12-31', '000000001', 'M01AB05', 1, 1),
 (8, '2015-03-01', '000000001', 'M01AB05', 1, 1), (8, '2015-03-02', '000000001', 'M01AB05', 1, 1);
`

func indexProtocol(occurrence, washout string, maxGap int) string {
	return fmt.Sprintf(`{"version": 1, "name": "idx",
  "code_lists": [{"name": "nsaids", "system": "atc", "include": {"prefixes": ["M01A"]}}],
  "events": [{"name": "nsaid", "source": "dispensing", "code_lists": ["nsaids"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}, "age": {"min": 50},
                   "enrolment": {"before": 365, "max_gap": %d}},
    "index": {"events": ["nsaid"], "occurrence": %q %s},
    "follow_up": {"start": 1, "end": {"study_end": "2016-12-31"}}}}`, maxGap, occurrence, washout)
}

const indexQuery = `SELECT person_id, entry_no, index_date, index_end FROM {index} ORDER BY 1, 2`

func TestIndexFirstWithWashout(t *testing.T) {
	t.Parallel()
	pool := history(t, indexHistory)
	got := runBoth(t, pool, indexProtocol("first", `, "washout": {"days": 365}`, 0), "first_washout", indexQuery)
	// By hand (first occurrence, washout days −365…−1, enrolment −365…0, no gap allowed):
	//  1: 2015-03-01 has 2014-03-01 on day −365 (2014-03-01 + 365 days = 2015-03-01): washed out; no entry.
	//  2: 2015-03-02 has 2014-03-01 on day −366: qualifies. (2015-02-01 is data version 2: not read.)
	//  3: enrolled from 2014-03-02 = day −365 of 2015-03-02: qualifies.
	//  4: enrolled from 2014-03-03 = day −364: not continuously enrolled; no entry.
	//  5: spells end 2014-06-30 and restart 2014-07-02 (a one-day gap) > max_gap 0; no entry.
	//  6: 2015-01-10 (two records, one entry) qualifies; 2015-06-01 is washed out, 2016-02-01 after accrual.
	//  7: 2014-12-31 is before accrual; no entry.
	//  8: born 1965-03-02, 49 on 2015-03-01 (too young); 2015-03-02 (50) has 2015-03-01 on day −1:
	//     washout counts every occurrence, qualifying or not; no entry.
	require.Equal(t, []string{
		"2 1 2015-03-02 2015-03-02",
		"3 1 2015-03-02 2015-03-02",
		"6 1 2015-01-10 2015-01-10",
	}, got)
}

func TestIndexAllWithGap(t *testing.T) {
	t.Parallel()
	pool := history(t, indexHistory)
	got := runBoth(t, pool, indexProtocol("all", "", 1), "all_gap", indexQuery)
	// By hand (every occurrence, no washout, a gap of 1 day allowed):
	//  1: 2015-03-01.  2: 2015-03-02.  3: 2015-03-02.  4: still not enrolled on day −365.
	//  5: the one-day gap (2014-07-01) is within max_gap 1: one spell from 2013-01-01; 2015-03-02.
	//  6: 2015-01-10 and 2015-06-01 (entries 1 and 2).  7: none.  8: 2015-03-02 only (50 that day).
	require.Equal(t, []string{
		"1 1 2015-03-01 2015-03-01",
		"2 1 2015-03-02 2015-03-02",
		"3 1 2015-03-02 2015-03-02",
		"5 1 2015-03-02 2015-03-02",
		"6 1 2015-01-10 2015-01-10",
		"6 2 2015-06-01 2015-06-01",
		"8 1 2015-03-02 2015-03-02",
	}, got)
}

func TestIndexGroups(t *testing.T) {
	t.Parallel()
	pool := history(t, `
INSERT INTO person (person_id, sex, birth_date, data_version) VALUES
 (11, 'M', '1950-01-01', 1), (12, 'M', '1950-01-01', 1), (13, 'M', '1950-01-01', 1), (14, 'M', '1950-01-01', 1);
INSERT INTO enrolment (person_id, start_date, end_date, asl, data_version) VALUES
 (11, '2010-01-01', NULL, 'ASL01', 1), (12, '2010-01-01', NULL, 'ASL01', 1),
 (13, '2010-01-01', NULL, 'ASL01', 1), (14, '2010-01-01', NULL, 'ASL01', 1);
INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, data_version) VALUES
 (11, '2015-02-01', '1', 'C09AA05', 1, 1),
 (12, '2015-02-01', '1', 'C09AA05', 1, 1), (12, '2015-02-01', '2', 'C09CA01', 1, 1),
 (13, '2014-12-01', '1', 'C09AA05', 1, 1), (13, '2015-05-01', '2', 'C09CA01', 1, 1),
 (14, '2015-05-01', '2', 'C09CA01', 1, 1), (14, '2015-06-01', '1', 'C09AA05', 1, 1);
INSERT INTO direct_distribution (person_id, dispensing_date, aic, atc, packs, data_version) VALUES
 (11, '2015-02-01', '1', 'C09AA05', 1, 1);
`)
	protocol := `{"version": 1, "name": "groups",
  "code_lists": [{"name": "ace", "system": "atc", "include": {"prefixes": ["C09A"]}},
                 {"name": "arb", "system": "atc", "include": {"prefixes": ["C09C"]}}],
  "events": [{"name": "ace", "source": "dispensing", "code_lists": ["ace"]},
             {"name": "arb", "source": "dispensing", "code_lists": ["arb"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}, "enrolment": {"before": 365}},
    "index": {"groups": [{"name": "A", "events": ["ace"]}, {"name": "B", "events": ["arb"]}],
              "occurrence": "first", "washout": {"days": 365, "scope": "all"}},
    "follow_up": {"start": 1, "end": {"study_end": "2016-12-31"}}}}`
	got := runBoth(t, pool, protocol, "groups",
		`SELECT person_id, entry_no, index_date, index_group, two_groups FROM {index} ORDER BY 1, 2`)
	// By hand:
	// 11: ACE on 2015-02-01 (pharmacy and direct distribution: one entry): group A.
	// 12: ACE and ARB on 2015-02-01: two groups on day 0, kept with no group and flagged.
	// 13: ARB on 2015-05-01 has an ACE on day −151 (2014-12-01): washout scope "all" fails; no entry.
	// 14: ARB on 2015-05-01 first: group B (the ACE of 2015-06-01 is later).
	require.Equal(t, []string{
		"11 1 2015-02-01 A false",
		"12 1 2015-02-01 - true",
		"14 1 2015-05-01 B false",
	}, got)
}

func TestCodeListMatching(t *testing.T) {
	t.Parallel()
	pool := history(t, `
INSERT INTO dict_icd9cm (kind, code, leaf_cms_v32, valid_from, valid_to) VALUES
 ('dx', '4100', true, '1900-01-01', NULL), ('dx', '4101', true, NULL, NULL), ('dx', '41092', true, '1900-01-01', NULL),
 ('dx', '4111', true, '1900-01-01', NULL), ('dx', '4118', true, '1900-01-01', NULL), ('dx', '4120', true, '1900-01-01', NULL),
 ('dx', '4139', true, '1900-01-01', NULL), ('dx', '4140', true, '1900-01-01', NULL),
 ('dx', '4130', true, '1900-01-01', '2014-12-31');
INSERT INTO sdo (person_id, discharge_id, admission_date, discharge_date, data_version) VALUES
 (1, 'a', '2015-01-01', '2015-01-05', 1), (1, 'b', '2015-02-01', '2015-02-03', 1), (1, 'c', '2015-03-01', '2015-03-02', 1),
 (1, 'd', '2015-04-01', '2015-04-02', 1), (1, 'e', '2015-05-01', '2015-05-02', 1), (1, 'f', '2015-06-01', '2015-06-02', 1),
 (1, 'g', '2015-07-01', '2015-07-02', 1), (1, 'h', '2015-08-01', '2015-08-02', 1), (1, 'i', '2015-09-01', '2015-09-02', 1),
 (1, 'j', '2014-09-01', '2014-09-02', 1), (1, 'k', '2015-10-01', '2015-10-02', 1);
INSERT INTO sdo_diagnosis (person_id, discharge_id, position, code, admission_date, data_version) VALUES
 (1, 'a', 0, '4100', '2015-01-01', 1), (1, 'a', 1, '4120', '2015-01-01', 1),
 (1, 'b', 0, '4101', '2015-02-01', 1),
 (1, 'c', 0, '41092', '2015-03-01', 1),
 (1, 'd', 0, '4111', '2015-04-01', 1),
 (1, 'e', 0, '4118', '2015-05-01', 1),
 (1, 'f', 0, '4120', '2015-06-01', 1),
 (1, 'g', 0, '4139', '2015-07-01', 1),
 (1, 'h', 0, '4140', '2015-08-01', 1),
 (1, 'i', 0, '4130', '2015-09-01', 1), (1, 'j', 0, '4130', '2014-09-01', 1),
 (1, 'k', 1, '4100', '2015-10-01', 1);
INSERT INTO person (person_id, sex, birth_date, data_version) VALUES (1, 'F', '1950-01-01', 1);
INSERT INTO enrolment (person_id, start_date, asl, data_version) VALUES (1, '2000-01-01', 'ASL01', 1);
`)
	protocol := `{"version": 1, "name": "codes",
  "code_lists": [{"name": "ihd", "system": "icd9cm_dx",
                  "include": {"codes": ["4139"], "prefixes": ["410"], "ranges": [{"from": "411", "to": "413"}]},
                  "exclude": {"codes": ["41092"], "prefixes": ["4111"]}}],
  "events": [{"name": "ihd", "source": "hospital_diagnosis", "code_lists": ["ihd"], "position": "principal"}],
  "phases": {
    "population": {"accrual": {"start": "2014-01-01", "end": "2015-12-31"}},
    "index": {"events": ["ihd"], "occurrence": "all"},
    "follow_up": {"start": 1, "end": {"study_end": "2016-12-31"}}}}`
	got := runBoth(t, pool, protocol, "codes", `SELECT record_id, start_date, end_date FROM {ev_ihd} ORDER BY 1`)
	// By hand, principal diagnoses only:
	// a 4100: prefix 410, valid → in (its secondary 4120 does not count twice).
	// b 4101: known to the dictionary but never valid (valid_from NULL) → out.
	// c 41092: excluded by code.  d 4111: excluded by prefix.  e 4118: range 411–413 → in.
	// f 4120: range → in.  g 4139: exact (and range) → in.  h 4140: beyond the range → out.
	// i 4130 on 2015-09-01: valid only to 2014-12-31 → out;  j 4130 on 2014-09-01 → in.
	// k: 4100 only in a secondary position → out.
	require.Equal(t, []string{
		"a 2015-01-01 2015-01-05",
		"e 2015-05-01 2015-05-02",
		"f 2015-06-01 2015-06-02",
		"g 2015-07-01 2015-07-02",
		"j 2014-09-01 2014-09-02",
	}, got)
}

const attritionQuery = `SELECT line, label, sum(persons)::bigint, sum(entries)::bigint FROM {attrition} GROUP BY 1, 2 ORDER BY 1`

// TestPopulationAttrition: the population conditions are the first lines
// of the attrition table, each with the persons and index days left after
// it, so index events outside enrolment (persons 4 and 5) or outside
// accrual are counted where they leave (issue 15, point 8).
func TestPopulationAttrition(t *testing.T) {
	t.Parallel()
	pool := history(t, indexHistory)
	got := runBoth(t, pool, indexProtocol("first", `, "washout": {"days": 365}`, 0), "att_first", attritionQuery)
	// By hand, days with an NSAID (data version 1): 1: 2014-03-01, 2015-03-01;
	// 2: 2014-03-01, 2015-03-02; 3, 4, 5: 2015-03-02; 6: 2015-01-10 (two
	// records), 2015-06-01, 2016-02-01; 7: 2014-12-31; 8: 2015-03-01,
	// 2015-03-02 — 13 days of 8 persons.
	//  accrual 2015: the 2014 days of 1, 2, 7 and 6's 2016 day leave: 9 days, 7 persons.
	//  alive: no death.  age ≥ 50: 8 is 49 on 2015-03-01: 8 days.
	//  enrolled on days −365…0 (no gap): 4 (enrolled from day −364) and 5
	//  (a one-day gap) leave: 1, 2, 3, 6 (two days), 8: 6 days, 5 persons.
	//  washout 365: 1 (2014-03-01 is day −365), 6's 2015-06-01 and 8
	//  (2015-03-01 on day −1) leave: 2, 3, 6: 3 days.
	//  first qualifying day: 3 entries (TestIndexFirstWithWashout).
	require.Equal(t, []string{
		"0 days with an index event 8 13",
		"1 day 0 in the accrual period (2015-01-01 to 2015-12-31) 7 9",
		"2 alive on day 0 7 9",
		"3 aged 50 or more on day 0 7 8",
		"4 enrolled on days -365 to 0 5 6",
		"5 washout: no occurrence of the same index event on days -365 to -1 3 3",
		"6 first qualifying day of each person 3 3",
	}, got)

	got = runBoth(t, pool, indexProtocol("all", "", 1), "att_all", attritionQuery,
		func(o *cohort.Options) { o.Scope = []string{"ASL01"} })
	// Every occurrence, a gap of one day allowed, data scope ASL01 (everyone
	// lives there): the scope filters the candidates before line 0, so it
	// has no line of its own; as above to age (8 days, 7 persons);
	// enrolment removes only 4 (5's one-day gap is allowed): 7 days of 6
	// persons, the entries of TestIndexAllWithGap. No "first" line.
	require.Equal(t, []string{
		"0 days with an index event in the data scope (ASL01) 8 13",
		"1 day 0 in the accrual period (2015-01-01 to 2015-12-31) 7 9",
		"2 alive on day 0 7 9",
		"3 aged 50 or more on day 0 7 8",
		"4 enrolled on days -365 to 0 6 7",
	}, got)

	// A scope where nobody lives: no line counts anyone of the region, not
	// even line 0 (a scoped user sees no count outside the scope).
	got = runBoth(t, pool, indexProtocol("all", "", 1), "att_none", attritionQuery,
		func(o *cohort.Options) { o.Scope = []string{"ASL99"} })
	require.Equal(t, []string{
		"0 days with an index event in the data scope (ASL99) 0 0",
		"1 day 0 in the accrual period (2015-01-01 to 2015-12-31) 0 0",
		"2 alive on day 0 0 0",
		"3 aged 50 or more on day 0 0 0",
		"4 enrolled on days -365 to 0 0 0",
	}, got)
}
