package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

const year = 365.25

// interval is a run of observed (enrolled) days, both ends included.
type interval struct{ from, to int }

// birthSpec says how a newborn came into the world (from the mother's
// simulation).
type birthSpec struct {
	caesarean, preterm, twin bool
	weight                   int
	asl                      int
	municipality             string
}

// sim simulates one person.
type sim struct {
	r   *region
	rng *rand.Rand
	p   *Person
	idx int // top-level index (-1 for newborns)

	male  bool
	sexI  int // 0 women, 1 men
	entry int // first observed day
	obs   []interval
	// conditions: onset day (noDay when never, or after the period).
	onset [5]int
	// exempt: exemption intervals for copay.
	nextSeq int
	newborn *birthSpec
}

// Condition indexes.
const (
	cDiabetes = iota
	cHypertension
	cHeartFailure
	cCOPD
	cCancer
)

func (s *sim) age(day int) float64 { return float64(day-s.p.Birth) / year }

func (s *sim) dayAt(age float64) int {
	return s.p.Birth + int(math.Floor(age*year))
}

// simulateIndex simulates the top-level person idx: a resident on the first
// day of the period (idx < Persons) or an immigrant.
func (r *region) simulateIndex(idx int) *Person {
	id := personID(idx)
	s := &sim{r: r, rng: personRNG(r.cfg.Seed, id), idx: idx, p: &Person{ID: id, Death: noDay}}
	p := r.p
	rng := s.rng
	asl := pick(rng, r.aslShare)
	var age float64
	if idx < r.cfg.Persons {
		b := pick(rng, r.agePick[asl])
		age = math.Min(float64(b*5)+5*rng.Float64(), r.maxAge)
		s.male = rng.Float64() < p.MaleShare[b]
		s.entry = r.start
	} else {
		s.p.Latent.Immigrant = true
		switch u := rng.Float64(); {
		case u < 0.6:
			age = 18 + 22*rng.Float64()
		case u < 0.85:
			age = 18 * rng.Float64()
		default:
			age = 40 + 30*rng.Float64()
		}
		s.male = rng.Float64() < 0.52
		s.entry = r.start + rng.IntN(r.end-r.start+1)
	}
	s.p.Birth = s.entry - int(age*year) - 1
	if s.p.Birth >= s.entry {
		s.p.Birth = s.entry - 1
	}
	mun := p.ASLs[asl].Municipalities[rng.IntN(len(p.ASLs[asl].Municipalities))]
	switch u := rng.Float64(); {
	case s.p.Latent.Immigrant && u < 0.5:
		s.p.BirthMunicipality = "999" + []string{"203", "215", "235", "404", "602"}[rng.IntN(5)]
	case s.p.Latent.Immigrant || u < 0.25:
		s.p.BirthMunicipality = []string{"058091", "015146", "063049", "001272", "082053"}[rng.IntN(5)]
	default:
		s.p.BirthMunicipality = mun
	}
	s.run(asl, mun)
	return s.p
}

// simulateNewborn simulates a child born in the period to a mother of the
// region.
func (r *region) simulateNewborn(id int64, day int, male bool, spec *birthSpec) *Person {
	s := &sim{r: r, rng: personRNG(r.cfg.Seed, id), idx: -1, p: &Person{ID: id, Death: noDay, Birth: day}}
	s.male = male
	s.entry = day
	s.newborn = spec
	s.p.BirthMunicipality = spec.municipality
	s.run(spec.asl, spec.municipality)
	return s.p
}

// run is the whole life of a person in the period.
func (s *sim) run(asl int, mun string) {
	if s.male {
		s.p.Sex, s.sexI = 'M', 1
	} else {
		s.p.Sex = 'F'
	}
	s.conditions()
	s.lifeline(asl, mun)
	if len(s.obs) == 0 {
		return
	}
	s.p.Latent.ObservedEnd = s.obs[len(s.obs)-1].to
	if s.newborn != nil {
		s.birthStay()
	}
	s.exemptions()
	s.chronicDrugs()
	s.nsaids()
	s.amiEvents()
	s.giEvents()
	s.hipEvents()
	s.genericCare()
	s.births()
	s.anomalies()
	s.tidy()
}

// cancerStream is mixed into the seed of the random stream that decides
// who survived a cancer diagnosed before entering the region.
const cancerStream = 0x63616e636572 // "cancer"

