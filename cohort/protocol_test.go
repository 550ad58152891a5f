package cohort

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var exampleNames = []string{"comparator-new-users", "current-use", "hip-fracture-rates"}

func readExample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "examples", name+".json"))
	require.NoError(t, err)
	return b
}

func loadExample(t testing.TB, name string) *Protocol {
	t.Helper()
	p, err := DecodeBytes(readExample(t, name))
	require.NoError(t, err)
	return p
}

func TestExamplesDecodeValidateAndCheckCleanly(t *testing.T) {
	t.Parallel()
	for _, name := range exampleNames {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := loadExample(t, name)
			require.Equal(t, name, p.Name)
			require.NoError(t, p.Validate())
			require.Empty(t, Check(p))
			q, err := p.Bind(nil)
			require.NoError(t, err)
			require.Empty(t, q.Parameters)
			require.Empty(t, Check(q))
		})
	}
}

func TestExampleAnalysesAreTheOnesTheEngineExpects(t *testing.T) {
	t.Parallel()
	want := map[string]map[string][]string{
		"comparator-new-users": {"crude": {"exposure"}, "adjusted": {"exposure", "age", "sex", "diabetes"}},
		"current-use":          {"time-dependent": {"current_use", "age", "sex"}, "baseline": {"use_at_index", "age", "sex"}},
		"hip-fracture-rates":   {"rates-by-asl": nil},
	}
	for name, analyses := range want {
		p := loadExample(t, name)
		for aname, covs := range analyses {
			var found *Analysis
			for i := range p.Phases.Analyses {
				if p.Phases.Analyses[i].Name == aname {
					found = &p.Phases.Analyses[i]
				}
			}
			require.NotNil(t, found, "%s: analysis %s", name, aname)
			require.Equal(t, covs, found.Covariates, "%s: analysis %s", name, aname)
		}
	}
	p := loadExample(t, "comparator-new-users")
	require.Equal(t, "B", p.Phases.Covariates[0].Reference, "exposure=A needs B as reference")
}

// mutate decodes the comparator example, applies f and validates.
func mutate(t *testing.T, base string, f func(p *Protocol)) error {
	t.Helper()
	p := loadExample(t, base)
	f(p)
	return p.Validate()
}

func requireFieldError(t *testing.T, err error, path, msgPart string) {
	t.Helper()
	require.Error(t, err)
	ves, ok := err.(ValidationErrors)
	require.True(t, ok, "error is %T: %v", err, err)
	for _, fe := range ves {
		if fe.Path == path && strings.Contains(fe.Msg, msgPart) {
			return
		}
	}
	t.Fatalf("no error at %q containing %q in:\n%v", path, msgPart, err)
}

