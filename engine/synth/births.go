package synth

import (
	"fmt"
	"math"
	"slices"
)

// births draws the deliveries of a woman aged 15-49 (top-level persons
// only): age-specific fertility, at least a year between deliveries. Each
// delivery makes CeDAP rows, the mother's delivery discharge and the
// newborns, who are simulated as persons of their own.
func (s *sim) births() {
	if s.male || s.idx < 0 {
		return
	}
	r, p, rng := s.r, s.r.p, s.rng
	lastBirth := math.MinInt32
	k := 0
	prevCS := false
	s.segments(func(from, to int, years, age float64) {
		if age < 15 || age >= 50 || k > 8 {
			return
		}
		if poisson(rng, p.Fertility[int(age-15)/5]*years) == 0 {
			return
		}
		day := s.uniformDay(from, to)
		if day-lastBirth < 365 {
			return
		}
		lastBirth = day
		twin := rng.Float64() < p.Twins
		preterm := rng.Float64() < p.Preterm
		if twin {
			preterm = rng.Float64() < 0.5
		}
		weeks := 37 + pick(rng, []float64{0.08, 0.22, 0.33, 0.27, 0.10})
		if preterm {
			weeks = 28 + pick(rng, []float64{0.01, 0.01, 0.02, 0.03, 0.04, 0.08, 0.12, 0.25, 0.44})
		}
		cs := rng.Float64() < p.Caesarean
		if preterm || twin {
			cs = rng.Float64() < p.CaesareanHigh
		}
		// Mother's delivery stay.
		rs := reason{"650", "7359", "373", "37", 3, 0, 1300, [3]float64{}}
		switch {
		case cs && prevCS && rng.Float64() < 0.8:
			rs = reason{"65421", "741", "371", "37", 4, 0, 2400, [3]float64{}}
		case cs:
			rs = reason{"66971", "741", "371", "37", 4, 0, 2400, [3]float64{}}
		case preterm:
			rs = reason{"64421", "7359", "373", "37", 4, 0, 1500, [3]float64{}}
		}
		if preterm && cs {
			rs.dx = "64421"
		}
		s.admit(day, rs, "", false, "delivery")
		last := &s.p.Discharges[len(s.p.Discharges)-1]
		last.AdmissionType = "2"
		if twin {
			last.Dx = append(last.Dx, "V272")
		} else {
			last.Dx = append(last.Dx, "V270")
		}
		prevCS = cs
		sp := s.spellAt(day)
		plural := 1
		if twin {
			plural = 2
		}
		seq := s.nextID()
		for c := 0; c < plural && k <= 9; c++ {
			male := rng.Float64() < p.MaleBirths
			mean := 3350 + 120*float64(weeks-39)
			if weeks < 37 {
				mean = 3350 - 230*float64(40-weeks)
			}
			if twin {
				mean -= 450
			}
			if male {
				mean += 110
			}
			weight := int(math.Max(500, mean+420*rng.NormFloat64()))
			apgar := 9 + rng.IntN(2)
			if preterm || rng.Float64() < 0.03 {
				apgar = 4 + rng.IntN(6)
			}
			id := newbornID(s.p.ID, k)
			k++
			mode := "vaginale"
			if cs {
				mode = "cesareo"
			}
			sex := byte('F')
			if male {
				sex = 'M'
			}
			s.p.CeDAP = append(s.p.CeDAP, Delivery{
				ID: fmt.Sprintf("CD%d%04d%d", yearOf(day), seq, c+1), Day: day, Weeks: weeks, Mode: mode,
				Plurality: plural, Newborn: id, Sex: sex, WeightG: weight, Apgar5: apgar,
			})
			spec := &birthSpec{caesarean: cs, preterm: preterm, twin: twin, weight: weight, asl: sp.ASL, municipality: sp.Municipality}
			s.p.Newborns = append(s.p.Newborns, r.simulateNewborn(id, day, male, spec))
		}
	})
}

// birthStay is a newborn's discharge at birth.
func (s *sim) birthStay() {
	b := s.newborn
	dx := "V3000"
	switch {
	case b.twin && b.caesarean:
		dx = "V3101"
	case b.twin:
		dx = "V3100"
	case b.caesarean:
		dx = "V3001"
	}
	rs := reason{"", "", "391", "31", 3, 0, 700, [3]float64{}}
	if b.preterm {
		rs = reason{"", "", "390", "73", 18, 0, 6000, [3]float64{}}
		if b.weight < 1500 {
			rs.drg, rs.los, rs.tarif = "386", 45, 25000
		}
	}
	s.admit(s.p.Birth, rs, dx, false, "newborn")
	d := &s.p.Discharges[len(s.p.Discharges)-1]
	d.AdmissionType = "2"
	if b.preterm {
		w := []int{500, 750, 1000, 1250, 1500, 1750, 2000, 2500}
		c := 1
		for _, x := range w {
			if b.weight >= x {
				c++
			}
		}
		d.Dx = append(d.Dx, fmt.Sprintf("7651%d", c))
	}
}

// anomalies adds truth T4's rows to their target persons.
func (s *sim) anomalies() {
	r := s.r
	if !r.cfg.Anomalies || s.idx < 0 || s.idx >= r.cfg.Persons {
		return
	}
	rng := s.rng
	last := s.last()
	on := func(k int) int { return min(s.entry+30*(k+1), last) }
	if n := r.unknownAt[s.idx]; n > 0 {
		for k := 0; k < n; k++ {
			s.admit(on(k), genericReasons[0], unknownCodes[k%len(unknownCodes)], false, "anomaly")
		}
		s.p.Latent.Anomalous = true
	}
	if n := r.futureAt[s.idx]; n > 0 {
		for k := 0; k < n; k++ {
			_, m, d := civil(on(k))
			if m == 2 && d == 29 {
				d = 28
			}
			s.dispense("A02BC01", daysFromCivil(2099, m, d), 1)
		}
		s.p.Latent.Anomalous = true
	}
	if n := r.beforeBirthAt[s.idx]; n > 0 {
		for k := 0; k < n; k++ {
			s.access(s.p.Birth-30-10*k, false, "9599")
		}
		s.p.Latent.Anomalous = true
	}
	if s.idx == r.heavyAt {
		n := r.t.Anomalies.HeavyDispensings
		for k := 0; k < n; k++ {
			s.dispense("A02BC01", s.entry+int(int64(last-s.entry+1)*int64(k)/int64(n)), 1)
		}
		s.p.Latent.Anomalous = true
	}
	_ = rng
}

// tidy sorts each flow's rows by date and applies the missing-year anomaly.
func (s *sim) tidy() {
	p := s.p
	slices.SortStableFunc(p.Dispensing, func(a, b Dispensing) int { return a.Day - b.Day })
	slices.SortStableFunc(p.Discharges, func(a, b Discharge) int { return a.Admission - b.Admission })
	slices.SortStableFunc(p.ER, func(a, b Access) int { return a.Day - b.Day })
	slices.SortStableFunc(p.Outpatient, func(a, b Service) int { return a.Day - b.Day })
	if y := s.r.missingYear; y > 0 {
		p.Outpatient = slices.DeleteFunc(p.Outpatient, func(o Service) bool { return yearOf(o.Day) == y })
	}
}
