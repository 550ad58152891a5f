package synth

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

func (s *sim) last() int { return s.obs[len(s.obs)-1].to }

// exemptions grants the co-pay exemptions of the chronic conditions.
func (s *sim) exemptions() {
	r, p, rng := s.r, s.r.p, s.rng
	last := s.last()
	grant := func(c int, code string, prob float64, years int) {
		on := s.onset[c]
		if on == noDay || on > last || rng.Float64() >= prob {
			return
		}
		start := max(on+30+rng.IntN(90), r.exemptFrom, s.p.Birth)
		if s.p.Latent.Immigrant {
			start = max(start, s.entry)
		}
		if c == cCOPD && start < r.copd057 {
			if rng.Float64() < 0.3 {
				code = "024"
			} else {
				start = r.copd057 + rng.IntN(365)
			}
		}
		if start > last {
			return
		}
		end := noDay
		if years > 0 {
			end = start + years*365 - 1
			if end < s.entry {
				return
			}
		}
		s.p.Exemptions = append(s.p.Exemptions, Exemption{Code: code, Start: start, End: end})
	}
	grant(cDiabetes, "013", p.ExemptDiabetes, 0)
	grant(cHypertension, "031", p.ExemptHypertension, 0)
	grant(cHeartFailure, "021", p.ExemptHeartFailure, 0)
	grant(cCOPD, "057", p.ExemptCOPD, 0)
	grant(cCancer, "048", p.ExemptCancer, 5)
}

// exempt reports whether an exemption is active at a day.
func (s *sim) exempt(day int) bool {
	for _, e := range s.p.Exemptions {
		if day >= e.Start && (e.End == noDay || day <= e.End) {
			return true
		}
	}
	return false
}

// dispense records a dispensing of the product of an ATC code valid at day.
func (s *sim) dispense(atc string, day int, packs float64) int {
	i := s.r.productFor(atc, day)
	pr := products[i]
	d := Dispensing{Day: day, Product: i, Packs: packs, Prescriber: s.spellAt(day).GP, Cost: pr.price * packs}
	if !s.exempt(day) {
		d.Copay = math.Min(s.r.p.Copay*packs, 4)
	}
	if pr.direct {
		d.Copay = 0
		d.Channel = "DPC"
		if s.rng.Float64() < 0.4 {
			d.Channel = "DD"
		}
	}
	s.p.Dispensing = append(s.p.Dispensing, d)
	return i
}

// packDays is how long a pack lasts at one unit (or, for packs of few
// units, one DDD) a day.
func packDays(i int) float64 {
	if products[i].units < 10 {
		return products[i].dddPerPack
	}
	return products[i].units
}

// therapy dispenses a chronic drug from start (an observed day) until
// stopAt, the end of observation or discontinuation without restart.
// Refills come every pack duration divided by the person's proportion of
// days covered, with noise; discontinuation and restarts as in Params.
func (s *sim) therapy(atc string, start, stopAt int) {
	p, rng := s.r.p, s.rng
	pdc := math.Min(math.Max(beta(rng, p.AdherenceA, p.AdherenceB), 0.2), 1)
	last := min(s.last(), stopAt)
	stop := start + int(rng.ExpFloat64()/p.Discontinuation*year)
	for day := start; day <= last; {
		if day > stop {
			if rng.Float64() >= p.Restart {
				return
			}
			day = stop + int(rng.ExpFloat64()*p.RestartGapDays)
			stop = day + int(rng.ExpFloat64()/p.Discontinuation*year)
			continue
		}
		packs := 1.0
		if rng.Float64() < 0.15 {
			packs = 2
		}
		next := day + 1
		if s.observed(day) {
			i := s.dispense(atc, day, packs)
			next = day + max(1, int(packDays(i)*packs/pdc*math.Exp(0.15*rng.NormFloat64())))
		} else if n := s.nextObserved(day); n != noDay {
			next = n
		} else {
			return
		}
		day = next
	}
}

