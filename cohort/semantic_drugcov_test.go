package cohort_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
)

// drugCovHistory: persons 81–85, men born 1950, enrolled from 2010; day 0
// is 2015-04-01 for everyone (a population cohort). Product 1 has 30 DDD
// per pack, so a pack covers 30 days at 1 DDD/day. ACE (C09AA05) is the
// drug, ARB (C09CA01) the switch; A02BC01 is neither. Days below are
// offsets from day 0 (day 20 = 04-21, day 80 = 06-20, day 89 = 06-29).
const drugCovHistory = `
INSERT INTO person (person_id, sex, birth_date, data_version)
 SELECT id, 'M', '1950-01-01', 1 FROM generate_series(81, 85) id;
INSERT INTO enrolment (person_id, start_date, asl, data_version)
 SELECT id, '2010-01-01', 'ASL01', 1 FROM generate_series(81, 85) id;
INSERT INTO dict_product (aic, atc, ddd_per_pack, valid_from, valid_to, data_version) VALUES
 ('1', 'C09AA05', 30, '2000-01-01', NULL, 1);
INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, cost, data_version) VALUES
 (81, '2015-04-01', '1', 'C09AA05', 1, NULL, 1), (81, '2015-04-21', '1', 'C09AA05', 1, NULL, 1),
 (81, '2015-06-15', '1', 'C09CA01', 1, NULL, 1),
 (82, '2015-03-22', '1', 'C09AA05', 1, NULL, 1), (82, '2015-06-20', '1', 'C09AA05', 1, NULL, 1),
 (82, '2015-04-26', '1', 'C09CA01', 1, NULL, 1),
 (83, '2015-04-01', '1', 'C09AA05', 2, 12, 1), (83, '2015-04-11', '1', 'C09AA05', 2, NULL, 1),
 (83, '2015-04-21', '1', 'C09AA05', 2, NULL, 1), (83, '2015-07-10', '1', 'C09CA01', 1, NULL, 1),
 (83, '2015-03-01', '1', 'A02BC01', 1, 40, 1), (83, '2015-03-17', '1', 'A02BC01', 1, 7.5, 1),
 (84, '2015-04-06', '1', 'C09AA05', 1, NULL, 1), (84, '2015-05-11', '1', 'C09AA05', 1, NULL, 1),
 (84, '2015-06-25', '1', 'C09AA05', 1, NULL, 1);
INSERT INTO direct_distribution (person_id, dispensing_date, aic, atc, packs, cost, data_version) VALUES
 (83, '2015-03-31', '1', 'A02BC01', 1, 100, 1);
INSERT INTO sdo (person_id, discharge_id, admission_date, discharge_date, tariff, data_version) VALUES
 (83, 'H1', '2015-03-12', '2015-03-15', 1000.5, 1), (83, 'H2', '2015-03-01', '2015-03-03', 500, 1),
 (83, 'H3', '2015-03-20', '2015-03-21', 9999, 2);
INSERT INTO outpatient (person_id, service_date, code, quantity, tariff, data_version) VALUES
 (83, '2015-03-27', '89.7', 1, 25.25, 1);
`

const drugCovProtocol = `{"version": 1, "name": "drugcov",
  "code_lists": [{"name": "ace", "system": "atc", "include": {"prefixes": ["C09A"]}},
                 {"name": "arb", "system": "atc", "include": {"prefixes": ["C09C"]}}],
  "events": [{"name": "ace", "source": "dispensing", "code_lists": ["ace"]},
             {"name": "arb", "source": "dispensing", "code_lists": ["arb"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}},
    "index": {"date": "2015-04-01"},
    "follow_up": {"start": 1, "end": {"study_end": "2016-12-31"}},
    "covariates": [
      {"name": "pdc", "kind": "adherence", "method": "pdc", "drug": {"event": "ace"}, "window": {"start": 0, "end": 89}},
      {"name": "pdc_nc", "kind": "adherence", "method": "pdc", "drug": {"event": "ace", "carry_over": false}, "window": {"start": 0, "end": 89}},
      {"name": "mpr", "kind": "adherence", "method": "mpr", "drug": {"event": "ace"}, "window": {"start": 0, "end": 89}},
      {"name": "dur", "kind": "therapy_duration", "drug": {"event": "ace", "grace_days": 10}, "window": {"start": 0, "end": 89}},
      {"name": "disc", "kind": "discontinuation", "drug": {"event": "ace", "grace_days": 10}, "window": {"start": 0, "end": 89}},
      {"name": "sw", "kind": "switch", "event": "arb", "drug": {"event": "ace", "grace_days": 10}, "window": {"start": 0, "end": 89}},
      {"name": "cost", "kind": "cost", "flows": ["hospital", "outpatient"], "window": {"start": -30, "end": -1}},
      {"name": "cost_all", "kind": "cost", "flows": ["hospital", "pharmacy", "direct_distribution", "outpatient"], "window": {"start": -30, "end": -1}}
    ]}}`

