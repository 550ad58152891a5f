package statscli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const glmData = "../testdata/glm"

// glmRefCase is a `beaver stats` invocation checked against the R results
// <ref>.coef.csv and <ref>.fit.csv written by testdata/glm/references.R (the
// "call" row of the .fit.csv names the R call).
type glmRefCase struct {
	ref  string
	args []string
}

// glmRef reads a reference: rows of (term, coef, se, stat, p, lower, upper)
// and the fit summary by name.
func glmRef(t *testing.T, name string) (coefs [][]string, fit map[string]string) {
	t.Helper()
	read := func(file string) [][]string {
		fh, err := os.Open(filepath.Join(glmData, file))
		require.NoError(t, err)
		defer fh.Close()
		recs, err := csv.NewReader(fh).ReadAll()
		require.NoError(t, err)
		return recs[1:]
	}
	fit = map[string]string{}
	for _, r := range read(name + ".fit.csv") {
		fit[r[0]] = r[1]
	}
	return read(name + ".coef.csv"), fit
}

// glmRun runs `beaver stats args...` and decodes its JSON output.
func glmRun(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(args, &out, &errb)
	require.Equal(t, 0, code, "stderr: %s", errb.String())
	var doc map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc))
	require.Contains(t, doc, "timing_ms")
	return doc
}

// glmNear checks got against an R value printed with 15 digits, to 1e-6 relative.
func glmNear(t *testing.T, want string, got any, what string) {
	t.Helper()
	w, err := strconv.ParseFloat(want, 64)
	require.NoError(t, err)
	g, ok := got.(float64)
	require.True(t, ok, "%s: %v is not a number", what, got)
	assert.LessOrEqual(t, math.Abs(g-w), 1e-6*math.Abs(w)+1e-300, "%s: got %.15g, want %.15g", what, g, w)
}

// checkGLM compares a decoded result with its R reference; stats names the
// JSON members holding R's columns stat, lower and upper.
func checkGLM(t *testing.T, doc map[string]any, ref string, model, stat, lower, upper string, fitKeys []string) {
	t.Helper()
	coefs, fit := glmRef(t, ref)
	call := fit["call"]
	assert.Equal(t, model, doc["model"])
	glmNear(t, fit["n"], doc["n"], call+": n")
	for _, k := range fitKeys {
		glmNear(t, fit[k], doc[k], call+": "+k)
	}
	got, ok := doc["coefficients"].([]any)
	require.True(t, ok)
	require.Len(t, got, len(coefs), call)
	for j, r := range coefs {
		c := got[j].(map[string]any)
		assert.Equal(t, r[0], c["term"], call)
		glmNear(t, r[1], c["coef"], call+": "+r[0]+" coef")
		glmNear(t, r[2], c["se"], call+": "+r[0]+" se")
		glmNear(t, r[3], c[stat], call+": "+r[0]+" "+stat)
		glmNear(t, r[4], c["p"], call+": "+r[0]+" p")
		glmNear(t, r[5], c[lower], call+": "+r[0]+" "+lower)
		glmNear(t, r[6], c[upper], call+": "+r[0]+" "+upper)
	}
}

func TestLinearCLI(t *testing.T) {
	t.Parallel()
	for _, c := range []glmRefCase{
		{"stackloss_linear", []string{"--csv", glmData + "/stackloss.csv", "--outcome", "stack.loss", "--covariates", "Air.Flow,Water.Temp,Acid.Conc."}},
		{"mtcars_linear", []string{"--csv", glmData + "/mtcars.csv", "--outcome", "mpg", "--covariates", "wt, hp, cyl", "--categorical", "cyl"}},
		{"mtcars_na_linear", []string{"--csv", glmData + "/mtcars_na.csv", "--outcome", "mpg", "--covariates", "wt,hp,cyl", "--categorical", "cyl"}},
		{"birthwt_linear", []string{"--csv", glmData + "/birthwt.csv", "--outcome", "bwt", "--covariates", "age,lwt,race,smoke,ht,ui", "--categorical", "race"}},
	} {
		t.Run(c.ref, func(t *testing.T) {
			t.Parallel()
			doc := glmRun(t, append([]string{"linear"}, c.args...)...)
			checkGLM(t, doc, c.ref, "linear", "t", "lower", "upper", []string{"r_squared", "adj_r_squared", "sigma", "df_residual"})
		})
	}
}

