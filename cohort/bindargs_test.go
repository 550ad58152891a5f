package cohort_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/schema/errs"
)

// manyRanges is a valid protocol whose one diagnosis list holds n ranges
// in include and n in exclude (5-digit ICD-9-CM codes, each its own
// range), used by the index, a criterion, a covariate and an outcome.
func manyRanges(n int) *cohort.Protocol {
	inc, exc := make([]cohort.CodeRange, n), make([]cohort.CodeRange, n)
	for i := range n {
		c := fmt.Sprintf("%05d", i)
		inc[i] = cohort.CodeRange{From: c, To: c}
		exc[i] = cohort.CodeRange{From: c[:4], To: c[:4]}
	}
	p := loadProtocol0(`{"version": 1, "name": "ranges",
  "code_lists": [{"name": "dx", "system": "icd9cm_dx", "include": {"codes": ["4100"]}}],
  "events": [{"name": "dx", "source": "hospital_diagnosis", "code_lists": ["dx"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}},
    "index": {"events": ["dx"], "occurrence": "first"},
    "criteria": [{"name": "before", "event": "dx", "window": {"start": -365, "end": -1}, "count": {"at_most": 0}}],
    "follow_up": {"start": 1, "end": {"outcomes": ["dx"], "study_end": "2016-12-31"}},
    "covariates": [{"name": "prior", "kind": "presence", "event": "dx", "window": {"end": -1}}],
    "outcomes": [{"name": "dx", "events": ["dx"]}],
    "analyses": [{"name": "cox", "kind": "cox", "outcome": "dx", "covariates": ["prior"]}]}}`)
	p.CodeLists[0].Include.Ranges = inc
	p.CodeLists[0].Exclude = &cohort.CodeSet{Ranges: exc}
	return p
}

func loadProtocol0(doc string) *cohort.Protocol {
	p, err := cohort.DecodeBytes([]byte(doc))
	if err != nil {
		panic(err)
	}
	return p
}

// TestCodeListsBindFewArguments: 33,000 ranges (66,000 bounds in include
// and as many in exclude, over PostgreSQL's 65,535 bound values per
// statement when each bound was an argument) compile to steps of a few
// arguments each, the same count as with one range (issue 14, point 8).
func TestCodeListsBindFewArguments(t *testing.T) {
	t.Parallel()
	big, err := cohort.Compile(manyRanges(33000), goldenOpts)
	require.NoError(t, err)
	small, err := cohort.Compile(manyRanges(1), goldenOpts)
	require.NoError(t, err)
	require.Equal(t, len(small.Steps), len(big.Steps))
	for i, s := range big.Steps {
		require.LessOrEqual(t, len(s.Args), 40, "step %s", s.Name)
		require.Equal(t, len(small.Steps[i].Args), len(s.Args), "step %s: the number of ranges does not change the arguments", s.Name)
	}
}

// TestCompileRefusesTooManyArguments: a step that would still bind more
// than PostgreSQL allows (here a group of 22,000 criteria of three values each) is
// refused at compile time as an invalid protocol naming the step, never
// sent to the server.
func TestCompileRefusesTooManyArguments(t *testing.T) {
	t.Parallel()
	p := manyRanges(1)
	crit := p.Phases.Criteria[0]
	crit.Name = ""
	members := make([]cohort.Criterion, 22000)
	for i := range members {
		members[i] = crit
	}
	p.Phases.Criteria = []cohort.Criterion{{Name: "many", Group: &cohort.Group{Op: cohort.OpAll, Criteria: members}}}
	_, err := cohort.Compile(p, goldenOpts)
	require.Error(t, err)
	require.True(t, errors.Is(err, errs.Invalid), "%v", err)
	require.ErrorContains(t, err, "step criteria_p0 would bind 66000 values, more than PostgreSQL's 65535")
}

// TestCodeRangesMatch runs ranges of three lengths in include and
// exclude, now bound as arrays, on hand-made diagnoses.
func TestCodeRangesMatch(t *testing.T) {
	t.Parallel()
	codes := []string{"4100", "4102", "41031", "419", "V4511", "V454", "V45", "2509", "2510", "25101", "2511", "252", "40", "E8800"}
	fixture := "INSERT INTO person (person_id, sex, birth_date, data_version) VALUES (1, 'F', '1950-01-01', 1);\n" +
		"INSERT INTO enrolment (person_id, start_date, asl, data_version) VALUES (1, '2000-01-01', 'ASL01', 1);\n"
	for i, c := range codes {
		fixture += fmt.Sprintf("INSERT INTO sdo (person_id, discharge_id, admission_date, discharge_date, data_version) VALUES (1, '%s', '2015-01-%02d', '2015-01-%02d', 1);\n", c, i+1, i+1)
		fixture += fmt.Sprintf("INSERT INTO sdo_diagnosis (person_id, discharge_id, position, code, admission_date, data_version) VALUES (1, '%s', 0, '%s', '2015-01-%02d', 1);\n", c, c, i+1)
	}
	pool := history(t, fixture)
	protocol := `{"version": 1, "name": "ranges",
  "code_lists": [{"name": "dx", "system": "icd9cm_dx",
                  "include": {"ranges": [{"from": "41", "to": "41"}, {"from": "V450", "to": "V453"}, {"from": "250", "to": "251"}]},
                  "exclude": {"ranges": [{"from": "4102", "to": "4103"}, {"from": "2510", "to": "2510"}]}}],
  "events": [{"name": "dx", "source": "hospital_diagnosis", "code_lists": ["dx"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}},
    "index": {"events": ["dx"], "occurrence": "all"},
    "follow_up": {"start": 1, "end": {"study_end": "2016-12-31"}}}}`
	got := runBoth(t, pool, protocol, "ranges", `SELECT record_id FROM {ev_dx} ORDER BY 1`)
	// By hand (no dictionary rows: validity not checked):
	//  4100: "41" in [41, 41], not excluded → in.  4102: excluded by [4102, 4103].
	//  41031: its first 4, 4103, excluded.  419: "41" → in (above 4135…: the
	//  prefilter's upper bound is "41" followed by U+10FFFF, the greatest).
	//  V4511: V451 in [V450, V453] → in.  V454: above.  V45: shorter, below V450.
	//  2509: 250 → in.  2510 and 25101: excluded by [2510, 2510].  2511: 251 → in.
	//  252, 40, E8800: in no range.
	require.Equal(t, []string{"2509", "2511", "4100", "419", "V4511"}, got)
}
