package cohort_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// criteriaHistory: persons 21–27, day 0 is 2015-07-01 for everyone (a
// population cohort), enrolled from 2010-01-01; men born 1950-01-01 (65 at
// day 0) unless said otherwise. AMI = principal diagnosis 4101, PCI =
// procedure 3606, statin = C10AA01, exemption 013.
const criteriaHistory = `
INSERT INTO person (person_id, sex, birth_date, data_version) VALUES
 (21, 'M', '1950-01-01', 1), (22, 'M', '1950-01-01', 1), (23, 'M', '1950-01-01', 1), (24, 'F', '1960-01-01', 1),
 (25, 'F', '1950-01-01', 1), (26, 'M', '1950-01-01', 1), (27, 'M', '1950-01-01', 1);
INSERT INTO enrolment (person_id, start_date, asl, data_version)
 SELECT id, '2010-01-01', 'ASL01', 1 FROM generate_series(21, 27) id;
INSERT INTO sdo (person_id, discharge_id, admission_date, discharge_date, data_version) VALUES
 (21, 'a', '2014-07-01', '2014-07-05', 1),
 (22, 'a', '2014-06-30', '2014-07-03', 1), (22, 'p', '2014-07-10', '2014-07-11', 1),
 (23, 'a', '2015-01-10', '2015-01-12', 1), (23, 'p', '2015-02-09', '2015-02-10', 1);
INSERT INTO sdo_diagnosis (person_id, discharge_id, position, code, admission_date, data_version) VALUES
 (21, 'a', 0, '4101', '2014-07-01', 1), (22, 'a', 0, '4101', '2014-06-30', 1), (23, 'a', 0, '4101', '2015-01-10', 1);
INSERT INTO sdo_procedure (person_id, discharge_id, position, code, admission_date, data_version) VALUES
 (22, 'p', 0, '3606', '2014-07-10', 1), (23, 'p', 0, '3606', '2015-02-09', 1);
INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, data_version) VALUES
 (23, '2014-07-01', '1', 'C10AA01', 1, 1), (23, '2015-07-01', '1', 'C10AA01', 1, 1),
 (24, '2015-01-01', '1', 'C10AA01', 1, 1), (24, '2015-01-01', '2', 'C10AA01', 1, 1), (24, '2015-04-01', '1', 'C10AA01', 1, 1),
 (25, '2014-09-04', '1', 'C10AA01', 1, 1), (25, '2015-02-01', '1', 'C10AA01', 1, 1),
 (27, '2015-05-01', '1', 'C10AA01', 1, 1), (27, '2015-05-01', '2', 'C10AA01', 1, 1);
INSERT INTO exemption (person_id, code, start_date, end_date, data_version) VALUES
 (25, '013', '2015-01-01', '2015-06-30', 1),
 (26, '013', '2015-07-01', NULL, 1),
 (27, '013', '2010-01-01', '2015-07-01', 1);
`

const criteriaProtocol = `{"version": 1, "name": "crit",
  "code_lists": [{"name": "ami", "system": "icd9cm_dx", "include": {"prefixes": ["410"]}},
                 {"name": "pci", "system": "icd9cm_proc", "include": {"codes": ["3606"]}},
                 {"name": "statins", "system": "atc", "include": {"prefixes": ["C10AA"]}},
                 {"name": "diab", "system": "exemption", "include": {"codes": ["013"]}}],
  "events": [{"name": "ami", "source": "hospital_diagnosis", "code_lists": ["ami"], "position": "principal"},
             {"name": "pci", "source": "hospital_procedure", "code_lists": ["pci"]},
             {"name": "statin", "source": "dispensing", "code_lists": ["statins"]},
             {"name": "diab", "source": "exemption", "code_lists": ["diab"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}},
    "index": {"date": "2015-07-01"},
    "criteria": [
      {"name": "c1", "event": "ami", "window": {"start": -365, "end": -1}, "count": {"at_most": 0}},
      {"name": "c2", "event": "statin", "window": {"start": -365, "end": 0}, "count": {"at_least": 2, "distinct_dates": true}},
      {"name": "c3", "event": "diab", "window": {"start": 0, "end": 0}, "match": "overlap"},
      {"name": "c4", "event": "ami", "window": {"start": -365, "end": -1}, "distance": {"event": "pci", "start": 0, "end": 30}},
      {"name": "c5", "gap": {"event": "statin", "days": 180}, "window": {"start": -365, "end": -1}},
      {"name": "c6", "group": {"op": "at_least", "n": 2, "criteria": [
        {"demographic": {"sex": "F"}},
        {"demographic": {"age": {"min": 65}}},
        {"event": "statin", "window": {"end": -1}}]}}
    ],
    "follow_up": {"start": 1, "end": {"study_end": "2016-12-31"}}}}`

