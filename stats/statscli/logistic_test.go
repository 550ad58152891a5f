package statscli

import (
	"testing"
)

func TestLogisticCLI(t *testing.T) {
	t.Parallel()
	for _, c := range []glmRefCase{
		{"birthwt_logistic", []string{"--csv", glmData + "/birthwt.csv", "--outcome", "low", "--covariates", "age,lwt,race,smoke,ptl,ht,ui", "--categorical", "race"}},
		{"infert_logistic", []string{"--csv", glmData + "/infert.csv", "--outcome", "case", "--covariates", "spontaneous,induced,education", "--categorical", "education"}},
		{"mtcars_logistic", []string{"--csv", glmData + "/mtcars.csv", "--outcome", "am", "--covariates", "wt,hp"}},
		{"mtcars_na_logistic", []string{"--csv", glmData + "/mtcars_na.csv", "--outcome", "am", "--covariates", "wt,hp,cyl", "--categorical", "cyl"}},
	} {
		t.Run(c.ref, func(t *testing.T) {
			t.Parallel()
			doc := glmRun(t, append([]string{"logistic"}, c.args...)...)
			checkGLM(t, doc, c.ref, "logistic", "z", "or_lower", "or_upper", []string{"deviance", "null_deviance", "aic", "iterations"})
		})
	}
}