// conditions draws the onset ages of the chronic conditions over the whole
// life (Gompertz hazards, Params.Onset).
func (s *sim) conditions() {
	p := s.r.p
	on := []Onset{p.Diabetes, p.Hypertension, p.HeartFailure, p.COPD, p.Cancer}
	ages := make([]float64, len(on))
	for i, o := range on {
		m := 1.0
		if s.male {
			m = o.MaleRR
		}
		a, ok := gompertzNext(o.MinAge, s.rng.ExpFloat64(), m, o.Rate60, o.Slope, 60)
		if !ok || a > 120 {
			a = math.Inf(1)
		}
		ages[i] = a
		if math.IsInf(a, 1) {
			s.onset[i] = noDay
		} else {
			s.onset[i] = s.dayAt(a)
		}
	}
	if a, entry := ages[cCancer], s.age(s.entry); a < entry {
		// Survival of a cancer diagnosed before entry (Params.CancerCured),
		// drawn from a stream of its own so that the person's main stream,
		// and every draw after it, stays as it was without this step.
		rng := personRNG(s.r.cfg.Seed^cancerStream, s.p.ID)
		surv := p.CancerCured + (1-p.CancerCured)*math.Exp(-(entry-a)/p.CancerSurvivalYears)
		if rng.Float64() >= surv {
			o, m := p.Cancer, 1.0
			if s.male {
				m = o.MaleRR
			}
			a, ok := gompertzNext(entry, rng.ExpFloat64(), m, o.Rate60, o.Slope, 60)
			if !ok || a > 120 {
				a = math.Inf(1)
			}
			ages[cCancer] = a
			s.onset[cCancer] = noDay
			if !math.IsInf(a, 1) {
				s.onset[cCancer] = s.dayAt(a)
			}
		}
	}
	l := &s.p.Latent
	l.Diabetes, l.Hypertension, l.HeartFailure, l.COPD, l.Cancer = ages[0], ages[1], ages[2], ages[3], ages[4]
}

func (s *sim) has(c, day int) bool { return s.onset[c] != noDay && s.onset[c] <= day }

// mortalityMultiplier is the excess mortality of the conditions present.
func (s *sim) mortalityMultiplier(day int) float64 {
	p := s.r.p
	m := 1.0
	if s.has(cDiabetes, day) {
		m *= p.MortalityRRDiabetes
	}
	if s.has(cHeartFailure, day) {
		m *= p.MortalityRRHeartFailure
	}
	if s.has(cCOPD, day) {
		m *= p.MortalityRRCOPD
	}
	if s.has(cCancer, day) && day-s.onset[cCancer] < 5*365 {
		m *= p.MortalityRRCancer
	}
	return m
}

// lifeline draws death, emigration and return, and builds the enrolment
// spells.
func (s *sim) lifeline(asl int, mun string) {
	r, p, rng := s.r, s.r.p, s.rng
	// Death: Gompertz part piecewise over the condition change points,
	// Makeham and infant parts as competing exponentials.
	cuts := []int{s.entry}
	for _, o := range s.onset {
		if o != noDay && o > s.entry && o < r.end {
			cuts = append(cuts, o)
		}
	}
	if o := s.onset[cCancer]; o != noDay && o+5*365 > s.entry && o+5*365 < r.end {
		cuts = append(cuts, o+5*365)
	}
	slices.Sort(cuts)
	cuts = append(cuts, r.end+1)
	death := noDay
	e := rng.ExpFloat64()
	a80, b := p.MortalityAt80[s.sexI], p.MortalitySlope
	for i := 0; i+1 < len(cuts) && death == noDay; i++ {
		x, y := s.age(cuts[i]), s.age(cuts[i+1])
		m := s.mortalityMultiplier(cuts[i])
		h := m * a80 / b * (math.Exp(b*(y-80)) - math.Exp(b*(x-80)))
		if e < h {
			t, _ := gompertzNext(x, e, m, a80, b, 80)
			death = min(s.dayAt(t), cuts[i+1]-1)
		} else {
			e -= h
		}
	}
	if t := s.age(s.entry) + rng.ExpFloat64()/p.MortalityMakeham; s.dayAt(t) <= r.end {
		death = minDay(death, s.dayAt(t))
	}
	if x := s.age(s.entry); x < 1 {
		// Deaths after the period's end are not seen, like the Makeham
		// ones above: a child born in December may die in January.
		if t := x + rng.ExpFloat64()/p.InfantMortality; t < 1 && s.dayAt(t) <= r.end {
			death = minDay(death, s.dayAt(t))
		}
	}
	if death != noDay && death < s.entry {
		death = s.entry
	}
	// Emigration and return.
	last := r.end
	if death != noDay {
		last = death
	}
	emig, ret := noDay, noDay
	if t := s.entry + int(rng.ExpFloat64()/p.Emigration*year); t < last {
		emig = t
		if rng.Float64() < p.EmigrantReturn {
			if u := emig + 1 + int(rng.ExpFloat64()*p.ReturnGapYears*year); u < last {
				ret = u
			}
		}
	}
	if emig == noDay {
		s.obs = []interval{{s.entry, last}}
		if death != noDay {
			s.p.Death = death
		}
	} else {
		s.obs = []interval{{s.entry, emig}}
		if ret != noDay {
			s.obs = append(s.obs, interval{ret, last})
			if death != noDay {
				s.p.Death = death
			}
		}
	}
	// Spells: moves, GP changes and the switch from paediatrician to GP at 14.
	gp := rng.IntN(1 << 20)
	for k, iv := range s.obs {
		if k > 0 && rng.Float64() < 0.5 { // returning emigrants settle anywhere
			asl = pick(rng, r.aslShare)
			mun = p.ASLs[asl].Municipalities[rng.IntN(len(p.ASLs[asl].Municipalities))]
		}
		start := iv.from
		at14 := s.dayAt(14)
		for start <= iv.to {
			tMove := start + 1 + int(rng.ExpFloat64()/p.Moves*year)
			tGP := start + 1 + int(rng.ExpFloat64()/p.GPChange*year)
			next, why := iv.to+1, ""
			if tMove < next {
				next, why = tMove, "transfer"
			}
			if tGP < next {
				next, why = tGP, "gp_change"
			}
			if at14 > start && at14 < next {
				next, why = at14, "gp_change"
			}
			sp := Spell{Start: start, End: next - 1, ASL: asl, Municipality: mun, GP: r.gpID(asl, start < at14, gp), EndReason: why}
			if next > iv.to {
				sp.End = iv.to
				switch {
				case iv.to == emig && k == 0:
					sp.EndReason = "emigration"
				case death != noDay && iv.to == death && s.p.Death != noDay:
					sp.EndReason = "death"
				default:
					sp.End, sp.EndReason = noDay, ""
				}
			}
			s.p.Spells = append(s.p.Spells, sp)
			switch why {
			case "transfer":
				if rng.Float64() < p.MoveOtherASL {
					asl = pick(rng, r.aslShare)
				}
				mun = p.ASLs[asl].Municipalities[rng.IntN(len(p.ASLs[asl].Municipalities))]
				gp = rng.IntN(1 << 20)
			case "gp_change":
				gp = rng.IntN(1 << 20)
			}
			start = next
		}
	}
}