func TestValidateReportsEachProblemAtItsPath(t *testing.T) {
	t.Parallel()
	ptr := func(n int) *int { return &n }
	cases := []struct {
		name, base string
		f          func(p *Protocol)
		path, msg  string
	}{
		{"version", "comparator-new-users", func(p *Protocol) { p.Version = 2 }, "version", "must be 1"},
		{"window order", "comparator-new-users", func(p *Protocol) { p.Phases.Criteria[0].Window.Start = I(10) }, "phases.criteria[0].window.start", "must be ≤ end"},
		{"window anchor", "comparator-new-users", func(p *Protocol) { p.Phases.Criteria[0].Window.Anchor = "discharge" }, "phases.criteria[0].window.anchor", "must be one of"},
		{"criterion needs a name", "comparator-new-users", func(p *Protocol) { p.Phases.Criteria[0].Name = "" }, "phases.criteria[0].name", "required"},
		{"criterion two kinds", "comparator-new-users", func(p *Protocol) { p.Phases.Criteria[0].Gap = &Gap{Event: "ami_admission", Days: Int{V: 3}} }, "phases.criteria[0]", "exactly one of"},
		{"criterion window and dates", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria[0].Dates = &DateRange{Start: D("2010-01-01")}
		}, "phases.criteria[0]", "either window or dates"},
		{"count two bounds", "comparator-new-users", func(p *Protocol) { p.Phases.Criteria[0].Count.AtLeast = ptr(2) }, "phases.criteria[0].count", "exactly one of"},
		{"unknown event in criterion", "comparator-new-users", func(p *Protocol) { p.Phases.Criteria[0].Event = "stroke" }, "phases.criteria[0].event", `unknown event "stroke"`},
		{"nested group n", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria = append(p.Phases.Criteria, Criterion{Name: "g", Group: &Group{Op: OpAtLeast, N: ptr(3), Criteria: []Criterion{
				{Event: "ami_admission", Window: &Window{Start: I(-10), End: I(-20)}},
			}}})
		}, "phases.criteria[1].group.n", "between 0 and the number of criteria (1)"},
		{"nested window path", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria = append(p.Phases.Criteria, Criterion{Name: "g", Group: &Group{Op: OpAny, Criteria: []Criterion{
				{Demographic: &Demographic{Sex: "F"}},
				{Event: "ami_admission", Window: &Window{Start: I(-10), End: I(-20)}},
			}}})
		}, "phases.criteria[1].group.criteria[1].window.start", "must be ≤ end"},
		{"accrual order", "comparator-new-users", func(p *Protocol) { p.Phases.Population.Accrual.End = D("2012-01-01") }, "phases.population.accrual.start", "must be ≤ end"},
		{"bad date", "comparator-new-users", func(p *Protocol) { p.Phases.Population.Accrual.End = D("2018-02-30") }, "phases.population.accrual.end", "YYYY-MM-DD"},
		{"age order", "comparator-new-users", func(p *Protocol) { p.Phases.Population.Age.Min = I(95) }, "phases.population.age.min", "must be ≤ max"},
		{"study end before accrual", "comparator-new-users", func(p *Protocol) { p.Phases.FollowUp.End.StudyEnd = D("2010-01-01") }, "phases.follow_up.end.study_end", "start of accrual"},
		{"unknown code list", "comparator-new-users", func(p *Protocol) { p.Events[0].CodeLists = []string{"statins"} }, "events[0].code_lists[0]", `unknown code list "statins"`},
		{"wrong system for source", "comparator-new-users", func(p *Protocol) { p.Events[0].CodeLists = []string{"ami"} }, "events[0].code_lists[0]", `system "icd9cm_dx"`},
		{"icd9 with dot", "comparator-new-users", func(p *Protocol) { p.CodeLists[2].Include.Codes = []string{"410.1"} }, "code_lists[2].include.codes[0]", "without dots"},
		{"atc level", "comparator-new-users", func(p *Protocol) { p.CodeLists[0].Include.Prefixes[0] = "C09A0" }, "code_lists[0].include.prefixes[0]", "ATC code of level"},
		{"range lengths", "comparator-new-users", func(p *Protocol) {
			p.CodeLists[2].Include.Ranges = []CodeRange{{From: "410", To: "4149"}}
		}, "code_lists[2].include.ranges[0]", "same length"},
		{"duplicate code list", "comparator-new-users", func(p *Protocol) { p.CodeLists[1].Name = "ace_inhibitors" }, "code_lists[1].name", "duplicate code list"},
		{"bad name", "comparator-new-users", func(p *Protocol) { p.Events[0].Name = "ACE dispensing" }, "events[0].name", "not a name"},
		{"position on dispensing", "comparator-new-users", func(p *Protocol) { p.Events[0].Position = "principal" }, "events[0].position", "applies only to"},
		{"one group", "comparator-new-users", func(p *Protocol) { p.Phases.Index.Groups = p.Phases.Index.Groups[:1] }, "phases.index.groups", "at least two"},
		{"event in two groups", "comparator-new-users", func(p *Protocol) { p.Phases.Index.Groups[1].Events = []string{"ace_dispensing"} }, "phases.index.groups[1].events[0]", "already in group"},
		{"cox ci", "comparator-new-users", func(p *Protocol) { p.Phases.Analyses[4].CI = "bootstrap" }, "phases.analyses[4].ci", `must be one of "wald", "profile"`},
		{"ci on kaplan-meier", "comparator-new-users", func(p *Protocol) { p.Phases.Analyses[2].CI = "profile" }, "phases.analyses[2].ci", `not used by kind "kaplan_meier"`},
		{"unknown covariate in analysis", "comparator-new-users", func(p *Protocol) { p.Phases.Analyses[4].Covariates[3] = "bmi" }, "phases.analyses[4].covariates[3]", `unknown covariate "bmi"`},
		{"stratify by continuous", "comparator-new-users", func(p *Protocol) { p.Phases.Analyses[4].StratifyBy = "age" }, "phases.analyses[4].stratify_by", "is continuous"},
		{"unknown outcome", "comparator-new-users", func(p *Protocol) { p.Phases.Analyses[3].Outcome = "stroke" }, "phases.analyses[3].outcome", `unknown outcome "stroke"`},
		{"field not used by kind", "comparator-new-users", func(p *Protocol) { p.Phases.Analyses[3].Per = 1000 }, "phases.analyses[3].per", `not used by kind "cox"`},
		{"reference not a level", "comparator-new-users", func(p *Protocol) { p.Phases.Covariates[0].Reference = "C" }, "phases.covariates[0].reference", "levels"},
		{"combine of continuous", "comparator-new-users", func(p *Protocol) { p.Phases.Covariates[6].Of[0] = "age" }, "phases.covariates[6].of[0]", "is continuous"},
		{"cycle", "comparator-new-users", func(p *Protocol) {
			p.Phases.Covariates = append(p.Phases.Covariates,
				Covariate{Name: "x", Kind: KindSum, Of: []string{"age", "y"}},
				Covariate{Name: "y", Kind: KindSum, Of: []string{"age", "x"}})
		}, "phases.covariates[7].of", "depends on itself through x → y → x"},
		{"required field of kind", "comparator-new-users", func(p *Protocol) { p.Phases.Covariates[3].Window = nil }, "phases.covariates[3].window", `required for kind "presence"`},
		{"time-dependent outside cox", "current-use", func(p *Protocol) {
			p.Phases.Analyses = append(p.Phases.Analyses, Analysis{Name: "t1", Kind: AnalysisDescriptive, Covariates: []string{"current_use"}})
		}, "phases.analyses[3].covariates[0]", "time-dependent"},
		{"drug event not a dispensing", "current-use", func(p *Protocol) { p.Phases.Covariates[0].Drug.Event = "gi_bleeding_admission" }, "phases.covariates[0].drug.event", `source "hospital_diagnosis"`},
		{"index date outside accrual", "current-use", func(p *Protocol) { p.Phases.Index.Date = D("2014-01-01") }, "phases.index.date", "accrual period"},
		{"unknown parameter", "hip-fracture-rates", func(p *Protocol) { p.Phases.Index.Date.Param = "yr" }, "phases.index.date", `unknown parameter "yr"`},
		{"year placeholder without day", "hip-fracture-rates", func(p *Protocol) { p.Phases.Index.Date.Day = "" }, "phases.index.date.day", "MM-DD"},
		{"registry standard of non-demographic", "hip-fracture-rates", func(p *Protocol) {
			p.Phases.Covariates = append(p.Phases.Covariates, Covariate{Name: "prior", Kind: KindPresence, Event: "hip_fracture_admission", Window: &Window{End: I(-1)}})
			p.Phases.Analyses[1].Standardize.By = append(p.Phases.Analyses[1].Standardize.By, "prior")
		}, "phases.analyses[1].standardize.by[2]", "registry standard population"},
		{"all outcome in rates", "hip-fracture-rates", func(p *Protocol) { p.Phases.Outcomes[0].Occurrence = "all" }, "phases.analyses[1].outcome", "rates count only the first event"},
		{"all outcome itself", "hip-fracture-rates", func(p *Protocol) { p.Phases.Outcomes[0].Occurrence = "all" }, "phases.outcomes[0].occurrence", "not computed yet"},
		{"all outcome unused", "comparator-new-users", func(p *Protocol) {
			p.Phases.Outcomes = append(p.Phases.Outcomes, Outcome{Name: "ami_all", Events: []string{"ami_admission"}, Occurrence: "all"})
		}, "phases.outcomes[1].occurrence", `no analysis counts the occurrences of "ami_all"`},
		{"all outcome in cox", "comparator-new-users", func(p *Protocol) { p.Phases.Outcomes[0].Occurrence = "all" }, "phases.analyses[3].outcome", `kind "cox" needs the first`},
		{"data end not a rule", "comparator-new-users", func(p *Protocol) { p.Phases.FollowUp.End.DataEnd = D("today") }, "phases.follow_up.end.data_end", `must be "flows" (the latest event in the flows, the default), "enrolment" (the latest end of enrolment) or a date`},
		{"data end bad date", "comparator-new-users", func(p *Protocol) { p.Phases.FollowUp.End.DataEnd = D("2019-02-30") }, "phases.follow_up.end.data_end", "YYYY-MM-DD"},
		{"data end before accrual", "comparator-new-users", func(p *Protocol) { p.Phases.FollowUp.End.DataEnd = D("2010-12-31") }, "phases.follow_up.end.data_end", "start of accrual"},
		{"data end parameter", "hip-fracture-rates", func(p *Protocol) { p.Phases.FollowUp.End.DataEnd = &Date{Param: "nope"} }, "phases.follow_up.end.data_end", `unknown parameter "nope"`},
		{"parameter default out of range", "hip-fracture-rates", func(p *Protocol) { p.Parameters[0].Default = int64(2020) }, "parameters[0].default", "≤ 2015"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			requireFieldError(t, mutate(t, tc.base, tc.f), tc.path, tc.msg)
		})
	}
}