// diabetesRecorded is truth T1's diabetes: an exemption 013 that started
// before the day and had not ended, or an A10 dispensing in the 365 days
// before it.
func (s *sim) diabetesRecorded(day int) bool {
	for _, e := range s.p.Exemptions {
		if e.Code == "013" && e.Start < day && (e.End == noDay || e.End >= day) {
			return true
		}
	}
	for _, d := range s.p.Dispensing {
		if d.Day >= day-365 && d.Day < day && strings.HasPrefix(products[d.Product].atc, "A10") {
			return true
		}
	}
	return false
}

// chronicDrugs dispenses the therapies of the chronic conditions, and
// plants truth T1's choice between C09A and C09C.
func (s *sim) chronicDrugs() {
	p, rng := s.r.p, s.rng
	last := s.last()
	startAt := func(c int, delay int) int {
		on := s.onset[c]
		if on == noDay || on > last {
			return noDay
		}
		if on < s.entry {
			return s.entry + rng.IntN(28)
		}
		return s.nextObserved(on + rng.IntN(delay+1))
	}
	if t := startAt(cDiabetes, 45); t != noDay && t <= last {
		if rng.Float64() < p.DiabetesTreated {
			s.therapy("A10BA02", t, math.MaxInt32)
		}
		if rng.Float64() < p.Insulin {
			s.therapy("A10AE04", t+rng.IntN(365), math.MaxInt32)
		}
	}
	// Hypertension: prevalent treated persons are on a mix of drugs; starters
	// (incident, or untreated ones who start) follow truth T1.
	if on := s.onset[cHypertension]; on != noDay && on <= last {
		start := noDay
		if rng.Float64() < p.HypertensionTreated {
			if on < s.entry {
				atc := []string{"C09AA02", "C09AA05", "C09CA01", "C09CA03", "C08CA01"}[pick(rng, []float64{0.18, 0.17, 0.15, 0.15, 0.35})]
				s.therapy(atc, s.entry+rng.IntN(28), math.MaxInt32)
			} else {
				start = on + int(rng.ExpFloat64()*45)
			}
		} else {
			start = max(on, s.entry) + int(rng.ExpFloat64()/p.HypertensionStart*year)
		}
		if start != noDay {
			start = s.nextObserved(start)
		}
		if start != noDay && start <= last {
			s.startAntihypertensive(start)
		}
	}
	if t := startAt(cHeartFailure, 30); t != noDay && t <= last {
		if rng.Float64() < 0.9 {
			s.therapy("C03CA01", t, math.MaxInt32)
		}
		if rng.Float64() < 0.7 {
			s.therapy("C07AB07", t, math.MaxInt32)
		}
	}
	statin := noDay
	if t := startAt(cDiabetes, 180); t != noDay && rng.Float64() < p.Statin {
		statin = t
	}
	if t := startAt(cHeartFailure, 60); t != noDay && rng.Float64() < 0.6 {
		statin = minDay(statin, t)
	}
	if statin != noDay && statin <= last {
		s.therapy("C10AA05", statin, math.MaxInt32)
	}
	if t := startAt(cCOPD, 90); t != noDay && t <= last && rng.Float64() < 0.7 {
		s.therapy("R03BB04", t, math.MaxInt32)
	}
	if on := s.onset[cCancer]; on != noDay && on <= last {
		site := s.cancerSite()
		t := startAt(cCancer, 60)
		switch {
		case t == noDay || t > last:
		case site.dx == "1749" && rng.Float64() < 0.6:
			s.therapy("L02BG04", t, on+5*365)
		case site.dx == "185" && rng.Float64() < 0.4:
			s.therapy("L02BB03", t, on+3*365)
		}
	}
}