// TestGLMCLIErrors checks exit codes and messages of linear and logistic.
func TestGLMCLIErrors(t *testing.T) {
	t.Parallel()
	designed := glmData + "/designed.csv"
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no csv", []string{"linear", "--outcome", "y", "--covariates", "x"}, 2, "--csv is required"},
		{"no outcome", []string{"logistic", "--csv", designed, "--covariates", "x"}, 2, "--outcome is required"},
		{"no covariates", []string{"linear", "--csv", designed, "--outcome", "y"}, 2, "--covariates is required"},
		{"empty covariates", []string{"linear", "--csv", designed, "--outcome", "y", "--covariates", " , "}, 2, "--covariates lists no column"},
		{"categorical not covariate", []string{"logistic", "--csv", designed, "--outcome", "low", "--covariates", "x", "--categorical", "grp"}, 2, `--categorical "grp" is not among --covariates`},
		{"outcome as covariate", []string{"linear", "--csv", designed, "--outcome", "y", "--covariates", "x,y"}, 2, `--outcome "y" is also among --covariates`},
		{"unknown flag", []string{"linear", "--bogus"}, 2, "flag provided but not defined"},
		{"missing file", []string{"linear", "--csv", glmData + "/nope.csv", "--outcome", "y", "--covariates", "x"}, 1, "read csv:"},
		{"missing column", []string{"linear", "--csv", designed, "--outcome", "y", "--covariates", "x,z"}, 1, `column "z" not found; columns are: y, low, sep, x, x2, one, grp, word`},
		{"not a number", []string{"linear", "--csv", designed, "--outcome", "y", "--covariates", "word"}, 1, `column "word", line 6: "five" is not a number`},
		{"outcome not 0/1", []string{"logistic", "--csv", designed, "--outcome", "y", "--covariates", "x"}, 1, `column "y", line 2: "1.2" is not 0/1 or true/false`},
		{"single level", []string{"linear", "--csv", designed, "--outcome", "y", "--covariates", "x,one", "--categorical", "one"}, 1, `column "one": only one level "a" among the rows used`},
		{"separation", []string{"logistic", "--csv", designed, "--outcome", "sep", "--covariates", "x"}, 1, `logistic: separation: fitted probabilities tend to 0 or 1 in 10 of 10 rows`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			code := Run(tt.args, &out, &errb)
			assert.Equal(t, tt.code, code, "stderr: %s", errb.String())
			assert.Contains(t, errb.String(), tt.msg)
			assert.Empty(t, out.String())
		})
	}
}

// TestGLMCLIDropped checks that an aliased term (x2 = 2x) is reported as R
// does, coefficient NA (null), and named in "dropped" and "warnings".
func TestGLMCLIDropped(t *testing.T) {
	t.Parallel()
	designed := glmData + "/designed.csv"
	for _, args := range [][]string{
		{"linear", "--csv", designed, "--outcome", "y", "--covariates", "x,grp,x2", "--categorical", "grp"},
		{"logistic", "--csv", designed, "--outcome", "low", "--covariates", "x,x2"},
	} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			require.Equal(t, 0, Run(args, &out, &errb), errb.String())
			var doc struct {
				Coefficients []struct {
					Term string   `json:"term"`
					Coef *float64 `json:"coef"`
				} `json:"coefficients"`
				Dropped  []string `json:"dropped"`
				Warnings []string `json:"warnings"`
			}
			require.NoError(t, json.Unmarshal(out.Bytes(), &doc))
			last := doc.Coefficients[len(doc.Coefficients)-1]
			assert.Equal(t, "x2", last.Term)
			assert.Nil(t, last.Coef)
			assert.Equal(t, []string{"x2"}, doc.Dropped)
			require.Len(t, doc.Warnings, 1)
			assert.Contains(t, doc.Warnings[0], `term "x2" was left out of the model: it is a linear combination`)
		})
	}
}

// TestCLIExtremeValues checks that a covariate or outcome value outside the
// magnitudes the fitters accept is refused naming column and line (issue 14,
// point 17: 1e308 gave "singular" or a non-finite log-likelihood).
func TestCLIExtremeValues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "extreme.csv")
	require.NoError(t, os.WriteFile(file, []byte("y,e,t,x,tiny\n1,0,1,1,0\n2,1,2,2,1e-320\n3,0,3,1e308,0\n4,1,4,3,0\n5,1,5,4,0\n6,0,6,2,0\n"), 0o600))
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"linear", "--csv", file, "--outcome", "y", "--covariates", "x"}, `linear: column "x", line 4: 1e+308 is too large`},
		{[]string{"logistic", "--csv", file, "--outcome", "e", "--covariates", "tiny"}, `logistic: column "tiny", line 3: 1e-320 is too small`},
		{[]string{"linear", "--csv", file, "--outcome", "x", "--covariates", "y"}, `linear: column "x", line 4: 1e+308 is too large`},
		{[]string{"cox", "--csv", file, "--time", "t", "--event", "e", "--covariates", "y,x"}, `cox: column "x", line 4: covariate "x": 1e+308 is too large`},
	} {
		var out, errb bytes.Buffer
		assert.Equal(t, 1, Run(c.args, &out, &errb), errb.String())
		assert.Contains(t, errb.String(), c.msg)
	}
}