func TestValidateReturnsAllErrors(t *testing.T) {
	t.Parallel()
	err := mutate(t, "comparator-new-users", func(p *Protocol) {
		p.Version = 0
		p.Phases.Criteria[0].Window.Start = I(5)
		p.Phases.Analyses[3].Outcome = "x"
	})
	require.Len(t, err.(ValidationErrors), 3, "%v", err)
	require.Contains(t, err.Error(), "phases.criteria[0].window.start: must be ≤ end (-1)")
}

func TestDecodeRejectsWithPaths(t *testing.T) {
	t.Parallel()
	base := string(readExample(t, "comparator-new-users"))
	cases := []struct {
		name, old, new, path, msg string
	}{
		{"unknown top-level field", `"version": 1,`, `"version": 1, "author": "x",`, "author", "unknown field"},
		{"unknown nested field", `"window": {"start": -365, "end": -1}`, `"window": {"start": -365, "end": -1, "inclusive": true}`, "phases.criteria[0].window.inclusive", "unknown field"},
		{"string for integer", `"window": {"start": -365,`, `"window": {"start": "-365",`, "phases.criteria[0].window.start", "must be an integer"},
		{"float for integer", `"max_days": 1825`, `"max_days": 1825.5`, "phases.follow_up.end.max_days", "must be an integer"},
		{"object for array", `"covariates": ["exposure"],`, `"covariates": {"a": 1},`, "phases.analyses[3].covariates", "must be an array"},
		{"bad placeholder", `"age": {"min": 40,`, `"age": {"min": {"param": "a", "x": 1},`, "phases.population.age.min", "unknown field"},
		{"bool for string", `"ties": "breslow"`, `"ties": true`, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := strings.Replace(base, tc.old, tc.new, 1)
			if tc.path == "" {
				doc = strings.Replace(base, `"ties": "efron"}`, `"ties": true}`, 1)
				tc.path, tc.msg = "phases.analyses[3].ties", "must be a string"
			}
			require.NotEqual(t, base, doc, "replacement did not apply")
			_, err := DecodeBytes([]byte(doc))
			requireFieldError(t, err, tc.path, tc.msg)
		})
	}
	for _, doc := range []string{``, `[]`, `{"version": 1} {}`, `{"version": 1`, `null`} {
		_, err := DecodeBytes([]byte(doc))
		require.Error(t, err, "document %q", doc)
	}
}

