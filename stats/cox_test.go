package stats

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// coxRef holds the values of one case of testdata/cox/reference.csv, made
// by testdata/cox/make_reference.R (R 4.2.2, survival 3.5-3), or of the
// other *reference.csv files of testdata/cox, each made by the R script
// named in coxRefFiles; each case records its exact R call in the quantity
// "call".
type coxRef struct {
	call   string
	scalar map[string]float64
	vec    map[string][]float64 // quantity -> one value per term (coefficients in order, zph rows with GLOBAL last)
	text   map[string]string
}

// coxRefFiles are the reference files of testdata/cox and the R scripts
// that wrote them (R 4.2.2, survival 3.5-3).
var coxRefFiles = map[string]string{
	"reference.csv":            "make_reference.R",
	"dropped_reference.csv":    "make_dropped.R",
	"separation_reference.csv": "make_separation.R",
	"profile_reference.csv":    "make_profile.R", // cases named profile_<case>
}

func loadCoxRefs(t *testing.T) map[string]*coxRef {
	t.Helper()
	var rows [][]string
	for file := range coxRefFiles {
		f, err := os.Open(filepath.Join("testdata", "cox", file))
		require.NoError(t, err)
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		require.NoError(t, err)
		for _, r := range recs[1:] {
			if file == "profile_reference.csv" {
				r[0] = "profile_" + r[0]
			}
			rows = append(rows, r)
		}
	}
	refs := map[string]*coxRef{}
	var err error
	for _, r := range rows {
		c, q, term, v := r[0], r[1], r[2], r[3]
		ref := refs[c]
		if ref == nil {
			ref = &coxRef{scalar: map[string]float64{}, vec: map[string][]float64{}, text: map[string]string{}}
			refs[c] = ref
		}
		switch q {
		case "call":
			ref.call = v
			continue
		case "warning":
			ref.text[q] = v
			continue
		}
		x := math.NaN()
		if v != "NA" {
			x, err = strconv.ParseFloat(v, 64)
			require.NoError(t, err, "reference %s %s %s", c, q, term)
		}
		if term == "" {
			ref.scalar[q] = x
		} else {
			ref.vec[q] = append(ref.vec[q], x)
		}
	}
	return refs
}

// coxSpec says how to build CoxData for a reference case from its CSV.
type coxSpec struct {
	csv, start, time, event string
	covariates, categorical []string
	strata, cluster         string
	ties                    string
	zph                     bool
	where                   [2]string // keep rows whose column where[0] equals where[1]
	maxIter                 int       // iter.max when not the default (the fit does not converge)
}

