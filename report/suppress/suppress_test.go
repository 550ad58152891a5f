package suppress_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/report/suppress"
)

// shownDifferences returns the differences between consecutive shown
// counts: what a reader computes from an attrition table.
func shownDifferences(counts []int64, hide []bool) []int64 {
	var out []int64
	last := int64(-1)
	for i, n := range counts {
		if hide[i] {
			continue
		}
		if last >= 0 {
			out = append(out, last-n)
		}
		last = n
	}
	return out
}

func TestSequence(t *testing.T) {
	t.Parallel()
	const k = 5
	cases := []struct {
		counts []int64
		want   []bool
	}{
		// Naive suppression shows 100 and 98: 2 persons excluded, a small
		// count read as a difference. The 98 is hidden; 100 → 90 shows 10.
		{[]int64{100, 98, 90, 90, 3}, []bool{false, true, false, false, true}},
		// Nothing small: nothing hidden.
		{[]int64{500, 400, 300}, []bool{false, false, false}},
		// Several small steps: each hidden until the exclusions reach k.
		{[]int64{50, 49, 48, 47, 46, 45, 40}, []bool{false, true, true, true, true, false, false}},
		{[]int64{4, 3}, []bool{true, true}},
	}
	for _, c := range cases {
		hide := suppress.Sequence(c.counts, k)
		require.Equal(t, c.want, hide, "%v", c.counts)
		for i, n := range c.counts {
			if !hide[i] {
				require.GreaterOrEqual(t, n, int64(k))
			}
		}
		for _, d := range shownDifferences(c.counts, hide) {
			require.True(t, d == 0 || d >= k, "%v: a shown difference of %d", c.counts, d)
		}
	}
}

func TestPartition(t *testing.T) {
	t.Parallel()
	const k = 5
	cases := []struct {
		cells      []int64
		totalShown bool
		want       []bool
	}{
		// Naive: hide the 2 and show 30 and 40 beside n = 72: 72-70 = 2.
		// The smallest shown cell goes too.
		{[]int64{2, 30, 40}, true, []bool{true, true, false}},
		// Two small cells summing to 3: still a small sum; a third goes.
		{[]int64{1, 2, 30, 40}, true, []bool{true, true, true, false}},
		// Without the total, primary suppression is enough.
		{[]int64{2, 30, 40}, false, []bool{true, false, false}},
		{[]int64{10, 20}, true, []bool{false, false}},
		// A zero cell is hidden, and its complement with it.
		{[]int64{0, 50, 60}, true, []bool{true, true, false}},
	}
	for _, c := range cases {
		hide := suppress.Partition(c.cells, k, c.totalShown)
		require.Equal(t, c.want, hide, "%v", c.cells)
		if !c.totalShown {
			continue
		}
		hidden, sum := 0, int64(0)
		for i, h := range hide {
			if h {
				hidden++
				sum += c.cells[i]
			}
		}
		require.True(t, hidden == 0 || (hidden >= 2 && (sum >= k || hidden == len(c.cells))),
			"%v: %d hidden cells summing to %d can be recovered from the total", c.cells, hidden, sum)
	}
}

func TestBinary(t *testing.T) {
	t.Parallel()
	// 6 of 8 (75%): showing the count beside n shows the 2 without.
	require.True(t, suppress.Binary(6, 8, 5))
	require.True(t, suppress.Binary(2, 80, 5))
	require.True(t, suppress.Binary(78, 80, 5))
	require.False(t, suppress.Binary(40, 80, 5))
}

// kmCurve returns a curve's numbers at risk and survival for events and
// censorings at successive times (product-limit, as survival::survfit).
func kmCurve(n int64, events, censored []int64) ([]int64, []float64) {
	var risk []int64
	var surv []float64
	s := 1.0
	for i := range events {
		risk = append(risk, n)
		s *= 1 - float64(events[i])/float64(n)
		surv = append(surv, s)
		n -= events[i] + censored[i]
	}
	return risk, surv
}

func TestKMSteps(t *testing.T) {
	t.Parallel()
	const k = 5
	// Single events: naive suppression (n_risk below 5 only) shows each
	// step, and n × (1 − S/S₋) = 1 event each time.
	events := []int64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 2, 3, 1, 1}
	censored := []int64{0, 1, 0, 0, 2, 0, 0, 0, 0, 1, 3, 0, 0, 0, 0}
	risk, surv := kmCurve(40, events, censored)
	keep := suppress.KMSteps(risk, surv, k)
	// Events recovered by a reader between consecutive kept steps.
	prev, acc := 1.0, 0.0
	lastKept := -1
	for i := range keep {
		acc += float64(risk[i]) * (1 - surv[i]/prev)
		prev = surv[i]
		if keep[i] {
			require.GreaterOrEqual(t, acc+1e-9, float64(k), "step %d shows %.2f events since the last kept step", i, acc)
			acc = 0
			lastKept = i
			require.GreaterOrEqual(t, risk[i], int64(k))
		}
	}
	require.Equal(t, []bool{false, false, false, false, true, false, false, false, false, true, false, false, true, false, false}, keep,
		fmt.Sprintf("risk %v", risk))
	require.Equal(t, 12, lastKept)
}
