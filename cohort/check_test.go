package cohort

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckRegistryStandard: a registry standard population that the
// engine cannot compute (the cohort is not the whole registry on the
// registry date) is said at design time (issue 14, point 10), not only as
// "crude rates only" in the results.
func TestCheckRegistryStandard(t *testing.T) {
	t.Parallel()
	const path = "phases.analyses[1].standardize.standard.registry_date"
	cases := []struct {
		name string
		f    func(p *Protocol)
		msg  string // "": no warning
	}{
		{"the example", func(p *Protocol) {}, ""},
		{"a criterion", func(p *Protocol) {
			p.Phases.Criteria = []Criterion{{Name: "no prior fracture", Event: "hip_fracture_admission", Window: &Window{Start: I(-365), End: I(-1)}, Count: &Count{AtMost: new(0)}}}
		}, `the cohort is restricted by the criteria "no prior fracture"`},
		{"an age restriction", func(p *Protocol) { p.Phases.Population.Age = &IntRange{Min: I(65)} }, "the population is restricted by age"},
		{"another date", func(p *Protocol) {
			p.Phases.Analyses[1].Standardize.Standard.RegistryDate = D("2013-01-01")
		}, "the index date (‹year›-01-01) is not the registry date (2013-01-01)"},
		{"supplied standard", func(p *Protocol) {
			p.Phases.Criteria = []Criterion{{Name: "women", Demographic: &Demographic{Sex: "F"}}}
			p.Phases.Analyses[1].Standardize.Standard = Standard{Population: []StandardStratum{{Levels: map[string]string{"age_class": "<65", "sex": "F"}, Persons: 10}}}
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := loadExample(t, "hip-fracture-rates")
			tc.f(p)
			require.NoError(t, p.Validate())
			var found []string
			for _, w := range Check(p) {
				if w.Path == path {
					found = append(found, w.Msg)
				}
			}
			if tc.msg == "" {
				require.Empty(t, found)
				return
			}
			require.Len(t, found, 1)
			require.Contains(t, found[0], tc.msg)
			require.Contains(t, found[0], "crude rates only")
		})
	}
}

// TestCheckImmortalTime: every criterion and every baseline covariate
// used in a model or a grouping whose window reaches past day 0 is
// warned, named (issue 15, point 2); windows ending by day 0, follow-up
// constructs (time-dependent covariates, a linear model's dependent,
// descriptive rows) are not.
func TestCheckImmortalTime(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, base string
		f          func(p *Protocol)
		path, msg  string // "" path: no immortal-time warning at all
	}{
		{"any time", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria[0].Window = &Window{}
		}, "phases.criteria[0].window", `criterion "no AMI admission in the year before" looks past day 0 (any time)`},
		{"up to day 30", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria[0].Window = &Window{Start: I(-365), End: I(30)}
		}, "phases.criteria[0].window", "(days -365 to 30)"},
		{"open end", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria[0].Window = &Window{Start: I(-365)}
		}, "phases.criteria[0].window", "(from day -365 on, with no end)"},
		{"within enrolment after", "comparator-new-users", func(p *Protocol) {
			p.Phases.Population.Enrolment.After = I(60)
			p.Phases.Criteria[0].Window = &Window{Start: I(1), End: I(30)}
		}, "phases.criteria[0].window", "immortal-time bias"},
		{"nested", "comparator-new-users", func(p *Protocol) {
			c := p.Phases.Criteria[0]
			c.Name, c.Window = "", &Window{End: I(10)}
			p.Phases.Criteria = append(p.Phases.Criteria, Criterion{Name: "either", Group: &Group{Op: OpAny, Criteria: []Criterion{
				{Demographic: &Demographic{Sex: "F"}}, c}}})
		}, "phases.criteria[1].group.criteria[1].window", `criterion "either" looks past day 0 (up to day 10)`},
		{"gap", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria = append(p.Phases.Criteria, Criterion{Name: "gap", Gap: &Gap{Event: "ami_admission", Days: Int{V: 30}}, Window: &Window{Start: I(-90)}})
		}, "phases.criteria[1].window", `criterion "gap" looks past day 0`},
		{"dates", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria[0].Window = nil
			p.Phases.Criteria[0].Dates = &DateRange{Start: D("2010-01-01")}
		}, "phases.criteria[0].dates", "its dates reach past the start of accrual"},
		{"covariate through a transformation", "comparator-new-users", func(p *Protocol) {
			p.Phases.Covariates[3].Window = &Window{Start: I(-365)}
		}, "phases.covariates[3].window", `covariate "antidiabetic_use" looks past day 0 (from day -365 on, with no end) and analysis "adjusted" uses it`},
		{"covariate anchored on a stay's end", "comparator-new-users", func(p *Protocol) {
			p.Phases.Index.Groups[0].Events = []string{"ami_admission"}
			p.Phases.Covariates[4].Window = &Window{Start: I(-30), End: I(-1), Anchor: AnchorIndexEnd}
		}, "phases.covariates[4].window", "(days -30 to -1 after the end of the index event)"},

		{"distance past day 0", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria[0].Distance = &Distance{Event: "ami_admission", Start: I(1), End: I(30)}
		}, "phases.criteria[0].distance", `criterion "no AMI admission in the year before" looks past day 0 (its distance event counts up to day 29)`},
		{"distance within the window's past", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria[0].Window.End = I(-31)
			p.Phases.Criteria[0].Distance = &Distance{Event: "ami_admission", Start: I(0), End: I(30)}
		}, "", ""},
		{"ends on day 0", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria[0].Window = &Window{Start: I(-365), End: I(0)}
		}, "", ""},
		{"dates before accrual", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria[0].Window = nil
			p.Phases.Criteria[0].Dates = &DateRange{Start: D("2010-01-01"), End: D("2012-12-31")}
		}, "", ""},
		{"index_end of one-day events", "comparator-new-users", func(p *Protocol) {
			p.Phases.Criteria[0].Window.Anchor = AnchorIndexEnd
		}, "", ""},
		{"time-dependent", "current-use", func(p *Protocol) {
			p.Phases.Covariates = append(p.Phases.Covariates, Covariate{Name: "bleed", Kind: KindPresence, Timing: TimingTimeDependent, Event: "gi_bleeding_admission", Window: &Window{Start: I(-30), End: I(30)}})
			p.Phases.Analyses[1].Covariates = append(p.Phases.Analyses[1].Covariates, "bleed")
		}, "", ""},
		{"cost as a dependent", "comparator-new-users", func(p *Protocol) {
			p.Phases.Covariates = append(p.Phases.Covariates, Covariate{Name: "cost", Kind: KindCost, Flows: []string{"hospital"}, Window: &Window{Start: I(0), End: I(365)}})
			p.Phases.Analyses = append(p.Phases.Analyses, Analysis{Name: "costs", Kind: AnalysisLinear, Dependent: "cost", Covariates: []string{"exposure"}},
				Analysis{Name: "t2", Kind: AnalysisDescriptive, Covariates: []string{"cost"}})
		}, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := loadExample(t, tc.base)
			tc.f(p)
			require.NoError(t, p.Validate())
			ws := Check(p)
			if tc.path == "" {
				for _, w := range ws {
					require.NotContains(t, w.Msg, "immortal-time", "%v", w)
				}
				return
			}
			for _, w := range ws {
				if w.Path == tc.path && strings.Contains(w.Msg, tc.msg) {
					return
				}
			}
			t.Fatalf("no warning at %q containing %q in %v", tc.path, tc.msg, ws)
		})
	}
}
