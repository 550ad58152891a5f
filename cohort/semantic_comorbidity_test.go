package cohort_test

import (
	"fmt"

	"testing"

	"github.com/stretchr/testify/require"
)

// comorbidityPersons: persons %[1]d–%[2]d (the arguments), women born 1950, enrolled from 2010-01-01 (open)
// in ASL01. Day 0 of both protocols is 2015-07-01: day −1 is 2015-06-30,
// day −365 2014-07-01, day −366 2014-06-30, day −730 2013-07-01 and day
// −731 2013-06-30.
const comorbidityPersons = `
INSERT INTO person (person_id, sex, birth_date, data_version)
 SELECT id, 'F', '1950-01-01', 1 FROM generate_series(%[1]d, %[2]d) id;
INSERT INTO enrolment (person_id, start_date, asl, data_version)
 SELECT id, '2010-01-01', 'ASL01', 1 FROM generate_series(%[1]d, %[2]d) id;
`

// mcsHistory: persons 101–110, one per boundary of the MCS classes.
// Diagnoses (discharge id, position, code, admission date) and dispensings
// (pharmacy P or direct distribution D, ATC, date).
const mcsHistory = `
INSERT INTO sdo (person_id, discharge_id, admission_date, discharge_date, data_version) VALUES
 (101, 'a', '2013-06-30', '2013-07-02', 1), (101, 'b', '2015-07-01', '2015-07-03', 1),
 (102, 'a', '2013-07-01', '2013-07-02', 1),
 (103, 'a', '2015-06-30', '2015-07-02', 1),
 (105, 'a', '2014-02-01', '2014-02-05', 1),
 (106, 'a', '2014-03-01', '2014-03-05', 1),
 (107, 'a', '2014-09-01', '2014-09-05', 1),
 (108, 'a', '2015-01-01', '2015-01-05', 1),
 (109, 'a', '2014-01-01', '2014-01-05', 1), (109, 'b', '2015-02-01', '2015-02-02', 1),
 (110, 'a', '2014-05-05', '2014-05-09', 1);
INSERT INTO sdo_diagnosis (person_id, discharge_id, position, code, admission_date, data_version) VALUES
 (101, 'a', 0, '4101', '2013-06-30', 1), (101, 'b', 0, '4101', '2015-07-01', 1),
 (102, 'a', 0, '4101', '2013-07-01', 1),
 (103, 'a', 0, '8208', '2015-06-30', 1), (103, 'a', 2, 'V560', '2015-06-30', 1),
 (105, 'a', 0, '8208', '2014-02-01', 1), (105, 'a', 1, '2900', '2014-02-01', 1), (105, 'a', 3, '27800', '2014-02-01', 1),
 (106, 'a', 0, '0110', '2014-03-01', 1),
 (107, 'a', 0, '1629', '2014-09-01', 1), (107, 'a', 1, '2765', '2014-09-01', 1),
 (108, 'a', 0, '30390', '2015-01-01', 1),
 (109, 'a', 0, '1970', '2014-01-01', 1), (109, 'b', 0, '42731', '2015-02-01', 1),
 (110, 'a', 0, '1985', '2014-05-05', 1), (110, 'a', 1, '5310', '2014-05-05', 1);
INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, data_version) VALUES
 (101, '2015-07-01', '1', 'N04BA02', 1, 1),
 (104, '2014-01-15', '1', 'N04BA02', 1, 1),
 (106, '2014-04-01', '1', 'J04AB02', 1, 1),
 (108, '2015-03-01', '1', 'C03CA01', 1, 1);
INSERT INTO direct_distribution (person_id, dispensing_date, aic, atc, packs, data_version) VALUES
 (105, '2014-05-01', '1', 'M04AA01', 1, 1);
`

const mcsProtocol = `{"version": 1, "name": "mcs",
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}},
    "index": {"date": "2015-07-01"},
    "follow_up": {"start": 1, "end": {"study_end": "2016-12-31"}},
    "covariates": [
      {"name": "mcs", "kind": "mcs", "window": {"start": -730, "end": -1}},
      {"name": "mcs_class", "kind": "classify", "of": ["mcs"], "cuts": [1, 5, 10, 15, 20],
       "labels": ["0", "1-4", "5-9", "10-14", "15-19", "20+"]}
    ]}}`

