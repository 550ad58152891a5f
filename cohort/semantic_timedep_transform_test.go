package cohort_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// tdTransformHistory: persons 71–72, men born 1950-01-01 (65 at day 0),
// enrolled from 2010 (open); day 0 is 2015-01-01, follow-up starts on day 1,
// so the time of a date is date − 2015-01-01 and study_end 2015-04-11 is
// T = 100. Product 1 has 30 DDD per pack: one pack covers 30 days.
//
//	71: ACE t=10 (covers 10…39); statins t=20 and t=30.
//	72: nothing.
const tdTransformHistory = `
INSERT INTO person (person_id, sex, birth_date, data_version)
 SELECT id, 'M', '1950-01-01', 1 FROM generate_series(71, 72) id;
INSERT INTO enrolment (person_id, start_date, asl, data_version)
 SELECT id, '2010-01-01', 'ASL01', 1 FROM generate_series(71, 72) id;
INSERT INTO dict_product (aic, atc, ddd_per_pack, valid_from, valid_to, data_version) VALUES
 ('1', 'C09AA05', 30, '2000-01-01', NULL, 1);
INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, data_version) VALUES
 (71, '2015-01-11', '1', 'C09AA05', 1, 1),
 (71, '2015-01-21', '1', 'C10AA01', 1, 1), (71, '2015-01-31', '1', 'C10AA01', 1, 1);
`

// tdTransformProtocol: time-dependent inputs cu (current use of ACE),
// statin_any (a statin ever, window ≤ day d) and statin_n (statins in
// [d−30, d−1]); the baseline age; and every transformation kind over them,
// one of them (agg) a transformation of a transformation and one (age_cu)
// mixing a baseline and a time-dependent input.
const tdTransformProtocol = `{"version": 1, "name": "tdx",
  "code_lists": [{"name": "ace", "system": "atc", "include": {"prefixes": ["C09A"]}},
                 {"name": "statins", "system": "atc", "include": {"prefixes": ["C10AA"]}}],
  "events": [{"name": "ace", "source": "dispensing", "code_lists": ["ace"]},
             {"name": "statin", "source": "dispensing", "code_lists": ["statins"]},
             {"name": "adm", "source": "hospital_admission"}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-01-01"}},
    "index": {"date": "2015-01-01"},
    "follow_up": {"start": 1, "end": {"outcomes": ["adm"], "study_end": "2015-04-11"}},
    "covariates": [
      {"name": "cu", "kind": "current_use", "timing": "time_dependent", "drug": {"event": "ace"}},
      {"name": "statin_any", "kind": "presence", "timing": "time_dependent", "event": "statin", "window": {"end": 0}},
      {"name": "statin_n", "kind": "count", "timing": "time_dependent", "event": "statin", "window": {"start": -30, "end": -1}},
      {"name": "age", "kind": "age"},
      {"name": "statin_class", "kind": "classify", "of": ["statin_n"], "cuts": [1, 2], "labels": ["none", "one", "two+"]},
      {"name": "agg", "kind": "aggregate", "of": ["statin_class"], "classes": [{"label": "some", "from": ["one", "two+"]}]},
      {"name": "both", "kind": "combine", "op": "and", "of": ["cu", "statin_any"]},
      {"name": "load", "kind": "sum", "of": ["cu", "statin_n"]},
      {"name": "age_cu", "kind": "combine", "op": "multiply", "of": ["age", "cu"]}],
    "outcomes": [{"name": "adm", "events": ["adm"]}],
    "analyses": [{"name": "m", "kind": "cox", "outcome": "adm", "covariates": ["agg", "both", "load", "age_cu"]}]}}`

func TestTimeDependentTransforms(t *testing.T) {
	t.Parallel()
	pool := history(t, tdTransformHistory)
	got := runBoth(t, pool, tdTransformProtocol, "tdx", `
SELECT person_id, start, stop, td_cu::int, td_statin_any::int, td_statin_n,
       td_statin_class, td_agg, td_both::int, td_load, td_age_cu
FROM {episodes} ORDER BY 1, 2`)
	// By hand, person 71 (an interval (a, b] holds the days of times a+1 … b):
	//   cu: ACE t=10 covers 10…39: 1 on (9,39].
	//   statin_any: from the first statin's day t=20: 1 on (19,100].
	//   statin_n: the statin on 20 is in the window [d−30, d−1] of days 21…50,
	//     the one on 30 of days 31…60: 0 to 20, 1 on (20,30], 2 on (30,50],
	//     1 on (50,60], 0 on (60,100].
	// The transforms change only where an input does; their values per
	// interval: statin_class (cuts 1, 2) none/one/two+ by statin_n; agg
	// merges one and two+ into some; both = cu AND statin_any; load =
	// cu (as 0/1) + statin_n; age_cu = 65 × cu.
	// Person 72 has one interval with every input 0.
	require.Equal(t, []string{
		"71 0 9 0 0 0 none none 0 0 0",
		"71 9 19 1 0 0 none none 0 1 65",
		"71 19 20 1 1 0 none none 1 1 65",
		"71 20 30 1 1 1 one some 1 2 65",
		"71 30 39 1 1 2 two+ some 1 3 65",
		"71 39 50 0 1 2 two+ some 0 2 0",
		"71 50 60 0 1 1 one some 0 1 0",
		"71 60 100 0 1 0 none none 0 0 0",
		"72 0 100 0 0 0 none none 0 0 0",
	}, got)

	// A transformation's tdcov table keeps only the days its own value
	// changes: both is false from fu_start (2015-01-02), true from t=20
	// (2015-01-21, cu and statin_any both 1), false again from t=40
	// (2015-02-10); agg changes on t=21 and t=61 only, not on t=31 or
	// t=51 where statin_class moves between one and two+.
	got = queryPlan(t, pool, "tdx_2", 2, `
SELECT 'both', person_id, day, value::text FROM {tdcov_both} WHERE person_id = 71
UNION ALL
SELECT 'agg', person_id, day, value FROM {tdcov_agg} WHERE person_id = 71
ORDER BY 1, 2, 3`)
	require.Equal(t, []string{
		"agg 71 2015-01-02 none",
		"agg 71 2015-01-22 some",
		"agg 71 2015-03-03 none",
		"both 71 2015-01-02 false",
		"both 71 2015-01-21 true",
		"both 71 2015-02-10 false",
	}, got)

	// The cox analysis's counting-process dataset carries the transforms.
	got = queryPlan(t, pool, "tdx_1", 1, `
SELECT person_id, start, stop, event, cov_agg, cov_both::int, cov_load, cov_age_cu FROM {dataset_cp_m} WHERE person_id = 71 AND start = 30`)
	require.Equal(t, []string{"71 30 39 false some 1 3 65"}, got)
}