var coxCases = map[string]coxSpec{
	"lung_efron":       {csv: "lung.csv", time: "time", event: "dead", covariates: []string{"age", "sex", "ph.ecog"}, zph: true},
	"lung_breslow":     {csv: "lung.csv", time: "time", event: "dead", covariates: []string{"age", "sex", "ph.ecog"}, ties: "breslow", zph: true},
	"lung_strata_sex":  {csv: "lung.csv", time: "time", event: "dead", covariates: []string{"age", "ph.ecog"}, strata: "sex", zph: true},
	"lung_strata_inst": {csv: "lung.csv", time: "time", event: "dead", covariates: []string{"age", "sex"}, strata: "inst", zph: true},
	"veteran":          {csv: "veteran.csv", time: "time", event: "status", covariates: []string{"trt", "karno", "age", "celltype"}, categorical: []string{"celltype"}, zph: true},
	"veteran_breslow":  {csv: "veteran.csv", time: "time", event: "status", covariates: []string{"trt", "karno", "age", "celltype"}, categorical: []string{"celltype"}, ties: "breslow", zph: true},
	"ovarian":          {csv: "ovarian.csv", time: "futime", event: "fustat", covariates: []string{"age", "rx", "ecog.ps"}, zph: true},
	"pbc":              {csv: "pbc.csv", time: "time", event: "dead", covariates: []string{"age", "edema", "log_bili", "log_albumin", "log_protime"}, zph: true},
	"colon_death":      {csv: "colon.csv", time: "time", event: "status", covariates: []string{"rx", "sex", "age", "nodes"}, categorical: []string{"rx"}, zph: true, where: [2]string{"etype", "2"}},
	"colon_cluster":    {csv: "colon.csv", time: "time", event: "status", covariates: []string{"rx", "sex", "age", "nodes"}, categorical: []string{"rx"}, strata: "etype", cluster: "id", zph: true},
	"heart":            {csv: "heart.csv", start: "start", time: "stop", event: "event", covariates: []string{"age", "year", "surgery", "transplant"}, zph: true},
	"heart_breslow":    {csv: "heart.csv", start: "start", time: "stop", event: "event", covariates: []string{"age", "year", "surgery", "transplant"}, ties: "breslow", zph: true},
	"heart_strata":     {csv: "heart.csv", start: "start", time: "stop", event: "event", covariates: []string{"age", "year", "transplant"}, strata: "surgery", zph: true},
	"cgd":              {csv: "cgd.csv", start: "tstart", time: "tstop", event: "status", covariates: []string{"treat", "sex", "age"}, categorical: []string{"treat", "sex"}, cluster: "id", zph: true},
	"rats":             {csv: "rats.csv", time: "time", event: "status", covariates: []string{"rx"}, cluster: "litter", zph: true},
	"tied_efron":       {csv: "tied.csv", time: "time", event: "status", covariates: []string{"x"}},
	"tied_breslow":     {csv: "tied.csv", time: "time", event: "status", covariates: []string{"x"}, ties: "breslow"},
	"single_event":     {csv: "single.csv", time: "time", event: "status", covariates: []string{"x"}},
	"lung_iter2":       {csv: "lung.csv", time: "time", event: "dead", covariates: []string{"age", "sex", "ph.ecog"}, maxIter: 2},
	"heart_iter2":      {csv: "heart.csv", start: "start", time: "stop", event: "event", covariates: []string{"age", "year", "surgery", "transplant"}, maxIter: 2},
	// columns coxph gives NA (make_dropped.R): k is constant, al = age + 2*sex
	"lung_constant":       {csv: "lung_dropped.csv", time: "time", event: "dead", covariates: []string{"age", "k", "sex", "ph.ecog"}, zph: true},
	"lung_aliased":        {csv: "lung_dropped.csv", time: "time", event: "dead", covariates: []string{"age", "sex", "al", "ph.ecog"}, zph: true},
	"lung_aliased_strata": {csv: "lung_dropped.csv", time: "time", event: "dead", covariates: []string{"age", "k", "al", "ph.ecog", "sex"}, strata: "inst", zph: true},
}

// loadCoxData reads a case's CSV and applies na.omit over the used columns.
func loadCoxData(t testing.TB, s coxSpec) CoxData {
	t.Helper()
	f, err := ReadCSVFile(filepath.Join("testdata", "cox", s.csv))
	require.NoError(t, err)
	used := append([]string{s.time, s.event}, s.covariates...)
	for _, c := range []string{s.start, s.strata, s.cluster} {
		if c != "" {
			used = append(used, c)
		}
	}
	rows, err := f.Complete(used...)
	require.NoError(t, err)
	if s.where[0] != "" {
		vals, err := f.Strings(s.where[0], rows)
		require.NoError(t, err)
		kept := rows[:0:0]
		for k, v := range vals {
			if v == s.where[1] {
				kept = append(kept, rows[k])
			}
		}
		rows = kept
	}
	var d CoxData
	d.Stop, err = f.Floats(s.time, rows)
	require.NoError(t, err)
	if s.start != "" {
		d.Start, err = f.Floats(s.start, rows)
		require.NoError(t, err)
	}
	d.Event, err = f.Events(s.event, rows)
	require.NoError(t, err)
	des, err := f.Design(rows, s.covariates, s.categorical)
	require.NoError(t, err)
	d.X, d.P, d.Names = des.X, des.P, des.Names
	d.Terms = make([]string, des.P)
	for j, nm := range des.Names {
		d.Terms[j] = nm
		for _, c := range s.categorical {
			if strings.HasPrefix(nm, c+"=") {
				d.Terms[j] = c
			}
		}
	}
	if s.strata != "" {
		d.Strata, err = f.Strings(s.strata, rows)
		require.NoError(t, err)
	}
	if s.cluster != "" {
		d.Cluster, err = f.Strings(s.cluster, rows)
		require.NoError(t, err)
	}
	return d
}

