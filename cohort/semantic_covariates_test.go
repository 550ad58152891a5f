package cohort_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
)

// covariateProtocol runs on criteriaHistory (day 0 2015-07-01, persons
// 21–27), without criteria.
const covariateProtocol = `{"version": 1, "name": "covs",
  "code_lists": [{"name": "statins", "system": "atc", "include": {"prefixes": ["C10AA"]}},
                 {"name": "diab", "system": "exemption", "include": {"codes": ["013"]}}],
  "events": [{"name": "statin", "source": "dispensing", "code_lists": ["statins"]},
             {"name": "diab", "source": "exemption", "code_lists": ["diab"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}},
    "index": {"date": "2015-07-01"},
    "follow_up": {"start": 1, "end": {"study_end": "2016-12-31"}},
    "covariates": [
      {"name": "age", "kind": "age"}, {"name": "sex", "kind": "sex"}, {"name": "year", "kind": "calendar_year"},
      {"name": "asl", "kind": "asl"},
      {"name": "statin_any", "kind": "presence", "event": "statin", "window": {"start": -365, "end": -1}},
      {"name": "statin_n", "kind": "count", "event": "statin", "window": {"start": -365, "end": 0}},
      {"name": "statin_days", "kind": "days_since_last", "event": "statin", "window": {"end": 0}},
      {"name": "age_class", "kind": "classify", "of": ["age"], "cuts": [60, 65]},
      {"name": "age_agg", "kind": "aggregate", "of": ["age_class"], "classes": [{"label": "<65", "from": ["<60", "[60,65)"]}]},
      {"name": "diab_any", "kind": "presence", "event": "diab", "window": {"start": -3650, "end": 0}},
      {"name": "both", "kind": "combine", "op": "and", "of": ["statin_any", "diab_any"]},
      {"name": "total", "kind": "sum", "of": ["statin_n", "statin_any"]},
      {"name": "ratio", "kind": "combine", "op": "divide", "of": ["statin_n", "statin_days"]}
    ]}}`

func TestBaselineCovariates(t *testing.T) {
	t.Parallel()
	pool := history(t, criteriaHistory)
	got := runBoth(t, pool, covariateProtocol, "covs", `
SELECT cov_age.person_id, cov_age.value, cov_sex.value, cov_year.value, cov_asl.value,
       cov_statin_any.value, cov_statin_n.value, cov_statin_days.value, cov_age_class.value, cov_age_agg.value,
       cov_diab_any.value, cov_both.value, cov_total.value, round(cov_ratio.value::numeric, 4)
FROM {cov_age} JOIN {cov_sex} USING (person_id, entry_no) JOIN {cov_year} USING (person_id, entry_no)
JOIN {cov_asl} USING (person_id, entry_no) JOIN {cov_statin_any} USING (person_id, entry_no)
JOIN {cov_statin_n} USING (person_id, entry_no) JOIN {cov_statin_days} USING (person_id, entry_no)
JOIN {cov_age_class} USING (person_id, entry_no) JOIN {cov_age_agg} USING (person_id, entry_no)
JOIN {cov_diab_any} USING (person_id, entry_no) JOIN {cov_both} USING (person_id, entry_no)
JOIN {cov_total} USING (person_id, entry_no) JOIN {cov_ratio} USING (person_id, entry_no)
ORDER BY 1`)
	// By hand (day 0 = 2015-07-01; statins: 23 on days −365 and 0; 24 twice on −181 and on −91;
	// 25 on −300 and −150; 27 twice on −61; exemption 013 starting: 25 −181, 26 day 0, 27 −2007):
	// columns: age sex year asl | any statin −365…−1 | statins −365…0 | days since the last (to day 0) |
	// age class (<60, [60,65), >=65) | merged (<65) | exemption start in −3650…0 | any AND exemption |
	// count + any | count ÷ days since last (NULL when dividing by 0 or by NULL).
	require.Equal(t, []string{
		"21 65 M 2015 ASL01 false 0 - >=65 >=65 false false 0 -",
		"22 65 M 2015 ASL01 false 0 - >=65 >=65 false false 0 -",
		"23 65 M 2015 ASL01 true 2 0 >=65 >=65 false false 3 -",
		"24 55 F 2015 ASL01 true 3 91 <60 <65 false false 4 0.0330",
		"25 65 F 2015 ASL01 true 2 150 >=65 >=65 true true 3 0.0133",
		"26 65 M 2015 ASL01 false 0 - >=65 >=65 true false 0 -",
		"27 65 M 2015 ASL01 true 2 61 >=65 >=65 true true 3 0.0328",
	}, got)
}

// TestNotCompiled: every covariate kind compiles now, baseline and
// time-dependent, transformations of time-dependent covariates included, so
// Plan.NotCompiled is empty for every valid protocol: the golden cases, the
// examples, and the current-use example with a transformation of its
// time-dependent covariate (which gets its own tdcov step).
func TestNotCompiled(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("testdata/*/protocol.json")
	require.NoError(t, err)
	examples, err := filepath.Glob("../docs/examples/*.json")
	require.NoError(t, err)
	paths = append(paths, examples...)
	require.Greater(t, len(paths), 10)
	for _, path := range paths {
		p := loadProtocol(t, path)
		if len(p.Parameters) > 0 {
			p, err = p.Bind(nil)
			require.NoError(t, err, path)
		}
		plan, err := cohort.Compile(p, cohort.Options{Schema: "s", Partitions: 2, DataVersion: 1, EnrolmentEnd: "2019-12-31"})
		require.NoError(t, err, path)
		require.Empty(t, plan.NotCompiled, path)
	}
	raw, err := os.ReadFile("../docs/examples/current-use.json")
	require.NoError(t, err)
	raw = []byte(strings.Replace(string(raw), `{"name": "age", "kind": "age"}`,
		`{"name": "age", "kind": "age"}, {"name": "no_use", "kind": "combine", "op": "not", "of": ["current_use"]}`, 1))
	p, err := cohort.DecodeBytes(raw)
	require.NoError(t, err)
	plan, err := cohort.Compile(p, cohort.Options{Schema: "s", Partitions: 1, DataVersion: 1})
	require.NoError(t, err)
	require.Empty(t, plan.NotCompiled)
	require.NotNil(t, plan.Step("tdcov_no_use_p0"))
}
