package cohort_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// exposureHistory: persons 51–55, men born 1950, enrolled from 2010. DDD
// per pack: product 1 has 30; product 2 has 14 until 2015-05-31 and 28
// from 2015-06-01; product 9 is not in the dictionary (1 DDD per pack).
const exposureHistory = `
INSERT INTO person (person_id, sex, birth_date, death_date, data_version) VALUES
 (51, 'M', '1950-01-01', NULL, 1), (52, 'M', '1950-01-01', NULL, 1), (53, 'M', '1950-01-01', NULL, 1),
 (54, 'M', '1950-01-01', NULL, 1), (55, 'M', '1950-01-01', '2015-03-10', 1);
INSERT INTO enrolment (person_id, start_date, asl, data_version)
 SELECT id, '2010-01-01', 'ASL01', 1 FROM generate_series(51, 55) id;
INSERT INTO dict_product (aic, atc, ddd_per_pack, valid_from, valid_to, data_version) VALUES
 ('1', 'C09AA05', 30, '2000-01-01', NULL, 1),
 ('2', 'C09AA05', 14, '2000-01-01', '2015-05-31', 1), ('2', 'C09AA05', 28, '2015-06-01', NULL, 1);
INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, data_version) VALUES
 (51, '2015-03-01', '1', 'C09AA05', 1, 1), (51, '2015-03-20', '1', 'C09AA05', 1, 1),
 (51, '2015-05-09', '1', 'C09AA05', 1, 1), (51, '2015-06-19', '1', 'C09AA05', 1, 1),
 (52, '2015-03-01', '1', 'C09AA05', 1, 1), (52, '2015-03-15', '1', 'C09CA01', 1, 1),
 (53, '2015-05-01', '2', 'C09AA05', 2, 1), (53, '2015-06-05', '2', 'C09AA05', 1, 1), (53, '2015-08-01', '9', 'C09AA05', 3, 1),
 (54, '2015-04-01', '1', 'C09CA01', 1, 1),
 (55, '2015-03-01', '1', 'C09AA05', 1, 1);
`

const exposureProtocol = `{"version": 1, "name": "exposure",
  "code_lists": [{"name": "ace", "system": "atc", "include": {"prefixes": ["C09A"]}},
                 {"name": "arb", "system": "atc", "include": {"prefixes": ["C09C"]}, "daily_ddd": 2}],
  "events": [{"name": "ace", "source": "dispensing", "code_lists": ["ace"]},
             {"name": "arb", "source": "dispensing", "code_lists": ["arb"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}},
    "index": {"groups": [{"name": "A", "events": ["ace"]}, {"name": "B", "events": ["arb"]}], "occurrence": "first"},
    "follow_up": {"start": 1, "end": {"study_end": "2016-12-31",
                  "discontinuation": {"grace_days": 10}, "switch": {"other_groups": true}}}}}`

func TestDiscontinuationAndSwitch(t *testing.T) {
	t.Parallel()
	pool := history(t, exposureHistory)
	got := runBoth(t, pool, exposureProtocol, "exposure",
		`SELECT person_id, index_group, fu_start, fu_end, end_reason FROM {cohort} JOIN {followup} USING (person_id, entry_no) ORDER BY 1`)
	// By hand (grace 10 days; supplies carried over):
	// 51: 30 days from 03-01 → 03-30; 03-20 carried to 03-31…04-29; 05-09 after 9 uncovered days (≤ 10):
	//     same episode, 05-09…06-07; 06-19 after 11 days: a new episode. End 06-07 + 10 = 2015-06-17.
	// 52: an ARB (the other group) on 2015-03-15, before 03-30 + 10: switch.
	// 53: product 2 on 05-01 (14 DDD/pack then) × 2 packs = 28 days → 05-28; 06-05 (28 DDD/pack now)
	//     after 7 days: same episode → 07-02; 08-01 after 29 days: new. End 07-02 + 10 = 2015-07-12.
	// 54: ARB list at 2 DDD/day: 30 DDD → 15 days, 04-01…04-15, + 10 = 2015-04-25.
	// 55: died 2015-03-10, before 03-30 + 10.
	require.Equal(t, []string{
		"51 A 2015-03-02 2015-06-17 discontinuation",
		"52 A 2015-03-02 2015-03-15 switch",
		"53 A 2015-05-02 2015-07-12 discontinuation",
		"54 B 2015-04-02 2015-04-25 discontinuation",
		"55 A 2015-03-02 2015-03-10 death",
	}, got)
}

// TestCurrentUse: baseline current use on day 0 = 2015-04-25 (a population
// cohort) of exposureHistory plus persons 56 and 57.
func TestCurrentUse(t *testing.T) {
	t.Parallel()
	pool := history(t, exposureHistory+`
INSERT INTO person (person_id, sex, birth_date, data_version) VALUES (56, 'F', '1950-01-01', 1), (57, 'F', '1950-01-01', 1);
INSERT INTO enrolment (person_id, start_date, asl, data_version) VALUES (56, '2010-01-01', 'ASL01', 1), (57, '2010-01-01', 'ASL01', 1);
INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, data_version) VALUES
 (56, '2015-04-10', '1', 'C09AA05', 1, 1), (57, '2015-04-25', '9', 'C09AA05', 1, 1);
`)
	protocol := `{"version": 1, "name": "cu",
  "code_lists": [{"name": "ace", "system": "atc", "include": {"prefixes": ["C09A"]}}],
  "events": [{"name": "ace", "source": "dispensing", "code_lists": ["ace"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}},
    "index": {"date": "2015-04-25"},
    "follow_up": {"start": 1, "end": {"study_end": "2016-12-31"}},
    "covariates": [
      {"name": "carry", "kind": "current_use", "drug": {"event": "ace"}},
      {"name": "no_carry", "kind": "current_use", "drug": {"event": "ace", "carry_over": false}},
      {"name": "two_a_day", "kind": "current_use", "drug": {"event": "ace", "daily_ddd": 2}}]}}`
	got := runBoth(t, pool, protocol, "cu",
		`SELECT person_id, cov_carry, cov_no_carry, cov_two_a_day FROM {dataset} ORDER BY 1`)
	// By hand, day 0 = 2015-04-25; product 1 = 30 DDD/pack, product 9 unknown (1 DDD/pack):
	// 51: 03-01 and 03-20, 30 days each: carried over 03-01…04-29 (covered); not carried 03-20…04-18 (not);
	//     at 2 DDD/day 15 days each: 03-01…03-15, 03-20…04-03 (not).
	// 52: 03-01…03-30: no.  53: first dispensing 05-01, after day 0: no.  54: ARBs only: no.
	// 55: died 2015-03-10: not alive on day 0, not in the cohort.
	// 56: 04-10, 30 days → 05-09 (yes, yes); 15 days → 04-24 (no).  57: 1 day on day 0 itself: yes ×3.
	require.Equal(t, []string{
		"51 true false false",
		"52 false false false",
		"53 false false false",
		"54 false false false",
		"56 true true false",
		"57 true true true",
	}, got)
}
