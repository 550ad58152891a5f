package cohort_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
)

// timeDepHistory: persons 61–67, men born 1950-01-01, enrolled from 2010
// (open). Day 0 is 2015-01-01 for all (a population cohort), follow-up
// starts on day 1 = 2015-01-02, so the time of a date is date − 2015-01-01
// (t = d − fu_start + 1) and study_end 2015-04-11 is time T = 100.
// Product 1 has 30 DDD per pack: one pack covers 30 days. ACE (C09AA05) and
// statin (C10AA01) dispensings, dated here by their time t:
//
//	61: ACE t=10.   62: ACE t=20 and t=30.   63: ACE t=−15 (2014-12-17).
//	64: ACE t=5 and an admission on t=34 (2015-02-04).
//	65: statins t=40 and t=50.   66: ACE t=10 and t=45.   67: nothing.
const timeDepHistory = `
INSERT INTO person (person_id, sex, birth_date, data_version)
 SELECT id, 'M', '1950-01-01', 1 FROM generate_series(61, 67) id;
INSERT INTO enrolment (person_id, start_date, asl, data_version)
 SELECT id, '2010-01-01', 'ASL01', 1 FROM generate_series(61, 67) id;
INSERT INTO dict_product (aic, atc, ddd_per_pack, valid_from, valid_to, data_version) VALUES
 ('1', 'C09AA05', 30, '2000-01-01', NULL, 1);
INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, data_version) VALUES
 (61, '2015-01-11', '1', 'C09AA05', 1, 1),
 (62, '2015-01-21', '1', 'C09AA05', 1, 1), (62, '2015-01-31', '1', 'C09AA05', 1, 1),
 (63, '2014-12-17', '1', 'C09AA05', 1, 1),
 (64, '2015-01-06', '1', 'C09AA05', 1, 1),
 (65, '2015-02-10', '1', 'C10AA01', 1, 1), (65, '2015-02-20', '1', 'C10AA01', 1, 1),
 (66, '2015-01-11', '1', 'C09AA05', 1, 1), (66, '2015-02-15', '1', 'C09AA05', 1, 1);
INSERT INTO sdo (person_id, discharge_id, admission_date, discharge_date, data_version) VALUES
 (64, 'a', '2015-02-04', '2015-02-06', 1);
`

const timeDepProtocol = `{"version": 1, "name": "td",
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
      {"name": "cu_nc", "kind": "current_use", "timing": "time_dependent", "drug": {"event": "ace", "carry_over": false}},
      {"name": "cu_grace", "kind": "current_use", "timing": "time_dependent", "drug": {"event": "ace", "grace_days": 10}},
      {"name": "statin_any", "kind": "presence", "timing": "time_dependent", "event": "statin", "window": {"end": 0}},
      {"name": "statin_n", "kind": "count", "timing": "time_dependent", "event": "statin", "window": {"start": -30, "end": -1}},
      {"name": "age", "kind": "age"}],
    "outcomes": [{"name": "adm", "events": ["adm"]}, {"name": "stat", "events": ["statin"]}],
    "analyses": [
      {"name": "adm_cu", "kind": "cox", "outcome": "adm", "covariates": ["cu", "statin_n", "age"]},
      {"name": "stat_any", "kind": "cox", "outcome": "stat", "covariates": ["statin_any", "cu"]},
      {"name": "baseline", "kind": "cox", "outcome": "adm", "covariates": ["age"]}]}}`

