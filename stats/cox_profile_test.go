package stats

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCoxProfileCIMatchesR checks profile-likelihood intervals against a
// direct profile computed in R (testdata/cox/make_profile.R, R 4.2.2,
// survival 3.5-3: coxph with the profiled term as an offset, uniroot on
// l_p(b) = l_max - qchisq(0.95, 1)/2); each case names its coxph call.
func TestCoxProfileCIMatchesR(t *testing.T) {
	t.Parallel()
	refs := loadCoxRefs(t)
	for _, name := range []string{"lung_efron", "lung_breslow", "lung_strata_sex", "veteran", "heart"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ref := refs["profile_"+name]
			require.NotNil(t, ref, "no profile reference for %s", name)
			spec := coxCases[name]
			d := loadCoxData(t, spec)
			fit, err := Cox(d, CoxOptions{Ties: spec.ties, CI: "profile"})
			require.NoError(t, err, ref.call)
			assert.Equal(t, "profile", fit.CI)
			wald, err := Cox(d, CoxOptions{Ties: spec.ties})
			require.NoError(t, err)
			assert.Empty(t, wald.CI)
			require.Len(t, fit.Coefficients, len(ref.vec["hr_lower"]))
			for k, c := range fit.Coefficients {
				assertRel(t, ref.vec["coef"][k], float64(c.Coef), 1e-6, ref.call+" coef "+c.Term)
				assertRel(t, ref.vec["hr_lower"][k], float64(c.HRLower), 1e-6, ref.call+" profile hr_lower "+c.Term)
				assertRel(t, ref.vec["hr_upper"][k], float64(c.HRUpper), 1e-6, ref.call+" profile hr_upper "+c.Term)
				// the profile interval is not the Wald one; z and p stay Wald
				assert.NotEqual(t, wald.Coefficients[k].HRLower, c.HRLower)
				assert.Equal(t, wald.Coefficients[k].Z, c.Z)
			}
		})
	}
}

func TestCoxProfileCIOptions(t *testing.T) {
	t.Parallel()
	d := loadCoxData(t, coxCases["rats"])
	_, err := Cox(d, CoxOptions{CI: "profile"})
	assert.ErrorContains(t, err, "profile-likelihood intervals use the model-based likelihood")
	_, err = Cox(d, CoxOptions{CI: "likelihood"})
	assert.ErrorContains(t, err, `ci "likelihood": want wald or profile`)
}

// TestCoxProfileCIDropped checks that profile intervals are those of the
// model without a dropped (constant) column: lung_constant is lung_efron
// plus k = 3, whose coefficient is NA.
func TestCoxProfileCIDropped(t *testing.T) {
	t.Parallel()
	refs := loadCoxRefs(t)
	ref := refs["profile_lung_efron"] // make_profile.R
	fit, err := Cox(loadCoxData(t, coxCases["lung_constant"]), CoxOptions{CI: "profile"})
	require.NoError(t, err)
	require.Equal(t, []string{"k"}, fit.Dropped)
	kept := []int{0, 2, 3} // age, sex, ph.ecog around k
	for r, k := range kept {
		c := fit.Coefficients[k]
		assertRel(t, ref.vec["hr_lower"][r], float64(c.HRLower), 1e-6, ref.call+" profile hr_lower "+c.Term)
		assertRel(t, ref.vec["hr_upper"][r], float64(c.HRUpper), 1e-6, ref.call+" profile hr_upper "+c.Term)
	}
	assert.True(t, fit.Coefficients[1].HRLower.IsNA())
}
