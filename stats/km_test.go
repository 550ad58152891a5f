package stats

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kmReadTable reads a testdata CSV into header-keyed records.
func kmReadTable(t testing.TB, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	out := make([]map[string]string, 0, len(recs)-1)
	for _, r := range recs[1:] {
		m := map[string]string{}
		for j, h := range recs[0] {
			m[h] = r[j]
		}
		out = append(out, m)
	}
	return out
}

// kmNum parses a reference value; "NA" is NaN.
func kmNum(t testing.TB, s string) float64 {
	t.Helper()
	if s == "NA" || s == "NaN" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, "reference value %q", s)
	return v
}

// kmClose reports whether got matches want within rel relative and abs
// absolute tolerance; NaN (R's NA) matches only NaN.
func kmClose(got, want, rel, abs float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	if math.IsInf(want, 0) || math.IsInf(got, 0) {
		return got == want
	}
	return math.Abs(got-want) <= abs+rel*math.Abs(want)
}

// kmDataset reads one of the datasets exported by testdata/km/km_ref.R.
func kmDataset(t testing.TB, name, timeCol, eventCol, groupCol string) ([]float64, []bool, []string) {
	t.Helper()
	rows := kmReadTable(t, filepath.Join("testdata", "km", name+".csv"))
	var tm []float64
	var ev []bool
	var gr []string
	for _, r := range rows {
		tm = append(tm, kmNum(t, r[timeCol]))
		ev = append(ev, r[eventCol] == "1")
		if groupCol != "" {
			gr = append(gr, r[groupCol])
		}
	}
	return tm, ev, gr
}

// The cases of testdata/km/km_ref.R: dataset, columns, options.
var kmCases = []struct {
	name, data, time, event, group string
	opts                           KMOptions
}{
	{"lung_log", "lung", "time", "status", "", KMOptions{}},
	{"lung_loglog", "lung", "time", "status", "", KMOptions{ConfType: "log-log"}},
	{"lung_plain", "lung", "time", "status", "", KMOptions{ConfType: "plain"}},
	{"lung_sex_log", "lung", "time", "status", "sex", KMOptions{ConfType: "log"}},
	{"lung_sex_loglog", "lung", "time", "status", "sex", KMOptions{ConfType: "log-log"}},
	{"lung_sex_plain", "lung", "time", "status", "sex", KMOptions{ConfType: "plain"}},
	{"veteran_celltype_log", "veteran", "time", "status", "celltype", KMOptions{}},
	{"veteran_loglog90", "veteran", "time", "status", "", KMOptions{ConfType: "log-log", ConfLevel: 0.90}},
	{"veteran_plain", "veteran", "time", "status", "", KMOptions{ConfType: "plain"}},
	{"veteran_trt_loglog", "veteran", "time", "status", "trt", KMOptions{ConfType: "log-log"}},
	{"ovarian_rx_plain", "ovarian", "futime", "fustat", "rx", KMOptions{ConfType: "plain"}},
	{"ovarian_rx_log", "ovarian", "futime", "fustat", "rx", KMOptions{}},
	{"ovarian_rx_loglog", "ovarian", "futime", "fustat", "rx", KMOptions{ConfType: "log-log"}},
	{"ovarian_log", "ovarian", "futime", "fustat", "", KMOptions{}},
	{"aml_log", "aml", "time", "status", "", KMOptions{}},
	{"aml_x_log", "aml", "time", "status", "x", KMOptions{}},
	{"aml_x_loglog", "aml", "time", "status", "x", KMOptions{ConfType: "log-log"}},
	{"aml_x_plain", "aml", "time", "status", "x", KMOptions{ConfType: "plain"}},
	{"plateau_log", "plateau", "time", "status", "", KMOptions{}},
	{"plateau_plain", "plateau", "time", "status", "", KMOptions{ConfType: "plain"}},
	{"plateauend_log", "plateauend", "time", "status", "", KMOptions{}},
	{"notreached_log", "notreached", "time", "status", "", KMOptions{}},
}

