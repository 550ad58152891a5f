package cohort_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
)

// dataEndHistory: two persons with an NSAID on 2015-03-01; person 1 is
// enrolled without end and has a PPI on 2016-08-01, person 2's enrolment
// ends on 2016-09-30.
const dataEndHistory = `
INSERT INTO person (person_id, sex, birth_date, data_version) VALUES (1, 'F', '1950-01-01', 1), (2, 'M', '1950-01-01', 1);
INSERT INTO enrolment (person_id, start_date, end_date, asl, data_version) VALUES
 (1, '2010-01-01', NULL, 'ASL01', 1), (2, '2010-01-01', '2016-09-30', 'ASL01', 1);
INSERT INTO pharmacy (person_id, dispensing_date, aic, atc, packs, data_version) VALUES
 (1, '2015-03-01', '1', 'M01AB05', 1, 1), (2, '2015-03-01', '1', 'M01AB05', 1, 1),
 (1, '2016-08-01', '2', 'A02BC01', 1, 1);
`

func dataEndProtocol(dataEnd string) string {
	return fmt.Sprintf(`{"version": 1, "name": "data-end",
  "code_lists": [{"name": "nsaids", "system": "atc", "include": {"prefixes": ["M01A"]}},
                 {"name": "ppis", "system": "atc", "include": {"prefixes": ["A02BC"]}}],
  "events": [{"name": "nsaid", "source": "dispensing", "code_lists": ["nsaids"]},
             {"name": "ppi", "source": "dispensing", "code_lists": ["ppis"]}],
  "phases": {
    "population": {"accrual": {"start": "2015-01-01", "end": "2015-12-31"}},
    "index": {"events": ["nsaid"], "occurrence": "first"},
    "follow_up": {"start": 1, "end": {"outcomes": ["ppi"] %s}},
    "covariates": [{"name": "ppi_after", "kind": "presence", "event": "ppi", "window": {"start": 1}}],
    "outcomes": [{"name": "ppi", "events": ["ppi"]}]}}`, dataEnd)
}

// TestDataEnd: follow_up.end.data_end chooses the last day of data that
// ends follow-up and observation: the latest event in the flows
// (Options.DataEnd, the default), the end of enrolment
// (Options.EnrolmentEnd) or a date; Plan.DataEnd says which was used.
func TestDataEnd(t *testing.T) {
	t.Parallel()
	pool := history(t, dataEndHistory)
	opts := func(o *cohort.Options) { o.DataEnd, o.EnrolmentEnd = "2016-06-30", "2016-12-31" }
	const q = `SELECT person_id, fu_end, end_reason, out_ppi_event, cov_ppi_after FROM {dataset} ORDER BY 1`
	for _, tc := range []struct {
		name, member, used string
		want               []string
	}{
		// Default, the flows' data end 2016-06-30: both end there; the PPI
		// of 2016-08-01 lies after it, neither an outcome nor observed.
		{"flows", "", "2016-06-30", []string{
			"1 2016-06-30 data_end false false",
			"2 2016-06-30 data_end false false",
		}},
		{"flows explicit", `, "data_end": "flows"`, "2016-06-30", []string{
			"1 2016-06-30 data_end false false",
			"2 2016-06-30 data_end false false",
		}},
		// The end of enrolment 2016-12-31: person 1's PPI on 2016-08-01 is
		// the outcome and is observed by the covariate; person 2 leaves the
		// registry on 2016-09-30 (enrolment_end, before the data end).
		{"enrolment", `, "data_end": "enrolment"`, "2016-12-31", []string{
			"1 2016-08-01 outcome true true",
			"2 2016-09-30 enrolment_end false false",
		}},
		// A date, 2016-03-31, before both.
		{"date", `, "data_end": "2016-03-31"`, "2016-03-31", []string{
			"1 2016-03-31 data_end false false",
			"2 2016-03-31 data_end false false",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			schema := "data_end_" + map[string]string{"flows": "f", "flows explicit": "fe", "enrolment": "e", "date": "d"}[tc.name]
			got := runBoth(t, pool, dataEndProtocol(tc.member), schema, q, opts)
			require.Equal(t, tc.want, got)
			p, err := cohort.DecodeBytes([]byte(dataEndProtocol(tc.member)))
			require.NoError(t, err)
			o := cohort.Options{Schema: "x", Partitions: 1}
			opts(&o)
			plan, err := cohort.Compile(p, o)
			require.NoError(t, err)
			require.Equal(t, tc.used, plan.DataEnd)
		})
	}

	// "enrolment" needs Options.EnrolmentEnd.
	p, err := cohort.DecodeBytes([]byte(dataEndProtocol(`, "data_end": "enrolment"`)))
	require.NoError(t, err)
	_, err = cohort.Compile(p, cohort.Options{Schema: "x", Partitions: 1, DataEnd: "2016-06-30"})
	require.ErrorContains(t, err, `phases.follow_up.end.data_end is "enrolment", but the options give no end of enrolment (Options.EnrolmentEnd)`)
}