// assertRel checks got against want with relative tolerance rel (plus a
// tiny absolute one for values near zero).
func assertRel(t *testing.T, want, got, rel float64, what string) {
	t.Helper()
	if math.IsNaN(want) {
		assert.True(t, math.IsNaN(got), "%s: want NA, got %v", what, got)
		return
	}
	assert.LessOrEqual(t, math.Abs(got-want), rel*math.Abs(want)+1e-12, "%s: want %.15g, got %.15g", what, want, got)
}

func TestCoxMatchesR(t *testing.T) {
	t.Parallel()
	refs := loadCoxRefs(t)
	for name, spec := range coxCases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ref := refs[name]
			require.NotNil(t, ref, "no reference for %s", name)
			d := loadCoxData(t, spec)
			fit, err := Cox(d, CoxOptions{Ties: spec.ties, MaxIter: spec.maxIter})
			require.NoError(t, err, ref.call)
			const tol = 1e-6
			p := len(fit.Coefficients)
			require.Equal(t, len(ref.vec["coef"]), p, ref.call)
			if seInfo, ok := ref.vec["se_info"]; ok {
				// R's fit$var is not the inverse information when coxfit6 runs
				// out of iterations (see make_reference.R): compare the SE with
				// a refit at R's coefficients, and skip what derives from it.
				for k, c := range fit.Coefficients {
					assertRel(t, ref.vec["coef"][k], float64(c.Coef), tol, ref.call+" coef "+c.Term)
					assertRel(t, seInfo[k], float64(c.SE), tol, ref.call+" se (inverse information) "+c.Term)
				}
				assertRel(t, ref.scalar["loglik"], float64(fit.Loglik), tol, ref.call+" loglik")
				assertRel(t, ref.scalar["score_chi2"], float64(fit.ScoreTest.Chi2), tol, ref.call+" score")
				assert.Equal(t, int(ref.scalar["iter"]), fit.Iterations, ref.call+" iterations")
				assert.False(t, fit.Converged)
				return
			}
			var dropped []string
			for k, c := range fit.Coefficients {
				if math.IsNaN(ref.vec["coef"][k]) {
					dropped = append(dropped, c.Term)
				}
				assertRel(t, ref.vec["coef"][k], float64(c.Coef), tol, ref.call+" coef "+c.Term)
				assertRel(t, ref.vec["se"][k], float64(c.SE), tol, ref.call+" se "+c.Term)
				if rse, ok := ref.vec["robust_se"]; ok {
					assertRel(t, rse[k], float64(c.RobustSE), tol, ref.call+" robust se "+c.Term)
				} else {
					assert.True(t, c.RobustSE.IsNA(), "robust se without cluster")
				}
				assertRel(t, ref.vec["z"][k], float64(c.Z), tol, ref.call+" z "+c.Term)
				assertRel(t, ref.vec["p"][k], float64(c.P), tol, ref.call+" p "+c.Term)
				assertRel(t, ref.vec["hr"][k], float64(c.HR), tol, ref.call+" hr "+c.Term)
				assertRel(t, ref.vec["hr_lower"][k], float64(c.HRLower), tol, ref.call+" hr_lower "+c.Term)
				assertRel(t, ref.vec["hr_upper"][k], float64(c.HRUpper), tol, ref.call+" hr_upper "+c.Term)
			}
			assertRel(t, ref.scalar["loglik_null"], float64(fit.LoglikNull), tol, ref.call+" loglik null")
			assertRel(t, ref.scalar["loglik"], float64(fit.Loglik), tol, ref.call+" loglik")
			assertRel(t, ref.scalar["lr_chi2"], float64(fit.LRTest.Chi2), tol, ref.call+" LR")
			assertRel(t, ref.scalar["lr_p"], float64(fit.LRTest.P), tol, ref.call+" LR p")
			assert.Equal(t, int(ref.scalar["df"]), fit.LRTest.DF)
			assertRel(t, ref.scalar["wald_chi2"], float64(fit.WaldTest.Chi2), tol, ref.call+" Wald")
			assertRel(t, ref.scalar["wald_p"], float64(fit.WaldTest.P), tol, ref.call+" Wald p")
			assertRel(t, ref.scalar["score_chi2"], float64(fit.ScoreTest.Chi2), tol, ref.call+" score")
			assertRel(t, ref.scalar["score_p"], float64(fit.ScoreTest.P), tol, ref.call+" score p")
			if rs, ok := ref.scalar["rscore_chi2"]; ok { // fit$rscore, summary(fit)$robscore
				require.NotNil(t, fit.RobustScoreTest, ref.call+" robust score")
				assertRel(t, rs, float64(fit.RobustScoreTest.Chi2), tol, ref.call+" robust score")
				assertRel(t, ref.scalar["rscore_p"], float64(fit.RobustScoreTest.P), tol, ref.call+" robust score p")
				assert.Equal(t, fit.ScoreTest.DF, fit.RobustScoreTest.DF)
			} else {
				assert.Nil(t, fit.RobustScoreTest, "robust score test without a cluster")
			}
			assert.Equal(t, int(ref.scalar["iter"]), fit.Iterations, ref.call+" iterations")
			assert.Equal(t, spec.maxIter == 0, fit.Converged)
			assert.Equal(t, int(ref.scalar["n"]), fit.N, ref.call+" n")
			assert.Equal(t, int(ref.scalar["events"]), fit.Events, ref.call+" events")
			// the terms R reports as NA are named, each in a warning
			assert.Equal(t, dropped, fit.Dropped, ref.call+" dropped")
			warns := fit.Warnings
			if !fit.Converged { // R: "Ran out of iterations and did not converge"
				require.NotEmpty(t, warns)
				assert.Contains(t, warns[len(warns)-1], "did not converge in 2 iterations")
				warns = warns[:len(warns)-1]
			}
			require.Len(t, warns, len(dropped))
			for k, w := range warns {
				assert.Contains(t, w, fmt.Sprintf("covariate %q was left out", dropped[k]))
			}

			if !spec.zph {
				return
			}
			z, err := CoxZPH(d, fit, "km")
			require.NoError(t, err, "cox.zph(%s)", ref.call)
			chi, df, pv := ref.vec["zph_chi2"], ref.vec["zph_df"], ref.vec["zph_p"]
			require.Len(t, chi, len(z.Terms)+1, "cox.zph terms")
			for k, tm := range z.Terms {
				assertRel(t, chi[k], float64(tm.Chi2), tol, "cox.zph("+ref.call+") chisq "+tm.Term)
				assertRel(t, pv[k], float64(tm.P), tol, "cox.zph("+ref.call+") p "+tm.Term)
				assert.Equal(t, int(df[k]), tm.DF, "cox.zph df "+tm.Term)
			}
			g := len(z.Terms)
			assertRel(t, chi[g], float64(z.Global.Chi2), tol, "cox.zph("+ref.call+") GLOBAL")
			assertRel(t, pv[g], float64(z.Global.P), tol, "cox.zph("+ref.call+") GLOBAL p")
			assert.Equal(t, int(df[g]), z.Global.DF)
		})
	}
}

