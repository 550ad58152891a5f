package stats

import (
	"encoding/json"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ratesRef reads a reference table made by testdata/rates/rates_ref.R
// (R 4.2.2, epitools 0.5-10.1); each row's "call" column is the R call.
func ratesRef(t testing.TB, name string) []map[string]string {
	t.Helper()
	return kmReadTable(t, filepath.Join("testdata", "rates", name))
}

func TestPoissonExactMatchesR(t *testing.T) {
	t.Parallel()
	for _, r := range ratesRef(t, "pois_exact.csv") {
		x, pt, cl := kmNum(t, r["x"]), kmNum(t, r["pt"]), kmNum(t, r["conf_level"])
		lo, up := PoissonExact(x, 1-cl)
		// The closed form with qchisq.
		assert.True(t, kmClose(lo/pt, kmNum(t, r["lower"]), 1e-9, 1e-300), "%s: lower %v", r["call"], lo/pt)
		assert.True(t, kmClose(up/pt, kmNum(t, r["upper"]), 1e-9, 0), "%s: upper %v", r["call"], up/pt)
		// pois.exact itself, within the tolerance of its uniroot search.
		assert.True(t, kmClose(lo/pt, kmNum(t, r["poisexact_lower"]), 2e-3, 1e-300), "%s: lower %v", r["call"], lo/pt)
		assert.True(t, kmClose(up/pt, kmNum(t, r["poisexact_upper"]), 2e-3, 0), "%s: upper %v", r["call"], up/pt)
	}
}

// fleissRows reads testdata/rates/fleiss.csv (the ?ageadjust.direct data)
// and its standard population (the mean population by age).
func fleissRows(t testing.TB) (events, pt []float64, group, stratum []string, std map[string]float64) {
	for _, r := range ratesRef(t, "fleiss.csv") {
		events = append(events, kmNum(t, r["births"]))
		pt = append(pt, kmNum(t, r["population"]))
		group = append(group, r["order"])
		stratum = append(stratum, r["age"])
	}
	std = map[string]float64{}
	for _, r := range ratesRef(t, "fleiss_standard.csv") {
		std[r["stratum"]] = kmNum(t, r["population"])
	}
	return
}

func TestRatesMatchesEpitools(t *testing.T) {
	t.Parallel()
	adj := ratesRef(t, "ageadjust.csv")
	rr := ratesRef(t, "rateratio.csv")
	find := func(tab []map[string]string, cs, g string) map[string]string {
		for _, r := range tab {
			if r["case"] == cs && r["group"] == g {
				return r
			}
		}
		t.Fatalf("no reference %s %s", cs, g)
		return nil
	}
	const rel = 1e-9

	t.Run("fleiss", func(t *testing.T) {
		t.Parallel()
		ev, pt, gr, st, std := fleissRows(t)
		res, err := Rates(ev, pt, gr, st, std, RateOptions{Per: 1})
		require.NoError(t, err)
		require.Len(t, res.Groups, 4)
		for _, g := range res.Groups {
			a := find(adj, "fleiss", *g.Group)
			assert.True(t, kmClose(float64(g.Crude), kmNum(t, a["crude"]), rel, 0), "%s crude %v", a["call"], g.Crude)
			assert.True(t, kmClose(float64(g.Adjusted), kmNum(t, a["adjusted"]), rel, 0), "%s adjusted %v", a["call"], g.Adjusted)
			assert.True(t, kmClose(float64(g.AdjustedLower), kmNum(t, a["lower"]), rel, 0), "%s lower %v", a["call"], g.AdjustedLower)
			assert.True(t, kmClose(float64(g.AdjustedUpper), kmNum(t, a["upper"]), rel, 0), "%s upper %v", a["call"], g.AdjustedUpper)
			w := find(rr, "fleiss", *g.Group)
			if *g.Group == "1" {
				assert.True(t, g.RateRatio.IsNA() && g.RRLower.IsNA() && g.RRUpper.IsNA())
				continue
			}
			assert.True(t, kmClose(float64(g.RateRatio), kmNum(t, w["estimate"]), rel, 0), "%s rr %v", w["call"], g.RateRatio)
			assert.True(t, kmClose(float64(g.RRLower), kmNum(t, w["lower"]), rel, 0), "%s rr lower %v", w["call"], g.RRLower)
			assert.True(t, kmClose(float64(g.RRUpper), kmNum(t, w["upper"]), rel, 0), "%s rr upper %v", w["call"], g.RRUpper)
		}
	})

	t.Run("fleiss 90% per 100000", func(t *testing.T) {
		t.Parallel()
		ev, pt, gr, st, std := fleissRows(t)
		res, err := Rates(ev, pt, gr, st, std, RateOptions{Per: 1e5, ConfLevel: 0.9})
		require.NoError(t, err)
		g := res.Groups[1]
		a := find(adj, "fleiss90", "2")
		assert.True(t, kmClose(float64(g.Adjusted), 1e5*kmNum(t, a["adjusted"]), rel, 0), "%s", a["call"])
		assert.True(t, kmClose(float64(g.AdjustedLower), 1e5*kmNum(t, a["lower"]), rel, 0), "%s", a["call"])
		assert.True(t, kmClose(float64(g.AdjustedUpper), 1e5*kmNum(t, a["upper"]), rel, 0), "%s", a["call"])
		assert.Equal(t, 1e5, res.Per)
	})

	t.Run("rothman", func(t *testing.T) {
		t.Parallel()
		for _, cs := range []struct {
			name string
			cl   float64
		}{{"rothman", 0.95}, {"rothman90", 0.9}} {
			// One row per group; "exposed" sorts before "unexposed", so the
			// order is forced with numeric levels 0 (unexposed) and 1.
			res, err := Rates([]float64{15, 41}, []float64{19017, 28010}, []string{"0", "1"}, nil, nil,
				RateOptions{ConfLevel: cs.cl})
			require.NoError(t, err)
			w := find(rr, cs.name, "exposed")
			g := res.Groups[1]
			assert.True(t, kmClose(float64(g.RateRatio), kmNum(t, w["estimate"]), rel, 0), w["call"])
			assert.True(t, kmClose(float64(g.RRLower), kmNum(t, w["lower"]), rel, 0), w["call"])
			assert.True(t, kmClose(float64(g.RRUpper), kmNum(t, w["upper"]), rel, 0), w["call"])
			assert.True(t, g.Adjusted.IsNA())
			// Crude rate per 1000 person-years with its Garwood interval:
			// 41/28010 × 1000; pois.exact limits from pois_exact.csv (x=41, pt=28010).
			assert.InDelta(t, 41.0/28010*1000, float64(g.Crude), 1e-12)
		}
	})

	t.Run("zero-event strata", func(t *testing.T) {
		t.Parallel()
		var ev, pt []float64
		var gr, st []string
		for _, r := range ratesRef(t, "zero.csv") {
			ev = append(ev, kmNum(t, r["events"]))
			pt = append(pt, kmNum(t, r["persontime"]))
			gr = append(gr, r["group"])
			st = append(st, r["stratum"])
		}
		std := map[string]float64{"young": 5000, "mid": 3000, "old": 2000}
		res, err := Rates(ev, pt, gr, st, std, RateOptions{Per: 1})
		require.NoError(t, err)
		a := find(adj, "zero", "a")
		g := res.Groups[0]
		assert.True(t, kmClose(float64(g.Adjusted), kmNum(t, a["adjusted"]), rel, 0), a["call"])
		assert.True(t, kmClose(float64(g.AdjustedLower), kmNum(t, a["lower"]), rel, 0), a["call"])
		assert.True(t, kmClose(float64(g.AdjustedUpper), kmNum(t, a["upper"]), rel, 0), a["call"])
		// Group b has no events: epitools gives lci NaN; Beaver gives 0,
		// the limit of the gamma quantile, and R's upper limit.
		b := find(adj, "zero", "b")
		g = res.Groups[1]
		assert.Equal(t, Float(0), g.Adjusted)
		assert.Equal(t, Float(0), g.AdjustedLower)
		assert.Equal(t, "NA", b["lower"])
		assert.True(t, kmClose(float64(g.AdjustedUpper), kmNum(t, b["upper"]), rel, 0), b["call"])
		// Its crude interval is (0, qchisq(0.975, 2)/2/1360).
		assert.Equal(t, Float(0), g.CrudeLower)
		assert.InDelta(t, 3.6888794541139363/1360, float64(g.CrudeUpper), 1e-12)
		// Its rate ratio against a is 0 with no interval.
		assert.Equal(t, Float(0), g.RateRatio)
		assert.True(t, g.RRLower.IsNA() && g.RRUpper.IsNA())
	})
}

func TestRatesErrors(t *testing.T) {
	t.Parallel()
	std := map[string]float64{"y": 10, "o": 5}
	tests := []struct {
		name     string
		ev, pt   []float64
		gr, st   []string
		std      map[string]float64
		opts     RateOptions
		want     string
		ungroupd bool
	}{
		{"empty", nil, nil, nil, nil, nil, RateOptions{}, "rates: no observations", false},
		{"negative events", []float64{-1}, []float64{1}, nil, nil, nil, RateOptions{}, "rates: events -1 at row 1", false},
		{"NaN person-time", []float64{1}, []float64{math.NaN()}, nil, nil, nil, RateOptions{}, "rates: person-time NaN at row 1", false},
		{"no person-time", []float64{1, 2}, []float64{0, 5}, []string{"a", "b"}, nil, nil, RateOptions{}, `rates: group "a" has no person-time`, false},
		{"per", []float64{1}, []float64{1}, nil, nil, nil, RateOptions{Per: -1}, "rates: rate unit -1", false},
		{"conf", []float64{1}, []float64{1}, nil, nil, nil, RateOptions{ConfLevel: 2}, "rates: confidence level 2", false},
		{"no standard", []float64{1}, []float64{1}, nil, []string{"y"}, nil, RateOptions{}, "strata given without a standard", false},
		{"stratum not in standard", []float64{1, 1}, []float64{1, 1}, nil, []string{"y", "mid"}, std, RateOptions{},
			`rates: stratum "mid" is in the data but not in the standard population`, false},
		{"standard stratum without data", []float64{1, 1}, []float64{1, 1}, []string{"a", "b"}, []string{"y", "o"}, std, RateOptions{},
			`rates: group "a" has no person-time in stratum "o" of the standard population`, false},
		{"empty standard", []float64{1}, []float64{1}, nil, []string{"y"}, map[string]float64{"y": 0}, RateOptions{}, "standard population is empty", false},
		{"negative standard", []float64{1}, []float64{1}, nil, []string{"y"}, map[string]float64{"y": -3}, RateOptions{}, `stratum "y" is -3`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Rates(tc.ev, tc.pt, tc.gr, tc.st, tc.std, tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.PanicsWithValue(t, "stats: Rates: events, persontime, group and stratum differ in length", func() {
		_, _ = Rates([]float64{1}, []float64{1, 2}, nil, nil, nil, RateOptions{})
	})
}

func TestRatesSumsRows(t *testing.T) {
	t.Parallel()
	// One row per person gives the same as pre-aggregated counts; a standard
	// stratum with zero population may be absent from the data.
	std := map[string]float64{"y": 10, "o": 5, "none": 0}
	perPerson, err := Rates([]float64{1, 0, 1, 1, 0}, []float64{2, 3, 1, 4, 5}, []string{"a", "a", "a", "b", "b"},
		[]string{"y", "y", "o", "y", "o"}, std, RateOptions{})
	require.NoError(t, err)
	agg, err := Rates([]float64{1, 1, 1, 0}, []float64{5, 1, 4, 5}, []string{"a", "a", "b", "b"},
		[]string{"y", "o", "y", "o"}, std, RateOptions{})
	require.NoError(t, err)
	aggJSON, err := json.Marshal(agg)
	require.NoError(t, err)
	perJSON, err := json.Marshal(perPerson)
	require.NoError(t, err)
	assert.JSONEq(t, string(aggJSON), string(perJSON))
	a := perPerson.Groups[0]
	assert.Equal(t, 2.0, a.Events)
	assert.Equal(t, 6.0, a.PersonTime)
	// dsr = (10/15)(1/5) + (5/15)(1/1), per 1000.
	assert.InDelta(t, (10.0/15*1.0/5+5.0/15)*1000, float64(a.Adjusted), 1e-9)
	assert.Contains(t, string(perJSON), `"rate_ratio":null,"rr_lower":null,"rr_upper":null`)
}

func FuzzRates(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, true)
	f.Add([]byte{0, 0, 0, 0}, false)
	f.Add([]byte{255, 0, 1}, true)
	f.Fuzz(func(t *testing.T, data []byte, stratified bool) {
		n := len(data) / 2
		ev := make([]float64, n)
		pt := make([]float64, n)
		gr := make([]string, n)
		var st []string
		var std map[string]float64
		if stratified {
			st = make([]string, n)
			std = map[string]float64{"x": 3, "y": 1}
		}
		for i := range n {
			ev[i] = float64(data[2*i] % 16)
			pt[i] = float64(data[2*i+1])
			gr[i] = string(rune('a' + data[2*i]%3))
			if stratified {
				st[i] = string(rune('x' + data[2*i+1]%2))
			}
		}
		res, err := Rates(ev, pt, gr, st, std, RateOptions{})
		if err != nil {
			return
		}
		for _, g := range res.Groups {
			for _, v := range []Float{g.Crude, g.CrudeLower, g.CrudeUpper} {
				if v.IsNA() || v < 0 {
					t.Fatalf("bad crude rate in %+v", g)
				}
			}
			if stratified && (g.Adjusted.IsNA() || g.AdjustedLower.IsNA() || g.AdjustedUpper.IsNA()) {
				t.Fatalf("NA adjusted rate in %+v", g)
			}
			if !(g.CrudeLower <= g.Crude && g.Crude <= g.CrudeUpper) {
				t.Fatalf("crude rate outside its interval: %+v", g)
			}
		}
	})
}