// startAntihypertensive is truth T1: the first antihypertensive of a
// starter. With probability C09Share it is a renin-angiotensin agent, A
// (C09A) with probability logistic(ChoiceIntercept + ChoiceAge × (age −
// 65)/10 + ChoiceDiabetes × diabetes), else B (C09C).
func (s *sim) startAntihypertensive(day int) {
	t, rng := s.r.t, s.rng
	if rng.Float64() >= s.r.p.C09Share {
		s.therapy("C08CA01", day, math.MaxInt32)
		return
	}
	age := s.age(day)
	diab := s.diabetesRecorded(day)
	lin := t.ChoiceIntercept + t.ChoiceAge*(age-65)/10
	if diab {
		lin += t.ChoiceDiabetes
	}
	l := &s.p.Latent
	l.IndexDay, l.IndexAge, l.IndexDiab = day, age, diab
	if rng.Float64() < 1/(1+math.Exp(-lin)) {
		l.NewUser = "A"
		s.therapy([]string{"C09AA02", "C09AA05"}[rng.IntN(2)], day, math.MaxInt32)
	} else {
		l.NewUser = "B"
		s.therapy([]string{"C09CA01", "C09CA03"}[rng.IntN(2)], day, math.MaxInt32)
	}
}

// cancerSite returns the person's cancer site (drawn once from the RNG of
// the person's identifier, so every caller agrees).
func (s *sim) cancerSite() cancerSite {
	h := splitmix64(uint64(s.p.ID) ^ s.r.cfg.Seed ^ 0xc0ffee)
	w := make([]float64, len(cancerSites))
	sum := 0.0
	for i, c := range cancerSites {
		w[i] = c.w[s.sexI]
		sum += w[i]
	}
	u := float64(h>>11) / (1 << 53) * sum
	for i := range w {
		u -= w[i]
		if u < 0 {
			return cancerSites[i]
		}
	}
	return cancerSites[len(cancerSites)-1]
}

// nsaids plants the intermittent NSAID use of truth T2.
func (s *sim) nsaids() {
	p, rng := s.r.p, s.rng
	if s.age(s.entry) < 18 && s.age(s.last()) < 18 {
		return
	}
	old := s.age(s.entry) >= 65
	freq := p.NSAIDFrequent
	if old {
		freq = p.NSAIDFrequentOld
	}
	rate := 0.0
	switch u := rng.Float64(); {
	case u < freq:
		s.p.Latent.NSAIDClass, rate = 2, p.NSAIDFrequentRate
	case u < freq+p.NSAIDOccasional:
		s.p.Latent.NSAIDClass, rate = 1, p.NSAIDOccasionalRate
	default:
		return
	}
	adult := s.dayAt(18)
	s.segments(func(from, to int, years, age float64) {
		if to < adult {
			return
		}
		from = max(from, adult)
		for n := poisson(rng, rate*float64(to-from+1)/year); n > 0; n-- {
			day := s.uniformDay(from, to)
			atc := []string{"M01AE01", "M01AB05", "M01AX17", "M01AH01"}[pick(rng, []float64{0.4, 0.25, 0.2, 0.15})]
			k := 1 + pick(rng, []float64{0.7, 0.2, 0.1})
			for ; k > 0 && day <= s.last() && s.observed(day); k-- {
				packs := 1.0
				if rng.Float64() < 0.15 {
					packs = 2
				}
				i := s.dispense(atc, day, packs)
				if rng.Float64() < 0.3 {
					s.dispense("A02BC01", day, 1)
				}
				day += int(products[i].dddPerPack*packs) + rng.IntN(6)
			}
		}
	})
}

// nsaidCoverage returns the merged days covered by NSAID dispensings:
// [day, day + packs × DDD per pack), as [from, to) pairs.
func (s *sim) nsaidCoverage() [][2]int {
	var iv [][2]int
	for _, d := range s.p.Dispensing {
		pr := products[d.Product]
		if strings.HasPrefix(pr.atc, "M01A") {
			iv = append(iv, [2]int{d.Day, d.Day + int(math.Ceil(d.Packs*pr.dddPerPack))})
		}
	}
	return mergeIntervals(iv)
}