func TestCoxZPHTransforms(t *testing.T) {
	t.Parallel()
	refs := loadCoxRefs(t)
	for _, c := range []struct{ name, transform string }{
		{"lung_efron", "rank"}, {"lung_efron", "identity"}, {"lung_efron", "log"}, {"heart", "rank"},
	} {
		t.Run(c.name+"/"+c.transform, func(t *testing.T) {
			t.Parallel()
			ref := refs[c.name]
			want := ref.vec["zph_"+c.transform+"_chi2"] // cox.zph(fit, transform = c.transform)$table[, "chisq"]
			d := loadCoxData(t, coxCases[c.name])
			fit, err := Cox(d, CoxOptions{})
			require.NoError(t, err)
			z, err := CoxZPH(d, fit, c.transform)
			require.NoError(t, err)
			require.Len(t, want, len(z.Terms)+1)
			for k, tm := range z.Terms {
				assertRel(t, want[k], float64(tm.Chi2), 1e-6, "cox.zph("+ref.call+", transform = "+c.transform+") "+tm.Term)
			}
			assertRel(t, want[len(z.Terms)], float64(z.Global.Chi2), 1e-6, "GLOBAL")
		})
	}
	_, err := CoxZPH(loadCoxData(t, coxCases["lung_efron"]), &CoxResult{Coef: make([]float64, 3)}, "sqrt")
	assert.ErrorContains(t, err, `unknown transform "sqrt"`)
}
