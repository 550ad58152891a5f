package stats

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/stat/distuv"
)

// KMOptions configures KaplanMeier; the zero value means survfit's defaults.
type KMOptions struct {
	// ConfType is the pointwise confidence interval: "log" (default),
	// "log-log" or "plain", as survfit's conf.type.
	ConfType string
	// ConfLevel is the confidence level, 0.95 when zero.
	ConfLevel float64
}

// WithDefaults returns o with empty fields set to survfit's defaults.
func (o KMOptions) WithDefaults() KMOptions {
	if o.ConfType == "" {
		o.ConfType = "log"
	}
	if o.ConfLevel == 0 {
		o.ConfLevel = 0.95
	}
	return o
}

// validate reports a bad confidence type or level.
func (o KMOptions) validate() error {
	switch o.ConfType {
	case "log", "log-log", "plain":
	default:
		return fmt.Errorf("unknown confidence interval type %q (want log, log-log or plain)", o.ConfType)
	}
	if !(o.ConfLevel > 0 && o.ConfLevel < 1) {
		return fmt.Errorf("confidence level %v is not between 0 and 1", o.ConfLevel)
	}
	return nil
}

// KMStep is the Kaplan-Meier estimate at one distinct time with an event or
// a censoring, as a row of summary(survfit(...), censored=TRUE).
type KMStep struct {
	Time    float64 `json:"time"`
	NRisk   int     `json:"n_risk"`
	NEvent  int     `json:"n_event"`
	NCensor int     `json:"n_censor"`
	Surv    Float   `json:"surv"`
	// StdErr is the standard error of Surv (Greenwood), NA where Surv is 0.
	StdErr Float `json:"std_err"`
	Lower  Float `json:"lower"`
	Upper  Float `json:"upper"`
}

// KMCurve is the Kaplan-Meier curve of one group with its median survival,
// as one row of summary(survfit(...))$table plus the curve's steps.
type KMCurve struct {
	// Group is the group's level, nil when the fit has no groups.
	Group  *string `json:"group"`
	N      int     `json:"n"`
	Events int     `json:"events"`
	// Median is the median survival time, NA when S(t) never falls to 0.5;
	// MedianLower and MedianUpper are its confidence limits, read the same
	// way from the lower and upper confidence curves.
	Median      Float    `json:"median"`
	MedianLower Float    `json:"median_lower"`
	MedianUpper Float    `json:"median_upper"`
	Steps       []KMStep `json:"steps"`
}

// KMResult is a Kaplan-Meier fit: one curve per group, in level order.
type KMResult struct {
	ConfType  string    `json:"conf_type"`
	ConfLevel float64   `json:"conf_level"`
	Groups    []KMCurve `json:"groups"`
}

// KaplanMeier estimates survival curves as survival::survfit(Surv(time,
// event) ~ group) does (survival 3.5-3), with Greenwood standard errors and
// pointwise intervals by opts.ConfType. group may be nil for a single curve;
// otherwise there is one curve per level, levels sorted numerically when all
// parse as numbers and by byte order otherwise. Times must be finite and
// non-negative. It panics if the slices differ in length.
func KaplanMeier(time []float64, event []bool, group []string, opts KMOptions) (*KMResult, error) {
	if len(event) != len(time) || (group != nil && len(group) != len(time)) {
		panic("stats: KaplanMeier: time, event and group differ in length")
	}
	opts = opts.WithDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("kaplan-meier: %w", err)
	}
	if len(time) == 0 {
		return nil, errors.New("kaplan-meier: no observations")
	}
	if err := checkTimes(time); err != nil {
		return nil, fmt.Errorf("kaplan-meier: %w", err)
	}
	levels, idx := groupIndex(group)
	runs := survivalRuns(time, event, idx, len(levels))
	z := distuv.UnitNormal.Quantile(1 - (1-opts.ConfLevel)/2)
	res := &KMResult{ConfType: opts.ConfType, ConfLevel: opts.ConfLevel, Groups: make([]KMCurve, len(levels))}
	for g := range levels {
		c := kmCurve(runs[g], opts.ConfType, z)
		if group != nil {
			lv := levels[g]
			c.Group = &lv
		}
		res.Groups[g] = c
	}
	return res, nil
}