func TestMCS(t *testing.T) {
	t.Parallel()
	pool := history(t, fmt.Sprintf(comorbidityPersons, 101, 110)+mcsHistory)
	got := runBoth(t, pool, mcsProtocol, "mcs", `
SELECT cov_mcs.person_id, cov_mcs.value, cov_mcs_class.value FROM {cov_mcs} JOIN {cov_mcs_class} USING (person_id, entry_no) ORDER BY 1`)
	// By hand, window days −730…−1 (weights of mcs_corrao2017, conditions in capitals):
	// 101: AMI 4101 on day −731 and on day 0, N04BA02 on day 0: all outside → 0, class 0
	// 102: AMI 4101 on day −730 (first day in) → 1, 1-4
	// 103: DIALISI_RENALE V560 in position 2 on day −1 (last day in); 8208 is no condition → 4, 1-4
	// 104: PARKINSON from a pharmacy dispensing of N04BA02 → 5, 5-9
	// 105: DEMENZA 2900 (6) + OBESITA 27800 (1) as secondary diagnoses, GOTTA from a direct
	//      distribution of M04AA01 (2); 8208 is no condition → 9, 5-9
	// 106: TUBERCOLOSI from diagnosis 0110 and from J04AB02, counted once → 10, 10-14
	// 107: CANCRO_NOMET 1629 (10) + ALT_FLUIDI 2765 (4) → 14, 10-14
	// 108: AB_ALCOL 30390 (11) + HF from C03CA01 (4) → 15, 15-19
	// 109: CANCRO_MET 1970 (18) + ARITMIA 42731 (1) → 19, 15-19
	// 110: CANCRO_MET 1985 (18) + ULCERA 5310 (2) → 20, 20+
	require.Equal(t, []string{
		"101 0 0", "102 1 1-4", "103 4 1-4", "104 5 5-9", "105 9 5-9",
		"106 10 10-14", "107 14 10-14", "108 15 15-19", "109 19 15-19", "110 20 20+",
	}, got)
}

// charlsonHistory: persons 201–207, the hierarchy cases of Quan's coding.
const charlsonHistory = `
INSERT INTO sdo (person_id, discharge_id, admission_date, discharge_date, data_version) VALUES
 (201, 'a', '2015-01-10', '2015-01-12', 1),
 (202, 'a', '2014-07-01', '2014-07-03', 1), (202, 'b', '2015-06-30', '2015-07-02', 1),
 (203, 'a', '2015-03-01', '2015-03-05', 1),
 (204, 'a', '2015-01-10', '2015-01-12', 1), (204, 'b', '2014-06-30', '2014-07-01', 1),
 (205, 'a', '2015-02-01', '2015-02-10', 1), (205, 'b', '2015-04-01', '2015-04-10', 1),
 (206, 'a', '2015-07-01', '2015-07-03', 1),
 (207, 'a', '2014-08-01', '2014-08-03', 1), (207, 'b', '2014-10-01', '2014-10-03', 1);
INSERT INTO sdo_diagnosis (person_id, discharge_id, position, code, admission_date, data_version) VALUES
 (201, 'a', 0, '2500', '2015-01-10', 1), (201, 'a', 1, '2504', '2015-01-10', 1),
 (202, 'a', 0, '1629', '2014-07-01', 1), (202, 'b', 0, '1970', '2015-06-30', 1),
 (203, 'a', 0, '5710', '2015-03-01', 1), (203, 'a', 1, '4560', '2015-03-01', 1),
 (204, 'a', 0, '2500', '2015-01-10', 1), (204, 'b', 0, '4100', '2014-06-30', 1),
 (205, 'a', 0, '2500', '2015-02-01', 1), (205, 'a', 1, '2504', '2015-02-01', 1), (205, 'a', 2, '1629', '2015-02-01', 1),
 (205, 'a', 3, '1970', '2015-02-01', 1), (205, 'b', 0, '5710', '2015-04-01', 1), (205, 'b', 1, '4560', '2015-04-01', 1),
 (205, 'b', 2, '4280', '2015-04-01', 1), (205, 'b', 3, '042', '2015-04-01', 1),
 (206, 'a', 0, '4280', '2015-07-01', 1),
 (207, 'a', 0, '4100', '2014-08-01', 1), (207, 'a', 1, '4912', '2014-08-01', 1),
 (207, 'b', 0, '4109', '2014-10-01', 1), (207, 'b', 1, '4431', '2014-10-01', 1);
INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, data_version) VALUES
 (206, '2015-01-01', '1', 'A10BA02', 1, 1);
`

const charlsonProtocol = `{"version": 1, "name": "charlson",
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}},
    "index": {"date": "2015-07-01"},
    "follow_up": {"start": 1, "end": {"study_end": "2016-12-31"}},
    "covariates": [{"name": "cci", "kind": "charlson", "window": {"start": -365, "end": -1}}]}}`

func TestCharlson(t *testing.T) {
	t.Parallel()
	pool := history(t, fmt.Sprintf(comorbidityPersons, 201, 207)+charlsonHistory)
	got := runBoth(t, pool, charlsonProtocol, "cci", `SELECT person_id, value FROM {cov_cci} ORDER BY 1`)
	// By hand, window days −365…−1, Charlson 1987 weights on Quan 2005 categories:
	// 201: diab 2500 (1) superseded by diabwc 2504 (2) → 2, not 3
	// 202: canc 1629 on day −365 (2) superseded by metacanc 1970 on day −1 (6) → 6, not 8
	// 203: mld 5710 (1) superseded by msld 4560 (3) → 3, not 4
	// 204: diab 2500 (1); ami 4100 on day −366 is outside → 1
	// 205: diabwc 2 + metacanc 6 + msld 3 + chf 4280 1 + aids 042 6 (diab, canc, mld superseded) → 18
	// 206: chf 4280 on day 0 is outside; dispensings never count in Charlson → 0
	// 207: ami 4100 and 4109 (one condition: 1) + copd 4912 (1) + pvd 4431 (1) → 3
	require.Equal(t, []string{"201 2", "202 6", "203 3", "204 1", "205 18", "206 0", "207 3"}, got)
}
