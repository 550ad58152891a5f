package cohort_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
)

// matchProtocol runs on criteriaHistory (day 0 2015-07-01, persons 21–27):
// presence and count covariates whose occurrences start in their window
// (the default) or overlap it.
const matchProtocol = `{"version": 1, "name": "match",
  "code_lists": [{"name": "ami", "system": "icd9cm_dx", "include": {"prefixes": ["410"]}},
                 {"name": "diab", "system": "exemption", "include": {"codes": ["013"]}}],
  "events": [{"name": "ami", "source": "hospital_diagnosis", "code_lists": ["ami"], "position": "principal"},
             {"name": "diab", "source": "exemption", "code_lists": ["diab"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}},
    "index": {"date": "2015-07-01"},
    "follow_up": {"start": 1, "end": {"study_end": "2016-12-31"}},
    "covariates": [
      {"name": "ami_start", "kind": "presence", "event": "ami", "window": {"start": -365, "end": -1}},
      {"name": "ami_overlap", "kind": "presence", "event": "ami", "window": {"start": -365, "end": -1}, "match": "overlap"},
      {"name": "diab_start", "kind": "presence", "event": "diab", "window": {"start": 0, "end": 0}, "match": "start"},
      {"name": "diab_active", "kind": "presence", "event": "diab", "window": {"start": 0, "end": 0}, "match": "overlap"},
      {"name": "diab_n", "kind": "count", "event": "diab", "window": {"start": -30, "end": 0}, "match": "overlap"}
    ]}}`

func TestCovariateMatch(t *testing.T) {
	t.Parallel()
	pool := history(t, criteriaHistory)
	got := runBoth(t, pool, matchProtocol, "match", `
SELECT cov_ami_start.person_id, cov_ami_start.value, cov_ami_overlap.value, cov_diab_start.value, cov_diab_active.value, cov_diab_n.value
FROM {cov_ami_start} JOIN {cov_ami_overlap} USING (person_id, entry_no) JOIN {cov_diab_start} USING (person_id, entry_no)
JOIN {cov_diab_active} USING (person_id, entry_no) JOIN {cov_diab_n} USING (person_id, entry_no)
ORDER BY 1`)
	// By hand (day 0 = 2015-07-01, day −365 = 2014-07-01). AMI stays: 21
	// admitted on day −365 (starts in the window); 22 admitted on day −366,
	// discharged on −363 (overlaps it, does not start in it); 23 on −172.
	// Exemption 013: 25 from −181 to −1 (over before day 0, overlaps
	// −30…0); 26 from day 0, open (starts on day 0); 27 from −2007 to day 0
	// (active on day 0, started long before).
	// columns: AMI start | AMI overlap | exemption start on day 0 |
	// exemption active on day 0 | exemptions overlapping −30…0.
	require.Equal(t, []string{
		"21 true true false false 0",
		"22 false true false false 0",
		"23 true true false false 0",
		"24 false false false false 0",
		"25 false false false false 1",
		"26 false false true true 1",
		"27 false false false true 1",
	}, got)

	// Overlap is for baseline covariates only.
	bad := strings.Replace(matchProtocol, `"match": "overlap"}`, `"match": "overlap", "timing": "time_dependent"}`, 1)
	p, err := cohort.DecodeBytes([]byte(bad))
	require.NoError(t, err)
	require.ErrorContains(t, p.Validate(), `phases.covariates[1].match: "overlap" is for baseline covariates`)
}
