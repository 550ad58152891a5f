package stats

import (
	"math"
	"slices"
	"testing"
)

// coxFuzzData decodes fuzz bytes into a small Cox data set: a header byte
// chooses p (1..3), counting-process data, strata and clusters; then each
// row takes 2+p bytes (time, event/start, covariates).
func coxFuzzData(b []byte) (CoxData, CoxOptions) {
	var d CoxData
	var o CoxOptions
	if len(b) == 0 {
		return d, o
	}
	h := b[0]
	b = b[1:]
	p := int(h%3) + 1
	counting, strata, cluster := h&4 != 0, h&8 != 0, h&16 != 0
	if h&32 != 0 {
		o.Ties = "breslow"
	}
	if h&64 != 0 && !cluster {
		o.CI = "profile"
	}
	w := 2 + p
	n := len(b) / w
	d.P = p
	for i := 0; i < n; i++ {
		r := b[i*w : i*w+w]
		t := float64(r[0]%16) + 1
		d.Stop = append(d.Stop, t)
		d.Event = append(d.Event, r[1]&1 == 1)
		if counting {
			d.Start = append(d.Start, math.Max(0, t-1-float64(r[1]>>5)))
		}
		for j := 0; j < p; j++ {
			d.X = append(d.X, float64(int8(r[2+j]))/8)
		}
		if strata {
			d.Strata = append(d.Strata, string(rune('a'+r[1]>>6)))
		}
		if cluster {
			d.Cluster = append(d.Cluster, string(rune('a'+(r[1]>>1)%5)))
		}
	}
	return d, o
}

func coxFinite(vals ...Float) bool {
	for _, v := range vals {
		if v.IsNA() {
			return false
		}
	}
	return true
}

func FuzzCox(f *testing.F) {
	f.Add([]byte{0, 3, 1, 10, 5, 0, 20, 7, 1, 250, 2, 1, 3, 9, 0, 40})
	f.Add([]byte{1, 3, 1, 10, 9, 5, 0, 20, 3, 7, 1, 250, 0, 2, 1, 3, 8, 9, 0, 40, 1})
	f.Add([]byte{4 | 8 | 16, 3, 65, 10, 5, 129, 20, 7, 3, 250, 2, 193, 3, 9, 1, 40, 4, 5, 70})
	f.Add([]byte{32 | 2, 1, 1, 1, 2, 3, 1, 1, 2, 1, 2, 1, 1, 3, 1, 2, 1, 1, 4, 4, 4})
	f.Add([]byte{16, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1})                                               // all tied
	f.Add([]byte{64 | 1, 3, 1, 10, 9, 5, 0, 20, 3, 7, 1, 250, 0, 2, 1, 3, 8, 9, 0, 40, 1, 6, 1, 30, 2}) // profile intervals
	f.Fuzz(func(t *testing.T, b []byte) {
		d, o := coxFuzzData(b)
		fit, err := Cox(d, o)
		if err != nil {
			return
		}
		for _, c := range fit.Coefficients {
			if o.CI == "profile" && !c.Coef.IsNA() {
				// a profile limit is NA (infinite) or on its side of the estimate
				if (!c.HRLower.IsNA() && c.HRLower > c.HR) || (!c.HRUpper.IsNA() && c.HRUpper < c.HR) {
					t.Fatalf("profile interval does not hold the estimate: %+v", c)
				}
			}
			if slices.Contains(fit.Dropped, c.Term) {
				if !c.Coef.IsNA() {
					t.Fatalf("dropped term with a coefficient %+v", c)
				}
				continue
			}
			if !coxFinite(c.Coef, c.SE, c.Z, c.P) || (d.Cluster != nil && c.RobustSE.IsNA()) {
				t.Fatalf("non-finite coefficient %+v", c)
			}
		}
		if !coxFinite(fit.Loglik, fit.LoglikNull, fit.LRTest.Chi2, fit.WaldTest.Chi2, fit.ScoreTest.Chi2) {
			t.Fatalf("non-finite test: %+v", fit)
		}
		z, err := CoxZPH(d, fit, "km")
		if err != nil {
			return
		}
		for _, tm := range z.Terms {
			if !coxFinite(tm.Chi2) {
				t.Fatalf("non-finite cox.zph term %+v", tm)
			}
		}
		if !coxFinite(z.Global.Chi2) {
			t.Fatalf("non-finite cox.zph global %+v", z.Global)
		}
	})
}