func TestCheckWarns(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, base string
		f          func(p *Protocol)
		path, msg  string
	}{
		{"window before enrolment", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria[0].Window = &Window{Start: I(-1000), End: I(-400)}
		}, "phases.criteria[0].window", "before the 365 days"},
		{"window starting before enrolment", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria[0].Window = &Window{Start: I(-730), End: I(-1)}
			p.Phases.Criteria[0].Count = &Count{AtLeast: new(1)}
		}, "phases.criteria[0].window.start", "before the 365 days"},
		{"future window", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria[0].Window = &Window{Start: I(30), End: I(60)}
		}, "phases.criteria[0].window", "immortal-time"},
		{"unused code list", "comparator-new-users", func(p *Protocol) {
			p.CodeLists = append(p.CodeLists, CodeList{Name: "x", System: SystemATC, Include: CodeSet{Codes: []string{"N02"}}})
		}, "code_lists[6]", "not used"},
		{"washout longer than enrolment", "comparator-new-users", func(p *Protocol) { p.Phases.Index.Washout.Days = Int{V: 730} }, "phases.index.washout.days", "longer than the enrolment"},
		{"unused covariate", "current-use", func(p *Protocol) { p.Phases.Analyses[2].Covariates = p.Phases.Analyses[2].Covariates[1:] }, "phases.covariates[1]", `"use_at_index" is not used`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := loadExample(t, tc.base)
			tc.f(p)
			require.NoError(t, p.Validate())
			ws := Check(p)
			for _, w := range ws {
				if w.Path == tc.path && strings.Contains(w.Msg, tc.msg) {
					return
				}
			}
			t.Fatalf("no warning at %q containing %q in %v", tc.path, tc.msg, ws)
		})
	}
}

