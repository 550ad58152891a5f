package stats

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// LogRank tests whether the survival of the groups differs, as
// survival::survdiff(Surv(time, event) ~ group) does (rho = 0), or, when
// strata is not nil, survdiff(Surv(time, event) ~ group + strata(strata)):
// observed and expected events and their variance are summed over strata.
//
// As in survdiff, groups with no expected events are left out and the
// degrees of freedom are the number of remaining groups minus one. It
// returns a nil Test and no error when group has a single level (there is
// nothing to compare), and an error when there are no events or when only
// one group has subjects at risk at the event times. It panics if the
// slices differ in length.
func LogRank(time []float64, event []bool, group, strata []string) (*Test, error) {
	if len(event) != len(time) || len(group) != len(time) || (strata != nil && len(strata) != len(time)) {
		panic("stats: LogRank: time, event, group and strata differ in length")
	}
	if len(time) == 0 {
		return nil, errors.New("log-rank: no observations")
	}
	if err := checkTimes(time); err != nil {
		return nil, fmt.Errorf("log-rank: %w", err)
	}
	levels, gidx := groupIndex(group)
	if len(levels) < 2 {
		return nil, nil
	}
	k := len(levels)

	levelsS, sidx := groupIndex(strata)
	ns := len(levelsS)
	// Bucket rows by (stratum, group) and count events and censorings at
	// each distinct time of each bucket (sorted on all cores).
	combined := gidx
	if sidx != nil {
		combined = make([]int32, len(time))
		for i := range combined {
			combined[i] = sidx[i]*int32(k) + gidx[i]
		}
	}
	runs := survivalRuns(time, event, combined, ns*k)

	obs := make([]float64, k)
	exp := make([]float64, k)
	v := make([]float64, k*k)
	risk := make([]float64, k)
	died := make([]float64, k)
	left := make([]float64, k)
	pos := make([]int, k)
	for st := range ns {
		rs := runs[st*k : st*k+k]
		n := 0.0
		for j, r := range rs {
			risk[j] = float64(r.n)
			n += risk[j]
			pos[j] = 0
		}
		for {
			t, found := 0.0, false
			for j, r := range rs {
				if pos[j] < len(r.time) && (!found || r.time[pos[j]] < t) {
					t, found = r.time[pos[j]], true
				}
			}
			if !found {
				break
			}
			d := 0.0
			for j, r := range rs {
				died[j], left[j] = 0, 0
				if pos[j] < len(r.time) && r.time[pos[j]] == t {
					died[j] = float64(r.nEvent[pos[j]])
					left[j] = died[j] + float64(r.nCensor[pos[j]])
					d += died[j]
					pos[j]++
				}
			}
			if d > 0 {
				for j := range k {
					obs[j] += died[j]
					exp[j] += d * risk[j] / n
				}
				if n > 1 {
					kk := d * (n - d) / (n * (n - 1))
					for j := range k {
						for l := range k {
							if j == l {
								v[j*k+l] += risk[j] * kk * (n - risk[j]) / n
							} else {
								v[j*k+l] -= risk[j] * risk[l] * kk / n
							}
						}
					}
				}
			}
			for j := range k {
				risk[j] -= left[j]
				n -= left[j]
			}
		}
	}

	var keep []int
	totalObs := 0.0
	for j := range k {
		totalObs += obs[j]
		if exp[j] > 0 {
			keep = append(keep, j)
		}
	}
	if totalObs == 0 {
		return nil, errors.New("log-rank: no events")
	}
	if len(keep) < 2 {
		return nil, fmt.Errorf("log-rank: only group %q has subjects at risk at the event times", levels[keep[0]])
	}
	// Drop the first kept group, as survdiff does, and solve V x = O - E.
	m := len(keep) - 1
	vv := mat.NewDense(m, m, nil)
	oe := mat.NewVecDense(m, nil)
	for a, j := range keep[1:] {
		oe.SetVec(a, obs[j]-exp[j])
		for b, l := range keep[1:] {
			vv.Set(a, b, v[j*k+l])
		}
	}
	var x mat.VecDense
	if err := x.SolveVec(vv, oe); err != nil {
		return nil, fmt.Errorf("log-rank: variance matrix is singular: %w", err)
	}
	chi := mat.Dot(&x, oe)
	if math.IsNaN(chi) || math.IsInf(chi, 0) {
		return nil, errors.New("log-rank: variance matrix is singular")
	}
	p := distuv.ChiSquared{K: float64(m)}.Survival(chi)
	return &Test{Chi2: Float(chi), DF: m, P: Float(p)}, nil
}
