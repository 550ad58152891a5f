package stats

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLogRankMatchesR compares with testdata/km/logrank.csv, made by
// km_ref.R with R 4.2.2 and survival 3.5-3 (survdiff; the call is in the
// file's "call" column).
func TestLogRankMatchesR(t *testing.T) {
	t.Parallel()
	ref := kmReadTable(t, filepath.Join("testdata", "km", "logrank.csv"))
	tests := []struct {
		call                              string
		data, time, event, group, stratum string
	}{
		{"survdiff(Surv(time, status) ~ sex, data=lung)", "lung", "time", "status", "sex", ""},
		{"survdiff(Surv(time, status) ~ celltype, data=veteran)", "veteran", "time", "status", "celltype", ""},
		{"survdiff(Surv(time, status) ~ trt + strata(celltype), data=veteran)", "veteran", "time", "status", "trt", "celltype"},
		{"survdiff(Surv(time, status) ~ x, data=aml)", "aml", "time", "status", "x", ""},
		{"survdiff(Surv(futime, fustat) ~ rx, data=ovarian)", "ovarian", "futime", "fustat", "rx", ""},
		{"survdiff(Surv(time, status) ~ sex + strata(ph.ecog), data=lung_ecog)", "lung", "time", "status", "sex", "ph.ecog"},
	}
	for _, tc := range tests {
		t.Run(tc.call, func(t *testing.T) {
			t.Parallel()
			var want map[string]string
			for _, r := range ref {
				if r["call"] == tc.call {
					want = r
				}
			}
			require.NotNil(t, want, "no reference for %s", tc.call)
			rows := kmReadTable(t, filepath.Join("testdata", "km", tc.data+".csv"))
			var tm []float64
			var ev []bool
			var gr, st []string
			for _, r := range rows {
				if tc.stratum != "" && r[tc.stratum] == "NA" {
					continue // lung_ecog is lung without the row missing ph.ecog
				}
				tm = append(tm, kmNum(t, r[tc.time]))
				ev = append(ev, r[tc.event] == "1")
				gr = append(gr, r[tc.group])
				if tc.stratum != "" {
					st = append(st, r[tc.stratum])
				}
			}
			got, err := LogRank(tm, ev, gr, st)
			require.NoError(t, err)
			require.NotNil(t, got)
			assert.True(t, kmClose(float64(got.Chi2), kmNum(t, want["chi2"]), 1e-9, 1e-14), "chi2 %v, R %s", got.Chi2, want["chi2"])
			assert.Equal(t, want["df"], strconv.Itoa(got.DF))
			assert.True(t, kmClose(float64(got.P), kmNum(t, want["p"]), 1e-8, 1e-15), "p %v, R %s", got.P, want["p"])
		})
	}
}

func TestLogRankDegenerate(t *testing.T) {
	t.Parallel()
	// One level: nothing to test.
	got, err := LogRank([]float64{1, 2, 3}, []bool{true, false, true}, []string{"a", "a", "a"}, nil)
	require.NoError(t, err)
	assert.Nil(t, got)

	_, err = LogRank([]float64{1, 2, 3}, []bool{false, false, false}, []string{"a", "b", "a"}, nil)
	assert.EqualError(t, err, "log-rank: no events")

	// Group b leaves before the only event: no expected events in b.
	_, err = LogRank([]float64{5, 6, 1}, []bool{true, false, false}, []string{"a", "a", "b"}, nil)
	assert.EqualError(t, err, `log-rank: only group "a" has subjects at risk at the event times`)

	_, err = LogRank(nil, nil, nil, nil)
	assert.EqualError(t, err, "log-rank: no observations")

	_, err = LogRank([]float64{-1}, []bool{true}, []string{"a"}, nil)
	assert.ErrorContains(t, err, "log-rank: time -1 at row 1")

	assert.Panics(t, func() { _, _ = LogRank([]float64{1}, []bool{true}, []string{"a", "b"}, nil) })
}

func FuzzLogRank(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, false)
	f.Add([]byte{9, 9, 9, 9}, true)
	f.Add([]byte{0, 1}, true)
	f.Fuzz(func(t *testing.T, data []byte, stratified bool) {
		n := len(data)
		tm := make([]float64, n)
		ev := make([]bool, n)
		gr := make([]string, n)
		var st []string
		if stratified {
			st = make([]string, n)
		}
		for i, b := range data {
			tm[i] = float64(b / 4)
			ev[i] = b&1 == 1
			gr[i] = string(rune('a' + (b>>1)%3))
			if stratified {
				st[i] = string(rune('x' + b%2))
			}
		}
		got, err := LogRank(tm, ev, gr, st)
		if err != nil || got == nil {
			return
		}
		if got.Chi2.IsNA() || got.P.IsNA() || got.Chi2 < -1e-9 || got.P < 0 || got.P > 1 || got.DF < 1 {
			t.Fatalf("bad test %+v", *got)
		}
	})
}

// BenchmarkLogRank1M tests three groups on the 1,000,000 rows of
// BenchmarkKM1M (testdata/km/bench.R times survdiff on the same shape).
func BenchmarkLogRank1M(b *testing.B) {
	tm, ev, gr := kmSimulate(1_000_000, 42)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := LogRank(tm, ev, gr, nil); err != nil {
			b.Fatal(err)
		}
	}
}