func minDay(a, b int) int {
	if a == noDay {
		return b
	}
	return min(a, b)
}

// observed reports whether a day is observed (enrolled).
func (s *sim) observed(day int) bool {
	for _, iv := range s.obs {
		if day >= iv.from && day <= iv.to {
			return true
		}
	}
	return false
}

// nextObserved returns the first observed day at or after day, or noDay.
func (s *sim) nextObserved(day int) int {
	for _, iv := range s.obs {
		if day <= iv.to {
			return max(day, iv.from)
		}
	}
	return noDay
}

// spellAt returns the spell covering an observed day (or the last one).
func (s *sim) spellAt(day int) *Spell {
	for i := range s.p.Spells {
		sp := &s.p.Spells[i]
		if day >= sp.Start && (sp.End == noDay || day <= sp.End) {
			return sp
		}
	}
	return &s.p.Spells[len(s.p.Spells)-1]
}

// segments calls fn for the observed days cut at each 1 January, with the
// length in years and the age in the middle.
func (s *sim) segments(fn func(from, to int, years, age float64)) {
	for _, iv := range s.obs {
		for from := iv.from; from <= iv.to; {
			y := yearOf(from)
			to := min(iv.to, daysFromCivil(y+1, 1, 1)-1)
			fn(from, to, float64(to-from+1)/year, s.age((from+to)/2))
			from = to + 1
		}
	}
}

// uniformDay draws a day in [from, to].
func (s *sim) uniformDay(from, to int) int { return from + s.rng.IntN(to-from+1) }

// poissonProcess draws the events of a Poisson process of intensity
// m × a × exp(b × (age − ref)) per year over the observed days where
// mult(day) > 0, with mult piecewise constant between the cut days. It
// returns the event days.
func (s *sim) poissonProcess(a, b, ref float64, cuts []int, mult func(day int) float64) []int {
	var out []int
	for _, iv := range s.obs {
		pts := []int{iv.from}
		for _, c := range cuts {
			if c > iv.from && c <= iv.to {
				pts = append(pts, c)
			}
		}
		slices.Sort(pts)
		pts = slices.Compact(pts)
		pts = append(pts, iv.to+1)
		for i := 0; i+1 < len(pts); i++ {
			m := mult(pts[i])
			if m <= 0 {
				continue
			}
			// Ages in exact days so an event day falls inside [from, to].
			x, y := float64(pts[i]-s.p.Birth)/year, float64(pts[i+1]-s.p.Birth)/year
			for {
				t, ok := gompertzNext(x, s.rng.ExpFloat64(), m, a, b, ref)
				if !ok || t >= y {
					break
				}
				out = append(out, min(s.p.Birth+int(t*year), pts[i+1]-1))
				x = t
			}
		}
	}
	return out
}

// nextID returns a per-person progressive number for record identifiers.
func (s *sim) nextID() int { s.nextSeq++; return s.nextSeq }

// hospital names a hospital of the person's ASL at a day.
func (s *sim) hospital(day int) string {
	sp := s.spellAt(day)
	return fmt.Sprintf("%s%02d", s.r.p.ASLs[sp.ASL].Code, 1+s.rng.IntN(3))
}
