package stats

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// RateOptions configures Rates; the zero value means the defaults.
type RateOptions struct {
	// Per is the person-time unit of the reported rates (events per Per
	// units of person-time), 1000 when zero.
	Per float64
	// ConfLevel is the confidence level, 0.95 when zero.
	ConfLevel float64
}

// WithDefaults returns o with empty fields set to the defaults.
func (o RateOptions) WithDefaults() RateOptions {
	if o.Per == 0 {
		o.Per = 1000
	}
	if o.ConfLevel == 0 {
		o.ConfLevel = 0.95
	}
	return o
}

// validate reports a bad unit or confidence level.
func (o RateOptions) validate() error {
	if !(o.Per > 0) || math.IsInf(o.Per, 1) {
		return fmt.Errorf("rate unit %v is not a positive number", o.Per)
	}
	if !(o.ConfLevel > 0 && o.ConfLevel < 1) {
		return fmt.Errorf("confidence level %v is not between 0 and 1", o.ConfLevel)
	}
	return nil
}

// GroupRate is the crude and directly standardized event rate of one group,
// and its rate ratio against the first group.
type GroupRate struct {
	// Group is the group's level, nil when there are no groups.
	Group      *string `json:"group"`
	Events     float64 `json:"events"`
	PersonTime float64 `json:"persontime"`
	// Crude is Events/PersonTime×Per with an exact Poisson (Garwood)
	// interval, as epitools::pois.exact.
	Crude      Float `json:"crude"`
	CrudeLower Float `json:"crude_lower"`
	CrudeUpper Float `json:"crude_upper"`
	// Adjusted is the directly standardized rate with the Fay-Feuer gamma
	// interval, as epitools::ageadjust.direct; NA without strata.
	Adjusted      Float `json:"adjusted"`
	AdjustedLower Float `json:"adjusted_lower"`
	AdjustedUpper Float `json:"adjusted_upper"`
	// RateRatio is the crude rate over the first group's, with a Wald
	// interval on the log scale, as epitools::rateratio(method="wald"); NA
	// for the first group, and the interval is NA when either group has no
	// events.
	RateRatio Float `json:"rate_ratio"`
	RRLower   Float `json:"rr_lower"`
	RRUpper   Float `json:"rr_upper"`
}

// RatesResult holds the rates of each group, in level order.
type RatesResult struct {
	Per       float64     `json:"per"`
	ConfLevel float64     `json:"conf_level"`
	Groups    []GroupRate `json:"groups"`
}

// Rates sums events and person-time by group (and stratum) and returns
// each group's crude rate, its directly standardized rate when stratum is
// not nil, and its rate ratio against the first group. Rows may be one per
// person or pre-aggregated counts. group may be nil for a single group;
// levels are sorted numerically when all parse as numbers, otherwise by
// byte order.
//
// std is the standard population by stratum, required with stratum. A
// stratum in the data that is missing from std is an error. A stratum of
// std in which a group has no person-time is an error too (its rate is
// undefined), unless its standard population is zero; a stratum with
// person-time but no events counts as a rate of zero, as in
// ageadjust.direct. It panics if the slices differ in length.
func Rates(events, persontime []float64, group, stratum []string, std map[string]float64, opts RateOptions) (*RatesResult, error) {
	n := len(events)
	if len(persontime) != n || (group != nil && len(group) != n) || (stratum != nil && len(stratum) != n) {
		panic("stats: Rates: events, persontime, group and stratum differ in length")
	}
	opts = opts.WithDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("rates: %w", err)
	}
	if n == 0 {
		return nil, errors.New("rates: no observations")
	}
	if stratum != nil && std == nil {
		return nil, errors.New("rates: strata given without a standard population")
	}
	for i := range n {
		if !(events[i] >= 0) || math.IsInf(events[i], 1) {
			return nil, fmt.Errorf("rates: events %v at row %d is not a finite non-negative number", events[i], i+1)
		}
		if !(persontime[i] >= 0) || math.IsInf(persontime[i], 1) {
			return nil, fmt.Errorf("rates: person-time %v at row %d is not a finite non-negative number", persontime[i], i+1)
		}
	}
	levels, gidx := groupIndex(group)
	res := &RatesResult{Per: opts.Per, ConfLevel: opts.ConfLevel, Groups: make([]GroupRate, len(levels))}
	for i := range n {
		g := 0
		if gidx != nil {
			g = int(gidx[i])
		}
		res.Groups[g].Events += events[i]
		res.Groups[g].PersonTime += persontime[i]
	}
	alpha := 1 - opts.ConfLevel
	for g := range res.Groups {
		r := &res.Groups[g]
		if group != nil {
			lv := levels[g]
			r.Group = &lv
		}
		if r.PersonTime == 0 {
			return nil, fmt.Errorf("rates: group %q has no person-time", levels[g])
		}
		lo, up := PoissonExact(r.Events, alpha)
		r.Crude = Float(r.Events / r.PersonTime * opts.Per)
		r.CrudeLower = Float(lo / r.PersonTime * opts.Per)
		r.CrudeUpper = Float(up / r.PersonTime * opts.Per)
		r.Adjusted, r.AdjustedLower, r.AdjustedUpper = NA, NA, NA
		r.RateRatio, r.RRLower, r.RRUpper = NA, NA, NA
	}
	if stratum != nil {
		if err := directRates(res, events, persontime, gidx, levels, group != nil, stratum, std, alpha, opts.Per); err != nil {
			return nil, err
		}
	}
	z := distuv.UnitNormal.Quantile(1 - alpha/2)
	ref := res.Groups[0]
	for g := 1; g < len(res.Groups); g++ {
		r := &res.Groups[g]
		r.RateRatio, r.RRLower, r.RRUpper = rateRatioWald(r.Events, r.PersonTime, ref.Events, ref.PersonTime, z)
	}
	return res, nil
}

