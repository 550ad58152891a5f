package cohort

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMessages: the messages issue 14 (points 11 and 12) quoted as seen,
// now saying what to do.
func TestMessages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, base string
		f          func(p *Protocol)
		path, msg  string
	}{
		{"time-dependent stratum of a cox analysis", "current-use", func(p *Protocol) {
			p.Phases.Analyses[1].Strata = []string{"current_use"}
		}, "phases.analyses[1].strata[0]", `a cox analysis's strata must be baseline covariates`},
		{"time-dependent covariate outside cox", "current-use", func(p *Protocol) {
			p.Phases.Analyses = append(p.Phases.Analyses, Analysis{Name: "km", Kind: AnalysisKaplanMeier, Outcome: "gi_bleeding", By: "current_use"})
		}, "phases.analyses[3].by", "only a cox analysis can use it, as one of its covariates"},
		{"timing of a kind that is never time-dependent", "comparator-new-users", func(p *Protocol) {
			p.Phases.Covariates = append(p.Phases.Covariates, Covariate{Name: "adh", Kind: KindAdherence, Timing: TimingTimeDependent,
				Drug: &Drug{Event: "ace_dispensing"}, Method: "pdc", Window: &Window{Start: I(0), End: I(365)}})
		}, "phases.covariates[7].timing", `only kinds "presence", "count", "current_use" can be time-dependent`},
		{"timing of a transformation", "comparator-new-users", func(p *Protocol) { p.Phases.Covariates[6].Timing = TimingBaseline },
			"phases.covariates[6].timing", "a transformation is time-dependent when one of its inputs is"},
		{"window far out of range", "comparator-new-users", func(p *Protocol) { p.Phases.Criteria[0].Window.Start = I(-1_000_000_000_000) },
			"phases.criteria[0].window.start", "out of range: must be between -36600 and 36600, got -1000000000000"},
		{"classify reference not a default label", "comparator-new-users", func(p *Protocol) {
			p.Phases.Covariates = append(p.Phases.Covariates, Covariate{Name: "echo", Kind: KindClassify, Of: []string{"age"}, Cuts: []float64{1}, Reference: "yes"})
		}, "phases.covariates[7].reference", `must be one of the levels "<1", ">=1", got "yes"`},
		{"groups nested too deep", "comparator-new-users", func(p *Protocol) {
			c := Criterion{Demographic: &Demographic{Sex: "F"}}
			for range MaxGroupDepth + 1 {
				c = Criterion{Group: &Group{Op: OpAll, Criteria: []Criterion{c}}}
			}
			c.Name = "deep"
			p.Phases.Criteria = append(p.Phases.Criteria, c)
		}, "phases.criteria[1]" + strings.Repeat(".group.criteria[0]", MaxGroupDepth) + ".group", "nest at most 30 levels"},
	}
	cases = append(cases, struct {
		name, base string
		f          func(p *Protocol)
		path, msg  string
	}{"too many criteria for a table", "comparator-new-users", func(p *Protocol) {
		for i := range MaxCriteria {
			c := p.Phases.Criteria[0]
			c.Name = fmt.Sprintf("c%d", i)
			p.Phases.Criteria = append(p.Phases.Criteria, c)
		}
	}, "phases.criteria", "at most 500 top-level criteria"})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			requireFieldError(t, mutate(t, tc.base, tc.f), tc.path, tc.msg)
		})
	}

	// Groups nested exactly MaxGroupDepth deep decode and validate.
	require.NoError(t, mutate(t, "comparator-new-users", func(p *Protocol) {
		c := Criterion{Event: "ami_admission", Window: &Window{Start: I(-365), End: I(-1)}}
		for range MaxGroupDepth {
			c = Criterion{Group: &Group{Op: OpAll, Criteria: []Criterion{c}}}
		}
		c.Name = "deep"
		p.Phases.Criteria = append(p.Phases.Criteria, c)
		b, err := json.Marshal(p)
		require.NoError(t, err)
		q, err := DecodeBytes(b)
		require.NoError(t, err)
		*p = *q
	}))

	// A classify reference among the default labels is accepted.
	require.NoError(t, mutate(t, "comparator-new-users", func(p *Protocol) {
		p.Phases.Covariates = append(p.Phases.Covariates, Covariate{Name: "echo", Kind: KindClassify, Of: []string{"age"}, Cuts: []float64{1}, Reference: ">=1"})
		p.Phases.Analyses[4].Covariates = append(p.Phases.Analyses[4].Covariates, "echo")
	}))
}