func mergeIntervals(iv [][2]int) [][2]int {
	slices.SortFunc(iv, func(a, b [2]int) int { return a[0] - b[0] })
	var out [][2]int
	for _, x := range iv {
		if n := len(out); n > 0 && x[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], x[1])
			continue
		}
		out = append(out, x)
	}
	return out
}

// amiEvents plants truth T1's outcome: AMI admissions.
func (s *sim) amiEvents() {
	t := s.r.t
	l := &s.p.Latent
	male := 1.0
	if s.male {
		male = t.AMIMale
	}
	b := math.Log(t.AMIAge) / 10
	cuts := []int{s.onset[cDiabetes], s.onset[cHypertension]}
	index := math.MaxInt32
	if l.NewUser != "" {
		index = l.IndexDay
		cuts = append(cuts, index)
	}
	days := s.poissonProcess(t.AMIOther, b, 65, cuts, func(day int) float64 {
		if day >= index {
			return 0
		}
		m := male
		if s.has(cDiabetes, day) {
			m *= t.AMIDiabetes
		}
		if s.has(cHypertension, day) {
			m *= t.AMIHypertension
		}
		return m
	})
	if l.NewUser != "" {
		m := male * math.Pow(t.AMIAge, (l.IndexAge-65)/10)
		if l.IndexDiab {
			m *= t.AMIDiabetes
		}
		if l.NewUser == "A" {
			m *= t.HRComparator
		}
		days = append(days, s.poissonProcess(t.AMIBase, 0, 0, []int{index}, func(day int) float64 {
			if day < index {
				return 0
			}
			return m
		})...)
	}
	for _, d := range days {
		rs := amiReason
		if s.rng.Float64() < 0.4 {
			rs.proc = ""
		}
		s.admit(d, rs, amiCodes[s.rng.IntN(len(amiCodes))], true, "ami")
	}
}

// giEvents plants truth T2's outcome: GI-bleeding admissions, hazard ×
// HRCurrentUse while covered by an NSAID.
func (s *sim) giEvents() {
	t := s.r.t
	cov := s.nsaidCoverage()
	var cuts []int
	for _, c := range cov {
		cuts = append(cuts, c[0], c[1])
	}
	male := 1.0
	if s.male {
		male = t.GIMale
	}
	days := s.poissonProcess(t.GIBase, t.GISlope, 70, cuts, func(day int) float64 {
		for _, c := range cov {
			if day >= c[0] && day < c[1] {
				return male * t.HRCurrentUse
			}
		}
		return male
	})
	for _, d := range days {
		s.admit(d, giReason, giCodes[s.rng.IntN(len(giCodes))], true, "gi")
	}
}

// hipEvents plants truth T3: hip fractures from age 50 by age and sex only.
func (s *sim) hipEvents() {
	t := s.r.t
	at50 := s.dayAt(50)
	days := s.poissonProcess(t.HipAt80[s.sexI], t.HipSlope, 80, []int{at50}, func(day int) float64 {
		if day < at50 {
			return 0
		}
		return 1
	})
	for _, d := range days {
		rs := hipReason
		rs.proc = hipProcs[s.rng.IntN(len(hipProcs))]
		s.admit(d, rs, hipCodes[s.rng.IntN(len(hipCodes))], true, "hip")
		if s.rng.Float64() < 0.5 {
			s.dispenseIfObserved("B01AB05", s.p.Discharges[len(s.p.Discharges)-1].Discharge, 2)
		}
	}
}

func (s *sim) dispenseIfObserved(atc string, day int, packs float64) {
	if s.observed(day) {
		s.dispense(atc, day, packs)
	}
}

// secondary lists the chronic conditions present at a day as diagnoses.
func (s *sim) secondary(day int) []string {
	var out []string
	for c, code := range []string{dxDiabetes, dxHypertension, dxHeartFailure, dxCOPD, ""} {
		if s.has(c, day) {
			if c == cCancer {
				code = s.cancerSite().dx
			}
			out = append(out, code)
		}
	}
	return out
}