func TestDrugCovariates(t *testing.T) {
	t.Parallel()
	pool := history(t, drugCovHistory)
	got := runBoth(t, pool, drugCovProtocol, "drugcov", `
SELECT person_id, round(cov_pdc::numeric, 4), round(cov_pdc_nc::numeric, 4), round(cov_mpr::numeric, 4),
       cov_dur, cov_disc, cov_sw, cov_cost, cov_cost_all
FROM {dataset} ORDER BY 1`)
	// By hand; window 0…89 is 90 days; grace 10 for dur, disc and sw:
	// 81: days 0 and 20, 30 days each. Carried over: 0…29, 30…59 → PDC 60/90 = 0.6667; not carried:
	//     0…29 ∪ 20…49 = 0…49 → 50/90 = 0.5556; MPR 60/90. One episode 0…59: duration 60; it covers
	//     day 0 and ends 59 + 10 = 69 ≤ 89: discontinued. ARB on day 75 > 69: no switch.
	// 82: days −10 (covers −10…19) and 80 (80…109, past the window's end). PDC (either way):
	//     0…19 + 80…89 = 30/90 = 0.3333; MPR counts only day 80's dispensing: 30/90. Episodes
	//     −10…19 and 80…109 (gap 60 > 10): the first starting in the window is day 80, cut at day 89: 10.
	//     The episode covering day 0 ends 19 + 10 = 29 ≤ 89: discontinued; ARB on day 25 ≤ 29: switch.
	// 83: days 0, 10, 20, 60 days each. Carried over: 0…179 → PDC 90/90 = 1; not carried:
	//     0…59 ∪ 10…69 ∪ 20…79 = 80/90 = 0.8889; MPR 180/90 = 2, capped at 1. Duration 0…179 cut at
	//     day 89: 90. Ends 179 + 10 > 89: not discontinued. ARB on day 100, after the window: no switch.
	//     Cost, window −30…−1 (03-02…03-31): hospital H1 1000.50 (admission day −20; H2 admitted on
	//     day −31 is outside, H3 is data version 2) + outpatient 25.25 = 1025.75; with all four flows
	//     also pharmacy 7.50 (day −15; 40 on day −31 and 12 on day 0 are outside) and direct
	//     distribution 100 (day −1): 1133.25.
	// 84: days 5 (5…34), 40 (gap of 5 ≤ 10: 40…69), 85 (gap of 15 > 10: a new episode, 85…114).
	//     PDC (either way) 30 + 30 + 5 = 65/90 = 0.7222; MPR 90/90 = 1; the first episode starting in
	//     the window is 5…69: 65 days. No episode covers day 0: discontinuation and switch missing.
	// 85: no dispensing: PDC and MPR 0, the others missing; costs 0 (as for 81, 82, 84: NULL costs count 0).
	require.Equal(t, []string{
		"81 0.6667 0.5556 0.6667 60 true false 0 0",
		"82 0.3333 0.3333 0.3333 10 true true 0 0",
		"83 1.0000 0.8889 1.0000 90 false false 1025.75 1133.25",
		"84 0.7222 0.7222 1.0000 65 - - 0 0",
		"85 0 0 0 - - - 0 0", // numeric 0.0000 prints as 0
	}, got)
}

// TestExamplesCompileWhole: with the drug and cost kinds compiled, nothing
// of the three example studies is left out of their plans.
func TestExamplesCompileWhole(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("../docs/examples/*.json")
	require.NoError(t, err)
	require.Len(t, paths, 3)
	for _, path := range paths {
		p := loadProtocol(t, path)
		if len(p.Parameters) > 0 {
			p, err = p.Bind(nil)
			require.NoError(t, err, path)
		}
		plan, err := cohort.Compile(p, cohort.Options{Schema: "s", Partitions: 2, DataVersion: 1})
		require.NoError(t, err, path)
		require.Empty(t, plan.NotCompiled, path)
	}
}