func TestBind(t *testing.T) {
	t.Parallel()
	p := loadExample(t, "hip-fracture-rates")
	cases := []struct {
		params            map[string]string
		studyEnd, index   string
		errPath, errMatch string
	}{
		{nil, "2017-12-31", "2013-01-01", "", ""},
		{map[string]string{"year": "2015"}, "2019-12-31", "2015-01-01", "", ""},
		{map[string]string{"year": "2016"}, "", "", "parameters[0]", "≤ 2015"},
		{map[string]string{"year": "20x5"}, "", "", "parameters[0]", "must be an integer"},
		{map[string]string{"year": "2014", "area": "x"}, "", "", "parameters", `unknown parameter "area"`},
	}
	for _, tc := range cases {
		q, err := p.Bind(tc.params)
		if tc.errPath != "" {
			requireFieldError(t, err, tc.errPath, tc.errMatch)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.studyEnd, q.Phases.FollowUp.End.StudyEnd.V)
		require.Equal(t, tc.index, q.Phases.Index.Date.V)
		require.Equal(t, tc.index, q.Phases.Analyses[1].Standardize.Standard.RegistryDate.V)
		require.False(t, q.Phases.Population.Accrual.Start.IsParam())
	}
	require.True(t, p.Phases.Index.Date.IsParam(), "Bind must not change its receiver")

	p.Parameters[0].Default = nil
	_, err := p.Bind(nil)
	requireFieldError(t, err, "parameters[0]", "needs a value")
}

func TestCodeSyntax(t *testing.T) {
	t.Parallel()
	cases := []struct {
		system, code string
		prefix, ok   bool
	}{
		{SystemICD9Dx, "410", false, true}, {SystemICD9Dx, "41001", false, true}, {SystemICD9Dx, "V4581", false, true},
		{SystemICD9Dx, "E8800", false, true}, {SystemICD9Dx, "41", false, false}, {SystemICD9Dx, "41", true, true},
		{SystemICD9Dx, "410.1", false, false}, {SystemICD9Dx, "410011", false, false}, {SystemICD9Dx, "v458", false, false},
		{SystemICD9Proc, "3606", false, true}, {SystemICD9Proc, "36061", false, false},
		{SystemATC, "C", false, true}, {SystemATC, "C09", false, true}, {SystemATC, "C09A", false, true},
		{SystemATC, "C09AA", false, true}, {SystemATC, "C09AA05", false, true}, {SystemATC, "C0", false, false},
		{SystemATC, "C09AA0", false, false}, {SystemATC, "c09", false, false},
		{SystemAIC, "012345678", false, true}, {SystemAIC, "0123", false, false},
		{SystemExemption, "013", false, true}, {SystemExemption, "RF0100", false, true},
		{SystemOutpatient, "89.7", false, true},
	}
	for _, tc := range cases {
		msg := checkCode(tc.system, tc.code, tc.prefix)
		require.Equal(t, tc.ok, msg == "", "%s %q prefix=%v: %s", tc.system, tc.code, tc.prefix, msg)
	}
}
