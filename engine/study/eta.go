package study

import (
	"slices"
	"time"
)

// eta estimates the time left to a run's last step, from the steps this
// run has already worked (docs/results.md, "Progress and estimated time
// left"):
//
//  1. the cost of a step still to run is the median wall time of the
//     finished steps of its kind in this run (less what a running step has
//     already spent, down to zero); reused steps, which took no time, are
//     left out;
//  2. the costs are summed and divided by the parallelism the run has had
//     so far: the wall time of its finished steps divided by the span from
//     the first step's start to the last one's end (at least 1), which
//     reflects the workers of every process and the other runs sharing them;
//  3. the estimate is null while a kind still to run has no finished step
//     (the kinds differ by orders of magnitude: an event scan against a
//     one-row attrition line), and for a run that failed or was cancelled.
//
// The analyses after the last step are not counted.
func eta(p *Progress, now time.Time) *time.Duration {
	zero := time.Duration(0)
	switch p.State {
	case StateDone:
		return &zero
	case StateFailed, StateCancelled:
		return nil
	}
	byKind := map[string][]int64{}
	var work int64 // ms of the finished steps
	var first, last time.Time
	for _, s := range p.Steps {
		if s.State != StateDone || s.ReusedFrom != nil || s.WallMS == nil {
			continue
		}
		byKind[s.Kind] = append(byKind[s.Kind], *s.WallMS)
		work += *s.WallMS
		if s.started != nil && (first.IsZero() || s.started.Before(first)) {
			first = *s.started
		}
		if s.finished != nil && s.finished.After(last) {
			last = *s.finished
		}
	}
	var left float64 // ms
	for _, s := range p.Steps {
		if s.State != StateWaiting && s.State != StateQueued && s.State != StateRunning {
			continue
		}
		walls := byKind[s.Kind]
		if len(walls) == 0 {
			return nil
		}
		cost := median(walls)
		if s.State == StateRunning && s.started != nil {
			cost -= float64(now.Sub(*s.started).Milliseconds())
		}
		left += max(cost, 0)
	}
	parallel := 1.0
	if span := last.Sub(first).Milliseconds(); span > 0 && float64(work)/float64(span) > 1 {
		parallel = float64(work) / float64(span)
	}
	d := time.Duration(left / parallel * float64(time.Millisecond)).Round(time.Millisecond)
	return &d
}

// median is the median of xs (the mean of the middle two for an even
// count); xs is not empty.
func median(xs []int64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return float64(s[n/2-1]+s[n/2]) / 2
}
