package cohort_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
)

// TestAttritionLabels: the plan names every attrition line with a key and
// its arguments, and the English text is the one the attrition step
// stores (bound as an argument of its SQL).
func TestAttritionLabels(t *testing.T) {
	t.Parallel()
	p := loadProtocol(t, "testdata/comparator/protocol.json")
	o := goldenOpts
	o.Scope = []string{"301", "302"}
	plan, err := cohort.Compile(p, o)
	require.NoError(t, err)
	var got []string
	for _, l := range plan.Attrition {
		got = append(got, fmt.Sprintf("%s %q | %s", l.Key, l.Args, l.Text))
	}
	require.Equal(t, []string{
		`index_days_scope ["301, 302"] | days with an index event in the data scope (301, 302)`,
		`accrual ["2013-01-01" "2018-12-31"] | day 0 in the accrual period (2013-01-01 to 2018-12-31)`,
		`alive [] | alive on day 0`,
		`age_range ["40" "90"] | aged 40 to 90 on day 0`,
		`enrolled ["-365" "0"] | enrolled on days -365 to 0`,
		`washout_any ["365"] | washout: no occurrence of any index event on days -365 to -1`,
		`first_day [] | first qualifying day of each person`,
		`one_group [] | one exposure group on day 0`,
		` [] | no AMI admission in the year before`,
	}, got)
	for _, s := range plan.Steps {
		if s.Kind != cohort.StepAttrition {
			continue
		}
		for _, l := range plan.Attrition {
			require.Contains(t, s.Args, any(l.Text), "step %s binds the label", s.Name)
		}
	}
	// Every key has a format whose arguments are %s only.
	for _, k := range cohort.LabelKeys() {
		f, ok := cohort.LabelFormat(k)
		require.True(t, ok)
		require.Equal(t, strings.Count(f, "%"), strings.Count(f, "%s"), "%s: %s", k, f)
	}
}
