package statscli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// coxTestdata holds the Cox datasets and references, made by
// stats/testdata/cox/make_reference.R (R 4.2.2, survival 3.5-3).
var coxTestdata = filepath.Join("..", "testdata", "cox")

func TestCoxCommand(t *testing.T) {
	t.Parallel()
	// coxph(Surv(time, dead) ~ age + sex + ph.ecog, data = lung2): 227 rows after na.omit, 164 events.
	code, doc, stderr := runJSON(t, "cox", "--csv", filepath.Join(coxTestdata, "lung.csv"), "--time", "time", "--event", "dead",
		"--covariates", "age,sex,ph.ecog")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "cox", doc["model"])
	assert.Equal(t, 227.0, doc["n"])
	assert.Equal(t, 164.0, doc["events"])
	assert.Equal(t, "efron", doc["ties"])
	assert.Equal(t, 3.0, doc["iterations"])
	assert.Equal(t, true, doc["converged"])
	assert.Contains(t, doc, "timing_ms")
	assert.NotContains(t, doc, "zph")
	assert.InDelta(t, -729.230121374862, doc["loglik"], 1e-9)
	assert.InDelta(t, -744.48045576144, doc["loglik_null"], 1e-9)
	coefs := doc["coefficients"].([]any)
	require.Len(t, coefs, 3)
	sex := coefs[1].(map[string]any)
	assert.Equal(t, "sex", sex["term"])
	assert.InDelta(t, -0.552612395703631, sex["coef"], 1e-9)
	assert.InDelta(t, 0.167739053787264, sex["se"], 1e-9)
	assert.Nil(t, sex["robust_se"])
	assert.Contains(t, sex, "robust_se")
	for _, k := range []string{"z", "p", "hr", "hr_lower", "hr_upper"} {
		assert.Contains(t, sex, k)
	}
	for _, k := range []string{"lr_test", "wald_test", "score_test"} {
		tst := doc[k].(map[string]any)
		assert.Equal(t, 3.0, tst["df"], k)
	}
	// summary(fit)$logtest: 30.5006687731566
	assert.InDelta(t, 30.5006687731566, doc["lr_test"].(map[string]any)["chi2"], 1e-8)
}

func TestCoxCommandCategoricalZPH(t *testing.T) {
	t.Parallel()
	// coxph(Surv(time, status) ~ trt + karno + age + celltype, data = vet), celltype levels in byte order
	// (adeno first); cox.zph(fit): celltype chisq 14.883722182454 on 3 df, GLOBAL 29.1792190553742 on 6.
	code, doc, stderr := runJSON(t, "cox", "--csv", filepath.Join(coxTestdata, "veteran.csv"), "--time", "time", "--event", "status",
		"--covariates", "trt,karno,age,celltype", "--categorical", "celltype", "--zph")
	require.Equal(t, 0, code, stderr)
	coefs := doc["coefficients"].([]any)
	require.Len(t, coefs, 6)
	large := coefs[3].(map[string]any)
	assert.Equal(t, "celltype=large", large["term"])
	assert.InDelta(t, -0.776474832624207, large["coef"], 1e-8)
	zph := doc["zph"].(map[string]any)
	terms := zph["terms"].([]any)
	require.Len(t, terms, 4)
	ct := terms[3].(map[string]any)
	assert.Equal(t, "celltype", ct["term"])
	assert.Equal(t, 3.0, ct["df"])
	assert.InDelta(t, 14.883722182454, ct["chi2"], 1e-6)
	global := zph["global"].(map[string]any)
	assert.Equal(t, 6.0, global["df"])
	assert.InDelta(t, 29.1792190553742, global["chi2"], 1e-6)
}

func TestCoxCommandCountingProcessCluster(t *testing.T) {
	t.Parallel()
	// coxph(Surv(tstart, tstop, status) ~ treat + sex + age, data = cg, cluster = id)
	code, doc, stderr := runJSON(t, "cox", "--csv", filepath.Join(coxTestdata, "cgd.csv"), "--start", "tstart", "--time", "tstop",
		"--event", "status", "--covariates", "treat,sex,age", "--categorical", "treat,sex", "--cluster", "id", "--ties", "breslow")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "breslow", doc["ties"])
	treat := doc["coefficients"].([]any)[0].(map[string]any)
	assert.Equal(t, "treat=rIFN-g", treat["term"])
	assert.NotNil(t, treat["robust_se"])

	code, doc, stderr = runJSON(t, "cox", "--csv", filepath.Join(coxTestdata, "cgd.csv"), "--start", "tstart", "--time", "tstop",
		"--event", "status", "--covariates", "treat,sex,age", "--categorical", "treat,sex", "--cluster", "id")
	require.Equal(t, 0, code, stderr)
	treat = doc["coefficients"].([]any)[0].(map[string]any)
	assert.InDelta(t, -1.11911126534026, treat["coef"], 1e-8)
	assert.InDelta(t, 0.310177188716868, treat["robust_se"], 1e-8)
	// both of the score tests summary(fit) prints (testdata/cox/reference.csv,
	// case cgd): fit$score 24.8373092494001 and fit$rscore 11.1648330440562
	assert.InDelta(t, 24.8373092494001, doc["score_test"].(map[string]any)["chi2"], 1e-5)
	assert.InDelta(t, 11.1648330440562, doc["robust_score_test"].(map[string]any)["chi2"], 1e-5)

	// without a cluster there is no robust score test
	code, doc, stderr = runJSON(t, "cox", "--csv", filepath.Join(coxTestdata, "cgd.csv"), "--start", "tstart", "--time", "tstop",
		"--event", "status", "--covariates", "treat,sex,age", "--categorical", "treat,sex")
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, doc, "robust_score_test")
}

