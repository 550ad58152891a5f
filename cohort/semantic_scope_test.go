package cohort_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
)

// scopeHistory: four persons enrolled since 2010 with NSAID dispensings;
// person 3 moves from ASL01 to ASL02 on 2015-03-01, person 4 from ASL02
// to ASL01 on 2015-06-01 (contiguous records: one merged spell).
const scopeHistory = `
INSERT INTO person (person_id, sex, birth_date, data_version) VALUES
 (1, 'F', '1950-01-01', 1), (2, 'F', '1950-01-01', 1), (3, 'M', '1950-01-01', 1), (4, 'M', '1950-01-01', 1);
INSERT INTO enrolment (person_id, start_date, end_date, asl, data_version) VALUES
 (1, '2010-01-01', NULL, 'ASL01', 1), (2, '2010-01-01', NULL, 'ASL02', 1),
 (3, '2010-01-01', '2015-02-28', 'ASL01', 1), (3, '2015-03-01', NULL, 'ASL02', 1),
 (4, '2010-01-01', '2015-05-31', 'ASL02', 1), (4, '2015-06-01', NULL, 'ASL01', 1);
INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, data_version) VALUES
 (1, '2015-03-01', '1', 'M01AB05', 1, 1), (2, '2015-03-01', '1', 'M01AB05', 1, 1),
 (3, '2015-02-01', '1', 'M01AB05', 1, 1), (3, '2015-04-01', '1', 'M01AB05', 1, 1),
 (4, '2015-07-01', '1', 'M01AB05', 1, 1);
`

func scopeProtocol(asl string) string {
	return fmt.Sprintf(`{"version": 1, "name": "scope",
  "code_lists": [{"name": "nsaids", "system": "atc", "include": {"prefixes": ["M01A"]}}],
  "events": [{"name": "nsaid", "source": "dispensing", "code_lists": ["nsaids"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}, "enrolment": {"before": 365} %s},
    "index": {"events": ["nsaid"], "occurrence": "first"},
    "follow_up": {"start": 1, "end": {"study_end": "2016-12-31"}}}}`, asl)
}

// TestScope: Options.Scope keeps the persons resident in the scope's ASLs
// on day 0, and a protocol cannot reach others by its own population.asl.
func TestScope(t *testing.T) {
	t.Parallel()
	pool := history(t, scopeHistory)
	scope := func(o *cohort.Options) { o.Scope = []string{"ASL02"} }

	got := runBoth(t, pool, scopeProtocol(""), "scope_none", indexQuery)
	// Without a scope every person enters on the first dispensing.
	require.Equal(t, []string{
		"1 1 2015-03-01 2015-03-01",
		"2 1 2015-03-01 2015-03-01",
		"3 1 2015-02-01 2015-02-01",
		"4 1 2015-07-01 2015-07-01",
	}, got)

	got = runBoth(t, pool, scopeProtocol(""), "scope_asl02", indexQuery, scope)
	// Scope ASL02, by hand:
	//  1: ASL01 → out.  2: ASL02 → in on 2015-03-01.
	//  3: on 2015-02-01 resident in ASL01 → that occurrence does not
	//     qualify; on 2015-04-01 in ASL02 → the first qualifying one.
	//  4: ASL01 since 2015-06-01 → out on 2015-07-01.
	require.Equal(t, []string{
		"2 1 2015-03-01 2015-03-01",
		"3 1 2015-04-01 2015-04-01",
	}, got)

	got = runBoth(t, pool, scopeProtocol(`, "asl": ["ASL01"]`), "scope_bypass", indexQuery, scope)
	// A protocol asking for ASL01 under scope ASL02 gets nobody: both hold.
	require.Empty(t, got)
}
