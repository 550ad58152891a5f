package chart

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/beaver-analytics/beaver/report/format"
	"github.com/stretchr/testify/require"
)

// kmFixture is two small curves, as a results document gives them: B has
// a censoring-only step (surv unchanged) and suppressed numbers at risk.
func kmFixture() []KMSeries {
	return []KMSeries{
		{
			Label: "A",
			Time:  []float64{30, 200, 365, 500, 900, 1400},
			Surv:  []float64{0.98, 0.95, 0.91, 0.88, 0.84, 0.80},
			Lower: []float64{0.96, 0.92, 0.87, 0.83, 0.78, 0.72},
			Upper: []float64{1, 0.98, 0.95, 0.93, 0.90, 0.88},
			NRisk: []int{120, 100, 80, 44, 20, 6},
		},
		{
			Label:    "B <reference> & co",
			Time:     []float64{60, 150, 400, 800, 1200, 1700},
			Surv:     []float64{0.99, 0.99, 0.96, 0.93, 0.90, 0.90},
			Lower:    []float64{0.97, 0.97, 0.93, math.NaN(), 0.84, 0.84},
			Upper:    []float64{1, 1, 0.99, 0.97, 0.95, 0.95},
			NRisk:    []int{150, 130, 90, 40, 8, -1},
			Censored: []float64{150, 1700},
		},
	}
}

func TestKaplanMeierGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts KMOptions
	}{
		{"km_en.svg", KMOptions{Bands: true, CensorMarks: true, MinCount: 5, Title: "Acute myocardial infarction"}},
		{"km_it_incidence.svg", KMOptions{Lang: format.IT, Bands: true, MinCount: 5, CumulativeIncidence: true}},
		{"km_plain.svg", KMOptions{XMax: 1000}},
	}
	for _, c := range cases {
		got, err := KaplanMeier(kmFixture(), c.opts)
		require.NoError(t, err)
		golden(t, c.name, got)
	}
}

func TestKaplanMeierContent(t *testing.T) {
	t.Parallel()
	got, err := KaplanMeier(kmFixture(), KMOptions{Bands: true, MinCount: 5})
	require.NoError(t, err)
	s := string(got)
	// the label is escaped, the suppressed and below-k counts are "<5"
	// (B: 8 at risk at day 1095 from the step at 1200, then -1 and past the end)
	require.Contains(t, s, "B &lt;reference&gt; &amp; co")
	require.NotContains(t, s, "<reference>")
	require.Contains(t, s, ">&lt;5</text>")
	require.Contains(t, s, ">120</text>")
	require.Contains(t, s, ">8</text>")
	require.Contains(t, s, "Number at risk")

	it, err := KaplanMeier(kmFixture(), KMOptions{Lang: format.IT, CumulativeIncidence: true})
	require.NoError(t, err)
	require.Contains(t, string(it), "Incidenza cumulativa")
	require.Contains(t, string(it), ">0,05</text>", "Italian decimal comma on the y axis")
}

func TestKaplanMeierErrors(t *testing.T) {
	t.Parallel()
	bad := kmFixture()
	bad[1].Surv = bad[1].Surv[:3]
	_, err := KaplanMeier(bad, KMOptions{})
	require.ErrorContains(t, err, `series 2 ("B <reference> & co"): surv has 3 values, time 6`)
	bad = kmFixture()
	bad[0].Time[2] = 10
	_, err = KaplanMeier(bad, KMOptions{})
	require.ErrorContains(t, err, "step 3: time 10 before the previous step's 200")
	// no series, empty series: a chart, not a panic
	for _, ss := range [][]KMSeries{nil, {{Label: "empty"}}} {
		got, err := KaplanMeier(ss, KMOptions{Bands: true, CensorMarks: true})
		require.NoError(t, err)
		wellFormed(t, got)
	}
}

// TestPolylineKeepsDrawing checks that the downsampled path of a step
// function covers exactly the lattice points (0.1 px) that the full path,
// rounded as SVG output is, covers: the drawn curve is unchanged.
func TestPolylineKeepsDrawing(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	// covered returns the set of lattice points on the path's horizontal
	// and vertical segments (a step path has no other kind).
	covered := func(pts []int32) map[[2]int32]bool {
		m := map[[2]int32]bool{}
		for i := 0; i+3 < len(pts); i += 2 {
			x0, y0, x1, y1 := pts[i], pts[i+1], pts[i+2], pts[i+3]
			require.True(t, x0 == x1 || y0 == y1, "diagonal segment")
			for x := min(x0, x1); x <= max(x0, x1); x++ {
				for y := min(y0, y1); y <= max(y0, y1); y++ {
					m[[2]int32{x, y}] = true
				}
			}
		}
		if len(pts) == 2 {
			m[[2]int32{pts[0], pts[1]}] = true
		}
		return m
	}
	for trial := 0; trial < 40; trial++ {
		var p polyline
		var full []int32
		x, y := 0.0, 100.0
		add := func(x, y float64) {
			p.add(x, y)
			full = append(full, q(x), q(y))
		}
		add(x, y)
		n := 1 + r.IntN(3000)
		for i := 0; i < n; i++ {
			x += r.Float64() * 0.3 * float64(1+r.IntN(3)*r.IntN(2)*10)
			y0 := y
			y += (r.Float64() - 0.3) * 2 // not monotone, as a band limit may be
			if i%2 == 0 {
				add(x, y0)
				add(x, y)
			} else { // the same through addStep, as stairs draws
				p.addStep(x, y0, y)
				full = append(full, q(x), q(y0), q(x), q(y))
			}
		}
		got := p.points()
		require.LessOrEqual(t, len(got), 4*2*(int(q(x))+1))
		require.Equal(t, got[:2], full[:2], "same start")
		require.Equal(t, got[len(got)-2:], full[len(full)-2:], "same end")
		cf, cg := covered(full), covered(got)
		require.True(t, len(cf) == len(cg), "trial %d: %d lattice points drawn, want %d", trial, len(cg), len(cf))
		for k := range cf {
			require.True(t, cg[k], "trial %d: point %v of the full path not drawn", trial, k)
		}
	}
}

func longCurve(n int) KMSeries {
	s := KMSeries{Label: "all", Time: make([]float64, n), Surv: make([]float64, n), Lower: make([]float64, n), Upper: make([]float64, n), NRisk: make([]int, n)}
	v := 1.0
	for i := range n {
		s.Time[i] = float64(i) * 3650 / float64(n)
		v *= 1 - 0.5/float64(n)
		s.Surv[i], s.Lower[i], s.Upper[i], s.NRisk[i] = v, v*0.98, math.Min(1, v*1.02), n-i
	}
	return s
}

func TestKaplanMeierLong(t *testing.T) {
	t.Parallel()
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	got, err := KaplanMeier([]KMSeries{longCurve(n)}, KMOptions{Bands: true, MinCount: 5})
	require.NoError(t, err)
	wellFormed(t, got)
	require.Less(t, len(got), 200_000, "a long curve is downsampled")
	require.True(t, bytes.Contains(got, []byte(">"+format.Int(format.EN, n)+"</text>")) || strings.Contains(string(got), "200,000"))
}

// BenchmarkKaplanMeier1M draws one curve of 1,000,000 steps with its
// confidence band and risk table (docs/benchmarks.md).
func BenchmarkKaplanMeier1M(b *testing.B) {
	s := []KMSeries{longCurve(1_000_000)}
	b.ResetTimer()
	for b.Loop() {
		if _, err := KaplanMeier(s, KMOptions{Bands: true, CensorMarks: true, MinCount: 5}); err != nil {
			b.Fatal(err)
		}
	}
}
