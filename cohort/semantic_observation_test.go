package cohort_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/cohort/cohorttest"
)

// observationHistory: persons 91–95, men born 1950, day 0 2015-04-01 for
// everyone (a population cohort); Options.DataEnd is 2015-12-31 (day 274).
// Product 1 has 30 DDD per pack: a pack covers 30 days. ACE dispensings
// cost 10 each. Days are offsets from day 0 (day 100 = 07-10, day 200 =
// 10-18, day 250 = 12-07).
//
//	91: dies on day 100; ACE on days 0, 30, 60, 90 (covering 0…119).
//	92: dies on day 100; ACE on day 0 (0…29).
//	93: enrolment ends on day 200; ACE on days 0 and 250.
//	94: alive and enrolled; ACE on days 0 and 250: only the data end cuts.
//	95: dies on day 0 (still in the cohort: a death on day 0 counts as
//	    alive then); ACE on day 0.
const observationHistory = `
INSERT INTO person (person_id, sex, birth_date, death_date, data_version) VALUES
 (91, 'M', '1950-01-01', '2015-07-10', 1), (92, 'M', '1950-01-01', '2015-07-10', 1),
 (93, 'M', '1950-01-01', NULL, 1), (94, 'M', '1950-01-01', NULL, 1),
 (95, 'M', '1950-01-01', '2015-04-01', 1);
INSERT INTO enrolment (person_id, start_date, end_date, asl, data_version) VALUES
 (91, '2010-01-01', NULL, 'ASL01', 1), (92, '2010-01-01', NULL, 'ASL01', 1),
 (93, '2010-01-01', '2015-10-18', 'ASL01', 1), (94, '2010-01-01', NULL, 'ASL01', 1),
 (95, '2010-01-01', NULL, 'ASL01', 1);
INSERT INTO dict_product (aic, atc, ddd_per_pack, valid_from, valid_to, data_version) VALUES
 ('1', 'C09AA05', 30, '2000-01-01', NULL, 1);
INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, cost, data_version) VALUES
 (91, '2015-04-01', '1', 'C09AA05', 1, 10, 1), (91, '2015-05-01', '1', 'C09AA05', 1, 10, 1),
 (91, '2015-05-31', '1', 'C09AA05', 1, 10, 1), (91, '2015-06-30', '1', 'C09AA05', 1, 10, 1),
 (92, '2015-04-01', '1', 'C09AA05', 1, 10, 1),
 (93, '2015-04-01', '1', 'C09AA05', 1, 10, 1), (93, '2015-12-07', '1', 'C09AA05', 1, 10, 1),
 (94, '2015-04-01', '1', 'C09AA05', 1, 10, 1), (94, '2015-12-07', '1', 'C09AA05', 1, 10, 1),
 (95, '2015-04-01', '1', 'C09AA05', 1, 10, 1);
`

const observationProtocol = `{"version": 1, "name": "obs",
  "code_lists": [{"name": "ace", "system": "atc", "include": {"prefixes": ["C09A"]}}],
  "events": [{"name": "ace", "source": "dispensing", "code_lists": ["ace"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}},
    "index": {"date": "2015-04-01"},
    "follow_up": {"start": 1, "end": {"study_end": "2016-12-31"}},
    "covariates": [
      {"name": "pdc", "kind": "adherence", "method": "pdc", "drug": {"event": "ace"}, "window": {"start": 0, "end": 365}},
      {"name": "mpr", "kind": "adherence", "method": "mpr", "drug": {"event": "ace"}, "window": {"start": 0, "end": 365}},
      {"name": "dur", "kind": "therapy_duration", "drug": {"event": "ace"}, "window": {"start": 0, "end": 365}},
      {"name": "disc", "kind": "discontinuation", "drug": {"event": "ace", "grace_days": 10}, "window": {"start": 0, "end": 365}},
      {"name": "cost", "kind": "cost", "flows": ["pharmacy"], "window": {"start": 0, "end": 365}},
      {"name": "n", "kind": "count", "event": "ace", "window": {"start": 0, "end": 365}},
      {"name": "pdc_back", "kind": "adherence", "method": "pdc", "drug": {"event": "ace"}, "window": {"start": -365, "end": -1}}]}}`

// TestObservationEnd: windows reaching past day 0 end at death, at the end
// of the enrolment spell holding day 0 and at Options.DataEnd, and
// adherence divides by the observed days.
func TestObservationEnd(t *testing.T) {
	t.Parallel()
	pool := history(t, observationHistory)
	p, err := cohort.DecodeBytes([]byte(observationProtocol))
	require.NoError(t, err)
	query := `
SELECT person_id, round(cov_pdc::numeric, 4), obs_pdc, round(cov_mpr::numeric, 4), cov_dur, cov_disc,
       cov_cost, obs_cost, cov_n, cov_pdc_back, obs_pdc_back
FROM {dataset} ORDER BY 1`
	var runs [][]string
	for _, parts := range []int{2, 1} {
		plan, err := cohort.Compile(p, cohort.Options{Schema: "obs_" + string(rune('0'+parts)), Partitions: parts, DataVersion: 1, DataEnd: "2015-12-31"})
		require.NoError(t, err)
		require.NoError(t, cohorttest.Run(context.Background(), pool, plan))
		runs = append(runs, queryPlan(t, pool, plan.Schema, parts, query))
	}
	require.Equal(t, runs[1], runs[0], "two partitions and one give the same rows")
	// By hand; the window 0…365 would be 366 days.
	// 91: observed days 0…100 (death): 101. Covered 0…100 (the supplies run to 119): PDC
	//     101/101 = 1; MPR 120/101 capped at 1; the episode 0…119 cut at 100: duration 101;
	//     it would end 119 + 10 = 129, after the death: not seen, so no discontinuation
	//     (without the cut: 129 ≤ 365, true); four dispensings, cost 40.
	// 92: observed 101; covered 0…29: PDC and MPR 30/101 = 0.2970; duration 30; ends
	//     29 + 10 = 39 ≤ 100: discontinued; cost 10, one dispensing.
	// 93: enrolment ends on day 200: observed 201; day 250's dispensing is not seen: PDC and
	//     MPR 30/201 = 0.1493, duration 30, discontinued (39 ≤ 200), cost 10, count 1.
	// 94: the data end (day 274) cuts: observed 275; days 0 and 250 seen. PDC: 0…29 and
	//     250…274 (the supply runs to 279, past the data end) = 55/275 = 0.2; MPR counts whole
	//     supplies: 60/275 = 0.2182; the first episode 0…29: duration 30, discontinued on 39;
	//     cost 20, count 2.
	// 95: observed only day 0: PDC 1/1, MPR 30/1 capped at 1, duration 1; the episode
	//     would end on 39 > 0: no discontinuation; cost 10, count 1.
	// pdc_back looks back (−365…−1): never cut, 365 days for all, no supply before day 0.
	require.Equal(t, []string{
		"91 1.0000 101 1.0000 101 false 40 101 4 0 365",
		"92 0.2970 101 0.2970 30 true 10 101 1 0 365",
		"93 0.1493 201 0.1493 30 true 10 201 1 0 365",
		"94 0.2000 275 0.2182 30 true 20 275 2 0 365",
		"95 1.0000 1 1.0000 1 false 10 1 1 0 365",
	}, runs[0])
}
