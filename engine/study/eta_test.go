package study

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestETA checks the estimate of time left on a run worked out by hand.
func TestETA(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) *time.Time { x := t0.Add(time.Duration(ms) * time.Millisecond); return &x }
	ms := func(n int64) *int64 { return &n }
	from := int64(7)
	p := &Progress{State: StateRunning, Steps: []StepProgress{
		// Finished: event 100 and 300 ms, in parallel from t0; index 50 ms
		// from 300 ms. Work 450 ms over a span of 350 ms: parallelism 9/7.
		{Kind: "event", State: StateDone, WallMS: ms(100), started: at(0), finished: at(100)},
		{Kind: "event", State: StateDone, WallMS: ms(300), started: at(0), finished: at(300)},
		{Kind: "index", State: StateDone, WallMS: ms(50), started: at(300), finished: at(350)},
		// Reused: no time, and not a sample of its kind.
		{Kind: "event", State: StateDone, WallMS: ms(0), ReusedFrom: &from},
		// Left: an event (median 200 ms) and an index running for 20 ms
		// (50 - 20 = 30 ms): 230 ms / (9/7) = 178.9 ms.
		{Kind: "event", State: StateQueued},
		{Kind: "index", State: StateRunning, started: at(380)},
	}}
	got := eta(p, *at(400))
	require.NotNil(t, got)
	require.Equal(t, 179*time.Millisecond, *got)

	// A running step past its median costs nothing more.
	p.Steps[5].started = at(0)
	require.Equal(t, 156*time.Millisecond, *eta(p, *at(400))) // 200 / (9/7) = 155.6

	// A kind with no finished step: unknown.
	p.Steps = append(p.Steps, StepProgress{Kind: "cohort", State: StateWaiting})
	require.Nil(t, eta(p, *at(400)))

	p.State = StateDone
	require.Equal(t, time.Duration(0), *eta(p, *at(400)))
	p.State = StateCancelled
	require.Nil(t, eta(p, *at(400)))

	require.Equal(t, 2.0, median([]int64{3, 1}))
	require.Equal(t, 3.0, median([]int64{5, 1, 3}))
}