// admit records an admission on an observed day; urgent ones come through
// the emergency room.
func (s *sim) admit(day int, rs reason, dx string, urgent bool, kind string) {
	r, rng := s.r, s.rng
	if dx == "" {
		dx = rs.dx
	}
	d := Discharge{ID: "", Admission: day, Ward: rs.ward, DRG: rs.drg, Reason: kind}
	d.Hospital = s.hospital(day)
	los := 0
	if rng.Float64() < rs.dh {
		d.Regime = "2"
		d.Tariff = rs.tarif
	} else {
		d.Regime = "1"
		los = max(1, int(math.Round(rs.los*gamma(rng, 2)/2)))
		d.Tariff = math.Round(rs.tarif*(0.85+0.3*rng.Float64())*100) / 100
	}
	d.Discharge = min(day+los, r.end)
	d.Mode = "2"
	if s.p.Death != noDay && d.Discharge >= s.p.Death {
		d.Discharge, d.Mode = s.p.Death, "1"
	}
	if urgent {
		d.AdmissionType = "2"
	} else {
		d.AdmissionType = "1"
	}
	d.ID = fmt.Sprintf("%s%02d%05d", d.Hospital, yearOf(day)%100, s.nextID())
	d.Dx = append([]string{dx}, s.secondary(day)...)
	if len(d.Dx) > 6 {
		d.Dx = d.Dx[:6]
	}
	if rs.proc != "" {
		d.Proc = []string{rs.proc}
		d.ProcDate = []int{min(day+min(1, los), d.Discharge)}
	}
	s.p.Discharges = append(s.p.Discharges, d)
	if urgent {
		s.access(day, true, dx)
	}
}

// access records an emergency-room access.
func (s *sim) access(day int, admitted bool, dx string) {
	rng := s.rng
	a := Access{Day: day, Minute: rng.IntN(24 * 60), Admitted: admitted, Dx: []string{dx}}
	a.ID = fmt.Sprintf("PS%02d%06d", yearOf(day)%100, s.nextID())
	if admitted {
		a.Triage = []string{"giallo", "rosso", "verde"}[pick(rng, []float64{0.6, 0.25, 0.15})]
		a.Outcome = "ricovero"
	} else {
		a.Triage = []string{"bianco", "verde", "giallo", "rosso"}[pick(rng, []float64{0.2, 0.62, 0.16, 0.02})]
		a.Outcome = []string{"dimissione", "abbandono", "trasferimento"}[pick(rng, []float64{0.9, 0.07, 0.03})]
	}
	s.p.ER = append(s.p.ER, a)
}

func ageGroup3(age float64) int {
	switch {
	case age < 15:
		return 0
	case age < 65:
		return 1
	}
	return 2
}