// TestKaplanMeierMatchesR compares every step and median with
// testdata/km/km_steps.csv and km_table.csv, made by km_ref.R with R 4.2.2
// and survival 3.5-3 (the exact call is in km_table.csv's "call" column).
func TestKaplanMeierMatchesR(t *testing.T) {
	t.Parallel()
	steps := kmReadTable(t, filepath.Join("testdata", "km", "km_steps.csv"))
	table := kmReadTable(t, filepath.Join("testdata", "km", "km_table.csv"))
	for _, tc := range kmCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tm, ev, gr := kmDataset(t, tc.data, tc.time, tc.event, tc.group)
			fit, err := KaplanMeier(tm, ev, gr, tc.opts)
			require.NoError(t, err)
			var wantSteps, wantTable []map[string]string
			for _, r := range steps {
				if r["case"] == tc.name {
					wantSteps = append(wantSteps, r)
				}
			}
			for _, r := range table {
				if r["case"] == tc.name {
					wantTable = append(wantTable, r)
				}
			}
			require.NotEmpty(t, wantSteps)
			require.Len(t, fit.Groups, len(wantTable))
			k := 0
			for g, c := range fit.Groups {
				want := wantTable[g]
				if tc.group == "" {
					assert.Nil(t, c.Group)
				} else {
					require.NotNil(t, c.Group)
					assert.Equal(t, want["group"], *c.Group)
				}
				call := want["call"]
				assert.Equal(t, want["n"], strconv.Itoa(c.N), call)
				assert.Equal(t, want["events"], strconv.Itoa(c.Events), call)
				for _, m := range []struct {
					name string
					got  Float
				}{{"median", c.Median}, {"median_lower", c.MedianLower}, {"median_upper", c.MedianUpper}} {
					assert.True(t, kmClose(float64(m.got), kmNum(t, want[m.name]), 1e-12, 0),
						"%s group %q %s: got %v, R %s", call, want["group"], m.name, m.got, want[m.name])
				}
				for _, s := range c.Steps {
					require.Less(t, k, len(wantSteps), "more steps than R")
					w := wantSteps[k]
					k++
					assert.Equal(t, w["group"], want["group"])
					where := call + " group " + w["group"] + " time " + w["time"]
					assert.Equal(t, kmNum(t, w["time"]), s.Time, where)
					assert.Equal(t, w["n_risk"], strconv.Itoa(s.NRisk), where)
					assert.Equal(t, w["n_event"], strconv.Itoa(s.NEvent), where)
					assert.Equal(t, w["n_censor"], strconv.Itoa(s.NCensor), where)
					for _, f := range []struct {
						name string
						got  Float
					}{{"surv", s.Surv}, {"std_err", s.StdErr}, {"lower", s.Lower}, {"upper", s.Upper}} {
						assert.True(t, kmClose(float64(f.got), kmNum(t, w[f.name]), 0, 1e-9),
							"%s %s: got %v, R %s", where, f.name, f.got, w[f.name])
					}
				}
			}
			assert.Equal(t, len(wantSteps), k, "number of steps")
		})
	}
}

func TestKaplanMeierErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		time  []float64
		event []bool
		opts  KMOptions
		want  string
	}{
		{"empty", nil, nil, KMOptions{}, "no observations"},
		{"negative time", []float64{1, -2}, []bool{true, false}, KMOptions{}, "time -2 at row 2"},
		{"NaN time", []float64{math.NaN()}, []bool{true}, KMOptions{}, "not a finite non-negative"},
		{"infinite time", []float64{math.Inf(1)}, []bool{true}, KMOptions{}, "not a finite non-negative"},
		{"conf type", []float64{1}, []bool{true}, KMOptions{ConfType: "logit"}, `unknown confidence interval type "logit"`},
		{"conf level", []float64{1}, []bool{true}, KMOptions{ConfLevel: 1.5}, "confidence level 1.5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := KaplanMeier(tc.time, tc.event, nil, tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.PanicsWithValue(t, "stats: KaplanMeier: time, event and group differ in length", func() {
		_, _ = KaplanMeier([]float64{1, 2}, []bool{true}, nil, KMOptions{})
	})
}