func TestCriteria(t *testing.T) {
	t.Parallel()
	pool := history(t, criteriaHistory)
	got := runBoth(t, pool, criteriaProtocol, "crit",
		`SELECT person_id, c1, c2, c3, c4, c5, c6 FROM {criteria} ORDER BY 1`)
	// By hand; day 0 = 2015-07-01, day −365 = 2014-07-01, day −366 = 2014-06-30.
	// c1 no AMI on days −365…−1; c2 statins on ≥ 2 distinct days of −365…0;
	// c3 exemption active on day 0; c4 an AMI on −365…−1 with a PCI 0…30 days after it;
	// c5 180 days in a row without a statin in −365…−1; c6 at least 2 of (woman, ≥ 65, a statin before day 0).
	// 21: AMI day −365 → c1 f, c4 f (no PCI); no statin → c2 f, c5 t (365 free days); c6: 65 only → f.
	// 22: AMI day −366 → c1 t; its PCI 10 days later does not matter (AMI outside) → c4 f; c5 t; c6 f.
	// 23: AMI 2015-01-10, PCI 2015-02-09 (+30) → c1 f, c4 t; statins days −365 and 0 → c2 t;
	//     c5: runs 0 (−366..−365) and 364 (−365..0) → t; c6: 65 + statin → t.
	// 24: F, 55; statins 2015-01-01 twice (one day) and 2015-04-01 → c2 t (2 days);
	//     c5: run −366..−181 = 184 days → t; c6: F + statin → t.
	// 25: F, 65; statins days −300, −150: runs 65, 149, 149 → c5 f; c2 t; exemption ended day −1 → c3 f; c6 t.
	// 26: exemption from day 0, open → c3 t; c5 t; c6: 65 only → f.
	// 27: exemption to day 0 → c3 t; statins twice on day −61 → c2 f (one day); c5: 304 free → t; c6: 65 + statin → t.
	require.Equal(t, []string{
		"21 false false false false true false",
		"22 true false false false true false",
		"23 false true false true true true",
		"24 true true false false true true",
		"25 true true false false false true",
		"26 true false true false true false",
		"27 true false true false true true",
	}, got)
}

// followUpHistory: persons 31–39, day 0 2015-07-01 for everyone enrolled
// then (population cohort), men born 1950, enrolled from 2010-01-01.
const followUpHistory = `
INSERT INTO person (person_id, sex, birth_date, death_date, data_version) VALUES
 (31, 'M', '1950-01-01', NULL, 1), (32, 'M', '1950-01-01', '2015-09-01', 1), (33, 'M', '1950-01-01', NULL, 1),
 (34, 'M', '1950-01-01', NULL, 1), (35, 'M', '1950-01-01', '2015-09-01', 1), (36, 'M', '1950-01-01', NULL, 1),
 (37, 'M', '1950-01-01', NULL, 1), (38, 'M', '1950-01-01', NULL, 1), (39, 'M', '1950-01-01', '2015-07-01', 1);
INSERT INTO enrolment (person_id, start_date, end_date, asl, data_version)
 SELECT id, '2010-01-01', CASE WHEN id = 34 THEN '2015-10-31'::date END, 'ASL01', 1 FROM generate_series(31, 39) id;
INSERT INTO sdo (person_id, discharge_id, admission_date, discharge_date, data_version) VALUES
 (33, 'a', '2015-08-01', '2015-08-03', 1), (35, 'a', '2015-09-01', '2015-09-01', 1),
 (36, 'c', '2015-08-15', '2015-08-16', 1), (36, 'a', '2015-08-20', '2015-08-22', 1),
 (37, 'a', '2015-01-01', '2015-01-02', 1), (38, 'a', '2015-07-01', '2015-07-02', 1);
INSERT INTO sdo_diagnosis (person_id, discharge_id, position, code, admission_date, data_version) VALUES
 (33, 'a', 0, '4101', '2015-08-01', 1), (35, 'a', 0, '4101', '2015-09-01', 1),
 (36, 'c', 0, '1629', '2015-08-15', 1), (36, 'a', 0, '4101', '2015-08-20', 1),
 (37, 'a', 0, '4101', '2015-01-01', 1), (38, 'a', 0, '4101', '2015-07-01', 1);
`

const followUpProtocol = `{"version": 1, "name": "fu",
  "code_lists": [{"name": "ami", "system": "icd9cm_dx", "include": {"prefixes": ["410"]}},
                 {"name": "cancer", "system": "icd9cm_dx", "include": {"ranges": [{"from": "140", "to": "208"}]}}],
  "events": [{"name": "ami", "source": "hospital_diagnosis", "code_lists": ["ami"], "position": "principal"},
             {"name": "cancer", "source": "hospital_diagnosis", "code_lists": ["cancer"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}},
    "index": {"date": "2015-07-01"},
    "criteria": [{"name": "no AMI in the year before", "event": "ami", "window": {"start": -365, "end": -1}, "count": {"at_most": 0}}],
    "follow_up": {"start": 1, "end": {"outcomes": ["ami"], "death": true, "enrolment_end": true,
                  "study_end": "2016-06-30", "max_days": 200, "censoring": ["cancer"]}},
    "outcomes": [{"name": "ami", "events": ["ami"]}]}}`

