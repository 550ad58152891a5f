// Package suppress decides which counts of an aggregate table to hide so
// that no count from 1 to k-1 can be read or recovered from what is shown:
// primary suppression hides the small counts themselves; complementary
// (secondary) suppression hides enough others that a hidden count cannot
// be worked out from a total, a complement (n − count), a difference of
// two shown counts, or a rate and its person-time. The functions take
// plain counts and return which to hide; report/results applies them to
// a results document (docs/results.md, "Small counts").
//
// A count of 0 is hidden as well (as Beaver always did): "no events" is
// itself a disclosure in a small group.
package suppress

import "slices"

// Small reports whether a count must be hidden on its own: below k.
func Small(n, k int64) bool { return n < k }

// Sequence decides which counts of a non-increasing sequence (an attrition
// table: persons left after each criterion) to hide. Every shown count is
// at least k, and the difference between two consecutive shown counts (the
// persons excluded between them, which a reader computes) is 0 or at least
// k. It walks the sequence once, showing a count only when both hold
// against the last shown one; a hidden count's exclusions are then read
// only together with the next shown count's, in a difference of at least
// k. The first count is compared with nothing.
func Sequence(counts []int64, k int64) []bool {
	hide := make([]bool, len(counts))
	last := int64(-1)
	for i, n := range counts {
		if Small(n, k) {
			hide[i] = true
			continue
		}
		if last >= 0 {
			d := last - n
			if d < 0 {
				d = -d
			}
			if d != 0 && d < k {
				hide[i] = true
				continue
			}
		}
		last = n
	}
	return hide
}

// Partition decides which cells of a partition of a shown total to hide
// (the levels of a categorical covariate within a group, whose sum is the
// group's shown n). Primary: cells below k. Complementary: while exactly
// one cell is hidden (it would equal the total minus the shown ones), or
// the hidden cells sum to less than k (their sum is the total minus the
// shown ones, itself a small count), hide the smallest shown cell too.
// When the total itself is not shown, the primary cells suffice.
func Partition(cells []int64, k int64, totalShown bool) []bool {
	hide := make([]bool, len(cells))
	hidden, sum := 0, int64(0)
	for i, n := range cells {
		if Small(n, k) {
			hide[i] = true
			hidden++
			sum += n
		}
	}
	if !totalShown || hidden == 0 {
		return hide
	}
	for hidden == 1 || (hidden < len(cells) && sum < k) {
		j := -1
		for i, n := range cells {
			if !hide[i] && (j < 0 || n < cells[j]) {
				j = i
			}
		}
		if j < 0 {
			break
		}
		hide[j] = true
		hidden++
		sum += cells[j]
	}
	return hide
}

// Binary decides whether to hide a yes/no count shown beside its total n:
// hidden when the count or its complement n − count is below k (either
// can be read from the other and n).
func Binary(count, n, k int64) bool {
	return Small(count, k) || Small(n-count, k)
}

// KMSteps decides which steps of a Kaplan-Meier curve to keep. A step's
// events are read from the numbers at risk and the drop of the curve
// (d = n × (1 − S/S₋)); the curve is therefore shown only at steps where
// at least k events happened since the last shown step, and only while
// at least k persons are at risk (the tail beyond is cut). Between two
// kept steps the curve is drawn flat, which is what a reader of the kept
// steps sees; the kept steps' values are the true estimates. nRisk and
// surv are per step, in time order; a step with no events (only
// censoring) is never kept on its own.
func KMSteps(nRisk []int64, surv []float64, k int64) []bool {
	keep := make([]bool, len(nRisk))
	prevS := 1.0
	acc := 0.0
	for i := range nRisk {
		if Small(nRisk[i], k) {
			break // the tail: too few at risk
		}
		d := 0.0
		if prevS > 0 {
			d = float64(nRisk[i]) * (1 - surv[i]/prevS)
		}
		prevS = surv[i]
		acc += d
		// Events are integers; the curve's arithmetic leaves ~1e-12.
		if acc+1e-6 >= float64(k) {
			keep[i] = true
			acc = 0
		}
	}
	return keep
}

// Any reports whether any element is true.
func Any(hide []bool) bool { return slices.Contains(hide, true) }