// checkTimes rejects negative, NaN and infinite times.
func checkTimes(time []float64) error {
	for i, t := range time {
		if !(t >= 0) || math.IsInf(t, 1) {
			return fmt.Errorf("time %v at row %d is not a finite non-negative number", t, i+1)
		}
	}
	return nil
}

// groupIndex returns the sorted levels of group and each row's level index;
// a nil group is one level, and idx is nil.
func groupIndex(group []string) (levels []string, idx []int32) {
	if group == nil {
		return []string{""}, nil
	}
	pos := map[string]int32{}
	idx = make([]int32, len(group))
	last, lastPos := "", int32(-1)
	for i, s := range group {
		if lastPos >= 0 && s == last {
			idx[i] = lastPos
			continue
		}
		p, ok := pos[s]
		if !ok {
			p = int32(len(levels))
			pos[s] = p
			levels = append(levels, s)
		}
		idx[i], last, lastPos = p, s, p
	}
	sorted := SortLevels(levels)
	remap := make([]int32, len(levels))
	for newPos, s := range sorted {
		remap[pos[s]] = int32(newPos)
	}
	for i := range idx {
		idx[i] = remap[idx[i]]
	}
	return sorted, idx
}

// survRun is one group's distinct times with their event and censoring
// counts, in increasing time order.
type survRun struct {
	time    []float64
	nEvent  []int
	nCensor []int
	n       int
}

// survivalRuns sorts each group's event and censoring times (in parallel)
// and counts them at each distinct time.
func survivalRuns(time []float64, event []bool, idx []int32, ngroups int) []survRun {
	// Split times by group and status: bucket 2g holds events, 2g+1 censorings.
	counts := make([]int, 2*ngroups)
	for i, e := range event {
		b := 1
		if e {
			b = 0
		}
		if idx != nil {
			b += 2 * int(idx[i])
		}
		counts[b]++
	}
	buf := make([]float64, len(time))
	buckets := make([][]float64, 2*ngroups)
	off := 0
	for b, c := range counts {
		buckets[b] = buf[off : off : off+c]
		off += c
	}
	for i, t := range time {
		b := 1
		if event[i] {
			b = 0
		}
		if idx != nil {
			b += 2 * int(idx[i])
		}
		buckets[b] = append(buckets[b], t)
	}
	// Cut buckets into chunks and sort the chunks on all cores.
	workers := runtime.GOMAXPROCS(0)
	chunk := max(len(time)/workers+1, 1<<14)
	type piece struct {
		bucket int
		s      []float64
	}
	var pieces []piece
	for b, s := range buckets {
		for len(s) > chunk {
			pieces = append(pieces, piece{b, s[:chunk]})
			s = s[chunk:]
		}
		if len(s) > 0 {
			pieces = append(pieces, piece{b, s})
		}
	}
	if len(time) < 1<<15 || workers == 1 {
		for _, p := range pieces {
			slices.Sort(p.s)
		}
	} else {
		var wg sync.WaitGroup
		next := make(chan []float64)
		for range workers {
			wg.Go(func() {
				for s := range next {
					slices.Sort(s)
				}
			})
		}
		for _, p := range pieces {
			next <- p.s
		}
		close(next)
		wg.Wait()
	}
	runs := make([]survRun, ngroups)
	var ev, ce [][]float64
	for g := range runs {
		ev, ce = ev[:0], ce[:0]
		for _, p := range pieces {
			switch p.bucket {
			case 2 * g:
				ev = append(ev, p.s)
			case 2*g + 1:
				ce = append(ce, p.s)
			}
		}
		runs[g] = mergeRuns(ev, ce)
	}
	return runs
}