func TestFollowUpAndOutcome(t *testing.T) {
	t.Parallel()
	pool := history(t, followUpHistory)
	got := runBoth(t, pool, followUpProtocol, "fu",
		`SELECT person_id, fu_start, fu_end, end_reason, event, event_date, time
		 FROM {followup} JOIN {outcome_ami} USING (person_id, entry_no) ORDER BY 1`)
	// By hand; follow-up starts on day 1 = 2015-07-02, time of day d = d − 2015-07-02 + 1;
	// max_days 200 ends it on 2016-01-17 at the latest (before the study end 2016-06-30).
	// 31: nothing → 2016-01-17, max_days, time 200.
	// 32: died 2015-09-01 → death, time 62.   33: AMI 2015-08-01 → outcome, event, time 31.
	// 34: enrolment ends 2015-10-31 → enrolment_end, time 122.
	// 35: AMI and death on 2015-09-01 → the outcome counts: outcome, event, time 62.
	// 36: cancer admission 2015-08-15 censors (time 45); its AMI on 2015-08-20 is after the end: no event.
	// 37: AMI on day −181 → removed by the criterion.   38: AMI on day 0 is before follow-up: no event, 200.
	// 39: died on day 0: follow-up would end before it starts → no row.
	require.Equal(t, []string{
		"31 2015-07-02 2016-01-17 max_days false - 200",
		"32 2015-07-02 2015-09-01 death false - 62",
		"33 2015-07-02 2015-08-01 outcome true 2015-08-01 31",
		"34 2015-07-02 2015-10-31 enrolment_end false - 122",
		"35 2015-07-02 2015-09-01 outcome true 2015-09-01 62",
		"36 2015-07-02 2015-08-15 censoring false - 45",
		"38 2015-07-02 2016-01-17 max_days false - 200",
	}, got)

	att := runBoth(t, pool, followUpProtocol, "fu_att",
		`SELECT line, label, sum(persons)::bigint, sum(entries)::bigint FROM {attrition} GROUP BY 1, 2 ORDER BY 1`)
	// 9 persons in the registry, alive and enrolled on day 0 (39 too: alive
	// that day); 37 removed by the criterion.
	require.Equal(t, []string{
		"0 persons in the registry 9 9",
		"1 alive on day 0 9 9",
		"2 enrolled on day 0 9 9",
		"3 no AMI in the year before 8 8",
	}, att)
}

// TestOpenIndexEnd: an exemption without end as index event, with windows
// anchored on its (open) end, compiles to SQL that runs: the window after
// an open end is empty.
func TestOpenIndexEnd(t *testing.T) {
	t.Parallel()
	pool := history(t, `
INSERT INTO person (person_id, sex, birth_date, data_version) VALUES (41, 'F', '1950-01-01', 1), (42, 'F', '1950-01-01', 1);
INSERT INTO enrolment (person_id, start_date, asl, data_version) VALUES (41, '2010-01-01', 'ASL01', 1), (42, '2010-01-01', 'ASL01', 1);
INSERT INTO exemption (person_id, code, start_date, end_date, data_version) VALUES
 (41, '013', '2015-03-01', NULL, 1), (42, '013', '2015-03-01', '2015-06-30', 1);
INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, data_version) VALUES
 (41, '2015-08-01', '1', 'A10BA02', 1, 1), (42, '2015-08-01', '1', 'A10BA02', 1, 1);
`)
	protocol := `{"version": 1, "name": "open",
  "code_lists": [{"name": "diab", "system": "exemption", "include": {"codes": ["013"]}},
                 {"name": "met", "system": "atc", "include": {"codes": ["A10BA02"]}}],
  "events": [{"name": "diab", "source": "exemption", "code_lists": ["diab"]},
             {"name": "met", "source": "dispensing", "code_lists": ["met"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}},
    "index": {"events": ["diab"], "occurrence": "first"},
    "criteria": [
      {"name": "metformin after the exemption", "event": "met", "window": {"start": 1, "anchor": "index_end"}},
      {"name": "gap after the exemption", "gap": {"event": "met", "days": 10}, "window": {"start": 1, "end": 100, "anchor": "index_end"}}],
    "follow_up": {"start": 0, "anchor": "index_end", "end": {"study_end": "2016-12-31"}}}}`
	got := runBoth(t, pool, protocol, "open",
		`SELECT person_id, index_end, c1, c2 FROM {index} JOIN {criteria} USING (person_id, entry_no) ORDER BY 1`)
	// 41: open end → no day after it: no metformin after (c1 f), no 10-day run in an empty window (c2 f).
	// 42: ends 2015-06-30; metformin on day 32 after the end → c1 t; days 1…31 free → c2 t.
	require.Equal(t, []string{"41 - false false", "42 2015-06-30 true true"}, got)
	fu := runBoth(t, pool, protocol, "open_fu", `SELECT person_id, fu_start, fu_end FROM {followup} ORDER BY 1`)
	// 41: follow-up anchored on an open end never starts (no row); 42 from 2015-06-30.
	require.Equal(t, []string{"42 2015-06-30 2016-12-31"}, fu)
}
