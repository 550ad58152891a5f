package cohort_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// currentUseHistory: persons 81–85, men born 1950-01-01, enrolled from 2010
// (open); day 0 is 2015-01-01 for all. Product 1 has 30 DDD per pack: one
// pack covers 30 days. ACE dispensings, by day:
//
//	81: day −40 (covers −40…−11) and day 5: uncovered days −10…4 (15 days).
//	82: day −40 and day 15: uncovered days −10…14 (25 days).
//	83: day −10 (covers −10…19).
//	84: day −40 only.
//	85: day −40 and day 0 (covers 0…29).
const currentUseHistory = `
INSERT INTO person (person_id, sex, birth_date, data_version)
 SELECT id, 'M', '1950-01-01', 1 FROM generate_series(81, 85) id;
INSERT INTO enrolment (person_id, start_date, asl, data_version)
 SELECT id, '2010-01-01', 'ASL01', 1 FROM generate_series(81, 85) id;
INSERT INTO dict_product (aic, atc, ddd_per_pack, valid_from, valid_to, data_version) VALUES
 ('1', 'C09AA05', 30, '2000-01-01', NULL, 1);
INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, data_version) VALUES
 (81, '2014-11-22', '1', 'C09AA05', 1, 1), (81, '2015-01-06', '1', 'C09AA05', 1, 1),
 (82, '2014-11-22', '1', 'C09AA05', 1, 1), (82, '2015-01-16', '1', 'C09AA05', 1, 1),
 (83, '2014-12-22', '1', 'C09AA05', 1, 1),
 (84, '2014-11-22', '1', 'C09AA05', 1, 1),
 (85, '2014-11-22', '1', 'C09AA05', 1, 1), (85, '2015-01-01', '1', 'C09AA05', 1, 1);
`

// TestCurrentUseGrace: the baseline current use reads the same episodes as
// the time-dependent one (follow-up starts on day 0 here, so the
// time-dependent value on its first day is the value on day 0) and the
// drug kinds: day 0 in a gap of at most grace_days is use.
func TestCurrentUseGrace(t *testing.T) {
	t.Parallel()
	pool := history(t, currentUseHistory)
	protocol := `{"version": 1, "name": "cug",
  "code_lists": [{"name": "ace", "system": "atc", "include": {"prefixes": ["C09A"]}}],
  "events": [{"name": "ace", "source": "dispensing", "code_lists": ["ace"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-01-01"}},
    "index": {"date": "2015-01-01"},
    "follow_up": {"start": 0, "end": {"study_end": "2015-04-11"}},
    "covariates": [
      {"name": "g0", "kind": "current_use", "drug": {"event": "ace"}},
      {"name": "g10", "kind": "current_use", "drug": {"event": "ace", "grace_days": 10}},
      {"name": "g20", "kind": "current_use", "drug": {"event": "ace", "grace_days": 20}},
      {"name": "td20", "kind": "current_use", "timing": "time_dependent", "drug": {"event": "ace", "grace_days": 20}}]}}`
	got := runBoth(t, pool, protocol, "cug", `
SELECT dataset.person_id, cov_g0::int, cov_g10::int, cov_g20::int, value::int
FROM {dataset} JOIN {tdcov_td20} ON tdcov_td20.person_id = dataset.person_id AND day = fu_start
ORDER BY 1`)
	// By hand: 81's 15-day gap is bridged by a grace of 20, not of 10 or 0
	// (before, the baseline value ignored the grace and was 0 where the
	// time-dependent one was 1); 82's 25-day gap is bridged by none; 83 and
	// 85 are covered on day 0 (85 by a dispensing on day 0 itself); 84's
	// supply ended on day −11 with nothing after.
	require.Equal(t, []string{
		"81 0 0 1 1",
		"82 0 0 0 0",
		"83 1 1 1 1",
		"84 0 0 0 0",
		"85 1 1 1 1",
	}, got)
}