func TestKaplanMeierNoEvents(t *testing.T) {
	t.Parallel()
	// All censored: S stays 1, the median is not reached, and the log-log
	// interval is NA where S=1 (survfit_confint sets xx to NA).
	fit, err := KaplanMeier([]float64{3, 1, 2}, []bool{false, false, false}, nil, KMOptions{ConfType: "log-log"})
	require.NoError(t, err)
	require.Len(t, fit.Groups, 1)
	c := fit.Groups[0]
	assert.Equal(t, 0, c.Events)
	assert.True(t, c.Median.IsNA())
	require.Len(t, c.Steps, 3)
	assert.Equal(t, []float64{1, 2, 3}, []float64{c.Steps[0].Time, c.Steps[1].Time, c.Steps[2].Time})
	assert.Equal(t, Float(1), c.Steps[2].Surv)
	assert.True(t, c.Steps[2].Lower.IsNA())
	b, err := json.Marshal(c.Steps[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"time":1,"n_risk":3,"n_event":0,"n_censor":1,"surv":1,"std_err":0,"lower":null,"upper":null}`, string(b))
}

func TestSortedLevels(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"2", "10", "10.5"}, SortLevels([]string{"10", "2", "10.5"}))
	assert.Equal(t, []string{"B", "a", "b"}, SortLevels([]string{"b", "a", "B"}))
	assert.Equal(t, []string{"10", "2", "x"}, SortLevels([]string{"x", "2", "10"}))
}

// TestKaplanMeierParallelMatchesSerial checks that the sharded sort gives
// the same curve as a small-input (serial) fit on the same data.
func TestKaplanMeierParallelMatchesSerial(t *testing.T) {
	t.Parallel()
	tm, ev, gr := kmSimulate(100_000, 7)
	big, err := KaplanMeier(tm, ev, gr, KMOptions{})
	require.NoError(t, err)
	// Recompute group "b" alone, counting by a map, as an independent check.
	type cnt struct{ d, c int }
	byTime := map[float64]*cnt{}
	n := 0
	for i := range tm {
		if gr[i] != "b" {
			continue
		}
		n++
		x := byTime[tm[i]]
		if x == nil {
			x = &cnt{}
			byTime[tm[i]] = x
		}
		if ev[i] {
			x.d++
		} else {
			x.c++
		}
	}
	require.Len(t, big.Groups, 3)
	c := big.Groups[1]
	assert.Equal(t, "b", *c.Group)
	assert.Equal(t, n, c.N)
	require.Len(t, c.Steps, len(byTime))
	atRisk := n
	for _, s := range c.Steps {
		x := byTime[s.Time]
		require.NotNil(t, x)
		assert.Equal(t, atRisk, s.NRisk)
		assert.Equal(t, x.d, s.NEvent)
		assert.Equal(t, x.c, s.NCensor)
		atRisk -= x.d + x.c
	}
}

// kmSimulate makes n rows with integer times in [0, 2000) (many ties), about
// 30% events and three groups, from a seeded generator.
func kmSimulate(n int, seed uint64) ([]float64, []bool, []string) {
	rng := rand.New(rand.NewPCG(seed, 1))
	tm := make([]float64, n)
	ev := make([]bool, n)
	gr := make([]string, n)
	names := []string{"a", "b", "c"}
	for i := range tm {
		tm[i] = math.Floor(rng.ExpFloat64() * 500)
		if tm[i] > 1999 {
			tm[i] = 1999
		}
		ev[i] = rng.Float64() < 0.3
		gr[i] = names[rng.IntN(3)]
	}
	return tm, ev, gr
}

// BenchmarkKM1M fits one curve on 1,000,000 rows with ~30% events and many
// tied times (testdata/km/bench.R times survfit on the same shape).
func BenchmarkKM1M(b *testing.B) {
	tm, ev, _ := kmSimulate(1_000_000, 42)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := KaplanMeier(tm, ev, nil, KMOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKM1MGroups is BenchmarkKM1M with three groups.
func BenchmarkKM1MGroups(b *testing.B) {
	tm, ev, gr := kmSimulate(1_000_000, 42)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := KaplanMeier(tm, ev, gr, KMOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzKaplanMeier(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6}, uint8(0))
	f.Add([]byte{0, 0, 0, 0}, uint8(1))
	f.Add([]byte{255, 1, 7, 7, 7, 7, 3}, uint8(2))
	f.Add([]byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, ct uint8) {
		// Each byte is one subject: time = byte/2, event = low bit, group = byte%3.
		n := len(data)
		tm := make([]float64, n)
		ev := make([]bool, n)
		gr := make([]string, n)
		for i, b := range data {
			tm[i] = float64(b / 2)
			ev[i] = b&1 == 1
			gr[i] = strconv.Itoa(int(b % 3))
		}
		opts := KMOptions{ConfType: []string{"log", "log-log", "plain"}[ct%3]}
		fit, err := KaplanMeier(tm, ev, gr, opts)
		if n == 0 {
			if err == nil {
				t.Fatal("no error on empty input")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, c := range fit.Groups {
			total += c.N
			for _, s := range c.Steps {
				if s.Surv.IsNA() || s.Surv < 0 || s.Surv > 1 {
					t.Fatalf("surv %v at %v", s.Surv, s.Time)
				}
				if !s.StdErr.IsNA() && s.StdErr < 0 {
					t.Fatalf("std_err %v", s.StdErr)
				}
			}
		}
		if total != n {
			t.Fatalf("groups hold %d subjects, want %d", total, n)
		}
	})
}