func TestCoxCommandProfileCI(t *testing.T) {
	t.Parallel()
	// testdata/cox/make_profile.R, case lung_efron: a direct profile of
	// coxph(Surv(time, dead) ~ age + sex + ph.ecog, data = data, ties = "efron")
	code, doc, stderr := runJSON(t, "cox", "--csv", filepath.Join(coxTestdata, "lung.csv"), "--time", "time", "--event", "dead",
		"--covariates", "age,sex,ph.ecog", "--ci", "profile")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "profile", doc["ci"])
	sex := doc["coefficients"].([]any)[1].(map[string]any)
	assert.Equal(t, "sex", sex["term"])
	assert.InEpsilon(t, 0.411318672955236, sex["hr_lower"], 1e-6)
	assert.InEpsilon(t, 0.795048493061089, sex["hr_upper"], 1e-6)

	code, doc, stderr = runJSON(t, "cox", "--csv", filepath.Join(coxTestdata, "lung.csv"), "--time", "time", "--event", "dead",
		"--covariates", "age,sex,ph.ecog")
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, doc, "ci")
}

func TestCoxCommandErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	neg := filepath.Join(dir, "neg.csv")
	require.NoError(t, os.WriteFile(neg, []byte("t,e,x\n1,1,0.5\n2,0,1\n-3,1,2\n4,1,0\n"), 0o600))
	lung := filepath.Join(coxTestdata, "lung.csv")
	sep := filepath.Join(coxTestdata, "separation.csv")
	many := filepath.Join(dir, "many.csv")
	var b strings.Builder
	b.WriteString("t,e,site\n")
	for i := 0; i < 600; i++ {
		fmt.Fprintf(&b, "%d,%d,s%d\n", 1+i%37, i%2, i%150)
	}
	require.NoError(t, os.WriteFile(many, []byte(b.String()), 0o600))
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no covariates", []string{"--csv", lung, "--time", "time", "--event", "dead"}, 2, "--covariates is required"},
		{"no csv", []string{"--time", "time", "--event", "dead", "--covariates", "age"}, 2, "--csv is required"},
		{"bad ties", []string{"--csv", lung, "--time", "time", "--event", "dead", "--covariates", "age", "--ties", "exact"}, 2, "--ties"},
		{"categorical not covariate", []string{"--csv", lung, "--time", "time", "--event", "dead", "--covariates", "age", "--categorical", "sex"}, 2, "--categorical"},
		{"unknown column", []string{"--csv", lung, "--time", "time", "--event", "dead", "--covariates", "agee"}, 1, `column "agee" not found`},
		{"negative time", []string{"--csv", neg, "--time", "t", "--event", "e", "--covariates", "x"}, 1, `column "t", line 4: negative time -3`},
		{"bad ci", []string{"--csv", lung, "--time", "time", "--event", "dead", "--covariates", "age", "--ci", "exact"}, 2, `--ci "exact": want wald or profile`},
		{"profile with cluster", []string{"--csv", lung, "--time", "time", "--event", "dead", "--covariates", "age", "--cluster", "inst", "--ci", "profile"}, 2, "--ci profile"},
		{"too many levels", []string{"--csv", many, "--time", "t", "--event", "e", "--covariates", "site", "--categorical", "site"}, 1,
			`cox: design: categorical term "site" has 150 levels; a Cox model takes at most 100`},
		{"separation", []string{"--csv", sep, "--time", "time", "--event", "status", "--covariates", "x,g"}, 1, `coefficient of "g" diverges`},
		// R runs out of iterations ("one or more coefficients may be infinite",
		// testdata/cox/make_separation.R); Beaver printed converged:false, no warning
		{"separation, no convergence", []string{"--csv", filepath.Join(coxTestdata, "separation_noconv.csv"), "--time", "time", "--event", "status", "--covariates", "x"}, 1,
			`cox: newton-raphson: monotone likelihood (separation): the coefficient of "x" diverges to infinity (the fit did not converge in 20 iterations`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runJSON(t, append([]string{"cox"}, c.args...)...)
			assert.Equal(t, c.code, code, stderr)
			assert.Contains(t, stderr, c.msg)
		})
	}
}