// mergeRuns merges sorted runs of event and censoring times into counts at
// each distinct time.
func mergeRuns(ev, ce [][]float64) survRun {
	var r survRun
	for _, s := range ev {
		r.n += len(s)
	}
	for _, s := range ce {
		r.n += len(s)
	}
	runs := append(slices.Clone(ev), ce...)
	nev := len(ev)
	for {
		t := math.Inf(1)
		found := false
		for _, s := range runs {
			if len(s) > 0 && (!found || s[0] < t) {
				t, found = s[0], true
			}
		}
		if !found {
			return r
		}
		d, c := 0, 0
		for k, s := range runs {
			j := 0
			for j < len(s) && s[j] == t {
				j++
			}
			if k < nev {
				d += j
			} else {
				c += j
			}
			runs[k] = s[j:]
		}
		r.time = append(r.time, t)
		r.nEvent = append(r.nEvent, d)
		r.nCensor = append(r.nCensor, c)
	}
}

// kmCurve computes the survival steps and medians of one group.
func kmCurve(r survRun, confType string, z float64) KMCurve {
	c := KMCurve{N: r.n, Steps: make([]KMStep, len(r.time))}
	atRisk := r.n
	s, h := 1.0, 0.0
	for i, t := range r.time {
		d, n := float64(r.nEvent[i]), float64(atRisk)
		if d > 0 {
			s *= (n - d) / n
			h += d / (n * (n - d)) // +Inf when everyone at risk dies, as survfit
		}
		se := math.Sqrt(h) // standard error of log S(t)
		lo, up := kmConfint(s, se, confType, z)
		c.Steps[i] = KMStep{
			Time: t, NRisk: atRisk, NEvent: r.nEvent[i], NCensor: r.nCensor[i],
			Surv: Float(s), StdErr: Float(s * se), Lower: Float(lo), Upper: Float(up),
		}
		c.Events += r.nEvent[i]
		atRisk -= r.nEvent[i] + r.nCensor[i]
	}
	c.Median = kmQuantileHalf(c.Steps, func(s *KMStep) Float { return s.Surv })
	c.MedianLower = kmQuantileHalf(c.Steps, func(s *KMStep) Float { return s.Lower })
	c.MedianUpper = kmQuantileHalf(c.Steps, func(s *KMStep) Float { return s.Upper })
	return c
}

// kmConfint is survival:::survfit_confint for one point with logse=TRUE and
// conf.lower="usual", NaN standing for R's NA (and propagating like it).
func kmConfint(p, se float64, confType string, z float64) (lower, upper float64) {
	scale := 1.0
	if se != 0 {
		scale = se / se // NaN when se is infinite, as in R
	}
	switch confType {
	case "plain":
		se2 := se * p * z
		return rPmax(p-se2*scale, 0), rPmin(p+se2, 1)
	case "log":
		xx := p
		if p == 0 {
			xx = math.NaN()
		}
		se2 := z * se
		return math.Exp(math.Log(xx) - se2*scale), rPmin(math.Exp(math.Log(xx)+se2), 1)
	default: // log-log
		xx := p
		if p == 0 || p == 1 {
			xx = math.NaN()
		}
		se2 := z * se / math.Log(xx)
		ll := math.Log(-math.Log(xx))
		return math.Exp(-math.Exp(ll - se2*scale)), math.Exp(-math.Exp(ll + se2))
	}
}

// rPmax is R's pmax for one pair: NaN if either is NaN.
func rPmax(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return math.Max(a, b)
}

// rPmin is R's pmin for one pair: NaN if either is NaN.
func rPmin(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return math.Min(a, b)
}

// kmQuantileHalf is the median rule of survival:::survmean (minmin): the
// first time the curve is at or below 0.5 (within sqrt(machine epsilon));
// if it is exactly 0.5 there and falls later, the midpoint between that
// time and the time it falls. NA values of the curve are skipped.
func kmQuantileHalf(steps []KMStep, y func(*KMStep) Float) Float {
	tol := math.Sqrt(0x1p-52)
	first := -1
	for i := range steps {
		v := float64(y(&steps[i]))
		if math.IsNaN(v) || !(v < 0.5+tol) {
			continue
		}
		if first < 0 {
			first = i
			if !(math.Abs(v-0.5) < tol) {
				return Float(steps[i].Time)
			}
			continue
		}
		if v < float64(y(&steps[first])) {
			return Float((steps[first].Time + steps[i].Time) / 2)
		}
	}
	if first < 0 {
		return NA
	}
	return Float(steps[first].Time)
}