// TestDecodeMessages: the decoder's messages for an unknown member, an
// integer out of range, and nesting too deep for any protocol.
func TestDecodeMessages(t *testing.T) {
	t.Parallel()
	base := string(readExample(t, "comparator-new-users"))
	cases := []struct {
		name, old, new, path, msg string
	}{
		{"unknown member lists the allowed ones", `"max_days": 1825`, `"max_days": 1825, "exposure_end": true`, "phases.follow_up.end.exposure_end",
			`unknown field; allowed here: "outcomes", "death", "enrolment_end", "study_end", "data_end", "max_days", "censoring", "discontinuation", "switch"`},
		{"an integer beyond 64 bits", `"window": {"start": -365,`, `"window": {"start": -100000000000000000000000,`, "phases.criteria[0].window.start", "out of range"},
		{"a count beyond 32 bits", `"count": {"at_most": 0}`, `"count": {"at_most": 10000000000}`, "phases.criteria[0].count.at_most", "out of range: must be between -2147483648 and 2147483647"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := strings.Replace(base, tc.old, tc.new, 1)
			require.NotEqual(t, base, doc, "replacement did not apply")
			_, err := DecodeBytes([]byte(doc))
			requireFieldError(t, err, tc.path, tc.msg)
		})
	}

	// A window of −10¹² days decodes and is then said out of range.
	p, err := DecodeBytes([]byte(strings.Replace(base, `"window": {"start": -365,`, `"window": {"start": -1000000000000,`, 1)))
	require.NoError(t, err)
	requireFieldError(t, p.Validate(), "phases.criteria[0].window.start", "out of range: must be between -36600 and 36600, got -1000000000000")

	// Criteria nested 5,000 deep: refused with the path where the
	// nesting passes the limit, not encoding/json's pathless "exceeded
	// max depth".
	deep := `{"event": "ami_admission", "window": {"start": -365, "end": -1}}`
	for range 5000 {
		deep = `{"group": {"op": "all", "criteria": [` + deep + `]}}`
	}
	doc := strings.Replace(base, `"criteria": [`, `"criteria": [`+deep+`, `, 1)
	_, err = DecodeBytes([]byte(doc))
	want := "phases.criteria[0]" + strings.Repeat(".group.criteria[0]", 32) + ".group"
	requireFieldError(t, err, want, fmt.Sprintf("nested more than %d levels deep", MaxNesting))
}

// TestTooDeep: the nesting scan skips strings (with escaped quotes),
// tolerates malformed JSON and names the path of the value too deep.
func TestTooDeep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		doc  string
		path string
		deep bool
	}{
		{`{"a": "x\"[[[[{{{{"}`, "", false},
		{`{"a": [1, [2, [3]]]}`, "a[1][1]", true},
		{`{"a": {"b": 1, "c": {"d": {}}}}`, "a.c.d", true},
		{`{"a": "unterminated [[[[`, "", false},
		{`]]]}}}[`, "", false},
		{`{"a\"b": {"c": {"d": []}}}`, "a\"b.c.d", true},
	} {
		path, deep := tooDeep([]byte(tc.doc), 3)
		require.Equal(t, tc.deep, deep, tc.doc)
		require.Equal(t, tc.path, path, tc.doc)
	}
}