func TestTimeDependentEpisodes(t *testing.T) {
	t.Parallel()
	pool := history(t, timeDepHistory)
	got := runBoth(t, pool, timeDepProtocol, "td", `
SELECT person_id, episode_no, start, stop, event, td_cu::int, td_cu_nc::int, td_cu_grace::int, td_statin_any::int, td_statin_n
FROM {episodes} ORDER BY 1, 2`)
	// By hand. An interval (a, b] holds the follow-up days of times a+1 … b.
	// Columns: person, episode, start, stop, event (follow-up ended by the outcome on
	// this interval's last day) | cu, cu without carry-over, cu with grace 10 | statin
	// ever (window ≤ day d) | statins in [d−30, d−1].
	// 61: ACE on t=10 covers t=10…39: (0,9] 0, (9,39] 1, (39,100] 0.
	// 62: t=20 covers 20…49; t=30 carried over to 50…79: cu 1 on (19,79]. Without carry-over
	//     30…59 overlaps 20…49: covered 20…59, so the split at 59 has cu 1 and cu_nc 0 up to 79.
	// 63: t=−15 covers −15…14, before follow-up starts: (0,14] 1, then 0.
	// 64: t=5 covers 5…34; admitted on t=34, the last covered day: follow-up ends there,
	//     the last interval (4,34] is current use with the event.
	// 65: statin_any from t=40 (its own day): (39,…]. statin_n: the one on 40 counts on
	//     days 41…70, the one on 50 on days 51…80: 0 to 40, 1 on (40,50], 2 on (50,70],
	//     1 on (70,80], 0 on (80,100].
	// 66: t=10 covers 10…39, t=45 covers 45…74 (5 uncovered days 40…44 between): cu 0 on
	//     (39,44]; with grace 10 one episode 10…74, the gap counted as use.
	// 67: one interval (0,100].
	require.Equal(t, []string{
		"61 1 0 9 false 0 0 0 0 0",
		"61 2 9 39 false 1 1 1 0 0",
		"61 3 39 100 false 0 0 0 0 0",
		"62 1 0 19 false 0 0 0 0 0",
		"62 2 19 59 false 1 1 1 0 0",
		"62 3 59 79 false 1 0 1 0 0",
		"62 4 79 100 false 0 0 0 0 0",
		"63 1 0 14 false 1 1 1 0 0",
		"63 2 14 100 false 0 0 0 0 0",
		"64 1 0 4 false 0 0 0 0 0",
		"64 2 4 34 true 1 1 1 0 0",
		"65 1 0 39 false 0 0 0 0 0",
		"65 2 39 40 false 0 0 0 1 0",
		"65 3 40 50 false 0 0 0 1 1",
		"65 4 50 70 false 0 0 0 1 2",
		"65 5 70 80 false 0 0 0 1 1",
		"65 6 80 100 false 0 0 0 1 0",
		"66 1 0 9 false 0 0 0 0 0",
		"66 2 9 39 false 1 1 1 0 0",
		"66 3 39 44 false 0 0 1 0 0",
		"66 4 44 74 false 1 1 1 0 0",
		"66 5 74 100 false 0 0 0 0 0",
		"67 1 0 100 false 0 0 0 0 0",
	}, got)

	// The counting-process datasets: adm_cu (the admission ends follow-up, so
	// the episodes are whole; age 65 repeated on each interval) and stat_any,
	// whose outcome (the first statin, t=40 for 65) does not end follow-up:
	// 65's intervals are clipped at 40, the event on (39,40].
	got = queryPlan(t, pool, "td_2", 2, `
SELECT 'adm', person_id, start, stop, event, cov_cu::int, cov_statin_n, cov_age FROM {dataset_cp_adm_cu} WHERE person_id IN (64, 65)
UNION ALL
SELECT 'stat', person_id, start, stop, event, cov_cu::int, cov_statin_any::int, NULL FROM {dataset_cp_stat_any} WHERE person_id IN (64, 65)
ORDER BY 1, 2, 3`)
	require.Equal(t, []string{
		"adm 64 0 4 false 0 0 65",
		"adm 64 4 34 true 1 0 65",
		"adm 65 0 39 false 0 0 65",
		"adm 65 39 40 false 0 0 65",
		"adm 65 40 50 false 0 1 65",
		"adm 65 50 70 false 0 2 65",
		"adm 65 70 80 false 0 1 65",
		"adm 65 80 100 false 0 0 65",
		"stat 64 0 4 false 0 0 -",
		"stat 64 4 34 false 1 0 -",
		"stat 65 0 39 false 0 0 -",
		"stat 65 39 40 true 0 1 -",
	}, got)
}

// TestTimeDependentExample: the current-use example compiles whole now; its
// time-dependent cox analysis has a counting-process dataset.
func TestTimeDependentExample(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../docs/examples/current-use.json")
	require.NoError(t, err)
	p, err := cohort.DecodeBytes(raw)
	require.NoError(t, err)
	plan, err := cohort.Compile(p, cohort.Options{Schema: "s", Partitions: 2, DataVersion: 1})
	require.NoError(t, err)
	require.Empty(t, plan.NotCompiled)
	for _, name := range []string{"tdcov_current_use_p1", "episodes_p1", "dataset_cp_time-dependent_p1"} {
		require.NotNil(t, plan.Step(name), name)
	}
	require.Nil(t, plan.Step("dataset_cp_baseline_p0"), "a cox analysis without time-dependent covariates has none")
}