// genericCare draws the admissions, emergency-room accesses, outpatient
// contacts and acute drugs not tied to a planted truth.
func (s *sim) genericCare() {
	r, p, rng := s.r, s.r.p, s.rng
	w := make([]float64, len(genericReasons))
	s.segments(func(from, to int, years, age float64) {
		g := ageGroup3(age)
		for i, rs := range genericReasons {
			w[i] = rs.w[g]
		}
		for n := poisson(rng, dischargeRate(s.sexI, age)*p.Discharges*years); n > 0; n-- {
			rs := genericReasons[pick(rng, w)]
			s.admit(s.uniformDay(from, to), rs, "", rng.Float64() < p.UrgentShare, "generic")
		}
		mid := (from + to) / 2
		if s.has(cHeartFailure, mid) {
			for n := poisson(rng, p.ChronicAdmissions[0]*years); n > 0; n-- {
				s.admit(s.uniformDay(from, to), hfReason, "", true, "hf")
			}
		}
		if s.has(cCOPD, mid) {
			for n := poisson(rng, p.ChronicAdmissions[1]*years); n > 0; n-- {
				s.admit(s.uniformDay(from, to), copdReason, "", true, "copd")
			}
		}
		for n := poisson(rng, p.ER[ageBand6(age)]*years); n > 0; n-- {
			day := s.uniformDay(from, to)
			er := erReasons[pick(rng, erWeights[ageGroup3(age)])]
			s.access(day, false, er.dx)
		}
		// Outpatient contacts: generic and by condition.
		for n := poisson(rng, p.Outpatient[ageBand6(age)]*years); n > 0; n-- {
			day := s.uniformDay(from, to)
			switch pick(rng, []float64{0.4, 0.45, 0.1, 0.05}) {
			case 0:
				s.service(day, []string{"visit", "89.01"}[rng.IntN(2)])
			case 1:
				s.service(day, "91.49.2", "90.62.2")
				for _, c := range []string{"90.27.1", "90.14.3", "90.16.3"} {
					if rng.Float64() < 0.6 {
						s.service(day, c)
					}
				}
			case 2:
				s.service(day, "87.44.1")
			default:
				s.service(day, "95.02")
			}
		}
		cond := func(c int, rate float64, codes ...string) {
			if !s.has(c, mid) {
				return
			}
			for n := poisson(rng, rate*years); n > 0; n-- {
				s.service(s.uniformDay(from, to), codes...)
			}
		}
		cond(cDiabetes, 2, "91.49.2", "90.27.1", "90.28.1")
		cond(cDiabetes, 1, "visit")
		cond(cHeartFailure, 1, "88.72.3", "89.52")
		cond(cHeartFailure, 2, "89.01")
		cond(cCOPD, 1, "89.37.1")
		cond(cHypertension, 0.5, "89.52")
		if s.has(cCancer, mid) && mid-s.onset[cCancer] < 5*365 {
			cond(cCancer, 4, "89.01")
		}
		for n := poisson(rng, p.Antibiotics*years); n > 0; n-- {
			s.dispense([]string{"J01CR02", "J01FA10"}[pick(rng, []float64{0.7, 0.3})], s.uniformDay(from, to), 1)
		}
		for n := poisson(rng, p.PPI*years); n > 0; n-- {
			day := s.uniformDay(from, to)
			s.dispense("A02BC01", day, 1)
			if rng.Float64() < 0.5 {
				s.dispenseIfObserved("A02BC01", day+14+rng.IntN(10), 1)
			}
		}
	})
	// Cancer: surgery at diagnosis, then chemotherapy in day hospital.
	if on := s.onset[cCancer]; on != noDay && on >= s.entry && on <= s.last() && s.observed(on) {
		site := s.cancerSite()
		s.admit(on, reason{site.dx, site.proc, site.drg, "09", 8, 0, 7500, [3]float64{}}, "", false, "cancer")
		if rng.Float64() < 0.5 {
			for k, d := 0, on+30; k < 6; k, d = k+1, d+21 {
				if d <= s.last() && s.observed(d) {
					rs := chemoReason
					s.admit(d, rs, "", false, "chemo")
					last := &s.p.Discharges[len(s.p.Discharges)-1]
					last.Dx = append([]string{"V5811", site.dx}, last.Dx[1:]...)
				}
			}
		}
	}
	// A terminal admission for a share of deaths.
	if dd := s.p.Death; dd != noDay && rng.Float64() < 0.35 {
		if a := dd - 1 - rng.IntN(10); a >= s.entry && s.observed(a) {
			for i, rs := range genericReasons {
				w[i] = rs.w[2]
			}
			s.admit(a, genericReasons[pick(rng, w)], "", true, "terminal")
		}
	}
	_ = r
}

var erWeights = func() [3][]float64 {
	var w [3][]float64
	for g := range w {
		for _, e := range erReasons {
			w[g] = append(w[g], e.w[g])
		}
	}
	return w
}()

// service records outpatient services on one day.
func (s *sim) service(day int, codes ...string) {
	for _, c := range codes {
		c = s.r.outpatientFor(c, day)
		s.p.Outpatient = append(s.p.Outpatient, Service{Day: day, Code: c, Qty: 1, Tariff: outpatientCatalogue[outpatientIndex[c]].tariff})
	}
}