// PoissonExact returns the exact (Garwood) limits of the mean of a Poisson
// count x at level 1-alpha: qchisq(alpha/2, 2x)/2 and
// qchisq(1-alpha/2, 2x+2)/2, the lower limit 0 when x is 0. These are the
// limits epitools::pois.exact approximates with uniroot.
func PoissonExact(x, alpha float64) (lower, upper float64) {
	if x > 0 {
		lower = distuv.ChiSquared{K: 2 * x}.Quantile(alpha/2) / 2
	}
	upper = distuv.ChiSquared{K: 2*x + 2}.Quantile(1-alpha/2) / 2
	return lower, upper
}

// rateRatioWald is epitools::rateratio.wald for one group against the
// reference: (a/pt1)/(b/pt0) with exp(log RR ± z·sqrt(1/a+1/b)). The ratio
// is NA when the reference has no events; the interval is NA when either
// count is zero (R gives 0 and NaN, or NaN).
func rateRatioWald(a, pt1, b, pt0, z float64) (est, lower, upper Float) {
	if b == 0 {
		return NA, NA, NA
	}
	rr := (a / pt1) / (b / pt0)
	if a == 0 {
		return Float(rr), NA, NA
	}
	se := math.Sqrt(1/a + 1/b)
	return Float(rr), Float(math.Exp(math.Log(rr) - z*se)), Float(math.Exp(math.Log(rr) + z*se))
}

// directRates fills the adjusted rates of res from the rows' strata.
func directRates(res *RatesResult, events, persontime []float64, gidx []int32, levels []string, grouped bool,
	stratum []string, std map[string]float64, alpha, per float64) error {
	names := make([]string, 0, len(std))
	total := 0.0
	for s, p := range std {
		if !(p >= 0) || math.IsInf(p, 1) {
			return fmt.Errorf("rates: standard population of stratum %q is %v, not a finite non-negative number", s, p)
		}
		names = append(names, s)
		total += p
	}
	if !(total > 0) {
		return errors.New("rates: the standard population is empty")
	}
	sort.Strings(names)
	pos := make(map[string]int, len(names))
	for k, s := range names {
		pos[s] = k
	}
	ns := len(names)
	count := make([]float64, len(levels)*ns)
	pop := make([]float64, len(levels)*ns)
	for i, s := range stratum {
		k, ok := pos[s]
		if !ok {
			return fmt.Errorf("rates: stratum %q is in the data but not in the standard population", s)
		}
		g := 0
		if gidx != nil {
			g = int(gidx[i])
		}
		count[g*ns+k] += events[i]
		pop[g*ns+k] += persontime[i]
	}
	for g := range levels {
		var dsr, v, wm float64
		for k, s := range names {
			w := std[s] / total
			c, p := count[g*ns+k], pop[g*ns+k]
			if p == 0 {
				if w == 0 {
					continue
				}
				if grouped {
					return fmt.Errorf("rates: group %q has no person-time in stratum %q of the standard population", levels[g], s)
				}
				return fmt.Errorf("rates: no person-time in stratum %q of the standard population", s)
			}
			dsr += w * c / p
			v += w * w * c / (p * p)
			wm = math.Max(wm, w/p)
		}
		r := &res.Groups[g]
		lower := 0.0 // the limit of the gamma quantile as dsr → 0 (epitools gives NaN)
		if dsr > 0 {
			lower = distuv.Gamma{Alpha: dsr * dsr / v, Beta: dsr / v}.Quantile(alpha / 2)
		}
		upper := distuv.Gamma{Alpha: (dsr + wm) * (dsr + wm) / (v + wm*wm), Beta: (dsr + wm) / (v + wm*wm)}.Quantile(1 - alpha/2)
		r.Adjusted, r.AdjustedLower, r.AdjustedUpper = Float(dsr*per), Float(lower*per), Float(upper*per)
	}
	return nil
}
