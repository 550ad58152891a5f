package synth

import (
	"fmt"
	"math"
)

// region is what every person's simulation shares: the config and the
// tables derived from it. It is read-only once built.
type region struct {
	cfg     Config
	p       *Params
	t       *Truth
	start   int // first day of the period
	end     int // last day of the period
	switch_ int // the mid-period switch day (products, outpatient codes)
	maxAge  float64
	// agePick[asl] are the band weights of the ASL's tilted pyramid.
	agePick  [][]float64
	aslShare []float64
	nGP      []int
	nPaed    []int
	// immigrants is the number of immigrants over the period.
	immigrants int
	// anomaly targets: person index → count, per kind.
	unknownAt, futureAt, beforeBirthAt map[int]int
	heavyAt                            int
	missingYear                        int
	// exemption 057 (COPD) is valid from this day.
	copd057 int
	// validFrom099 is when the chronic-disease exemption codes start.
	exemptFrom int
}

func newRegion(cfg Config) (*region, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := cfg.Params
	if len(p.Pyramid) != 21 || len(p.MaleShare) != 21 || len(p.Fertility) != 7 || len(p.ER) != 6 || len(p.Outpatient) != 6 || len(p.ASLs) == 0 {
		return nil, fmt.Errorf("synth: params: pyramid and male_share need 21 bands, fertility 7, er and outpatient 6, and at least one ASL")
	}
	r := &region{cfg: cfg, p: p, t: cfg.Truth}
	r.start = daysFromCivil(cfg.StartYear, 1, 1)
	r.end = daysFromCivil(cfg.StartYear+cfg.Years, 1, 1) - 1
	r.switch_ = daysFromCivil(cfg.StartYear+cfg.Years/2, 1, 1)
	r.copd057 = daysFromCivil(2017, 3, 19)
	r.exemptFrom = daysFromCivil(1999, 10, 11)
	// Nobody may be born before 1901 (the registry refuses dates before 1900).
	r.maxAge = math.Min(104.9, float64(r.start-daysFromCivil(1901, 1, 1))/365.25)
	for _, a := range p.ASLs {
		w := make([]float64, len(p.Pyramid))
		for b := range w {
			mid := float64(b*5) + 2.5
			if float64(b*5) >= r.maxAge {
				continue
			}
			w[b] = p.Pyramid[b] * math.Exp(a.AgeTilt*(mid-45)/10)
		}
		r.agePick = append(r.agePick, w)
		r.aslShare = append(r.aslShare, a.Share)
		adults := float64(cfg.Persons) * a.Share * 0.86
		kids := float64(cfg.Persons) * a.Share * 0.14
		r.nGP = append(r.nGP, max(1, int(math.Round(adults/float64(p.PatientsPerGP)))))
		r.nPaed = append(r.nPaed, max(1, int(math.Round(kids/float64(p.PatientsPerPaediatrician)))))
	}
	r.immigrants = int(math.Round(float64(cfg.Persons) * p.Immigration * float64(cfg.Years)))
	r.heavyAt = -1
	r.missingYear = -1
	if cfg.Anomalies {
		a := cfg.Truth.Anomalies
		n := cfg.Persons
		spread := func(count, offset int) map[int]int {
			m := map[int]int{}
			for j := 0; j < count; j++ {
				m[(offset+j*n/max(count, 1)+j)%n]++
			}
			return m
		}
		r.unknownAt = spread(a.UnknownCodes, 1)
		r.futureAt = spread(a.FutureDispensings, 2)
		r.beforeBirthAt = spread(a.BeforeBirth, 3)
		if a.HeavyDispensings > 0 {
			r.heavyAt = n / 2
		}
		r.missingYear = cfg.StartYear + min(a.MissingYear, cfg.Years-1)
	}
	return r, nil
}

// total is the number of persons simulated at the top level (residents
// and immigrants; newborns come with their mothers).
func (r *region) total() int { return r.cfg.Persons + r.immigrants }

// personID maps a top-level index to its person identifier.
func personID(idx int) int64 { return int64(idx) + 1 }

// newbornID is the identifier of a mother's k-th newborn of the period.
func newbornID(mother int64, k int) int64 { return 100_000_000_000 + mother*10 + int64(k) }

// validProduct reports whether a product is valid at a day.
func (r *region) validProduct(i, day int) bool {
	from, to := r.productValidity(i)
	return day >= from && (to == noDay || day <= to)
}

// productValidity returns a product's first and last valid day.
func (r *region) productValidity(i int) (from, to int) {
	return r.validity(products[i].from, products[i].to)
}

func (r *region) validity(f, t int) (from, to int) {
	from, to = daysFromCivil(2000, 1, 1), noDay
	if f == mid {
		from = r.switch_
	}
	if t == mid {
		to = r.switch_ - 1
	}
	return from, to
}

// productFor returns a product of the ATC code valid at the day.
func (r *region) productFor(atc string, day int) int {
	for _, i := range productsByATC[atc] {
		if r.validProduct(i, day) {
			return i
		}
	}
	panic("synth: no product valid for " + atc)
}

// outpatientFor returns the code valid at the day for a service: "visit"
// is the first visit, whose code changes at the mid-period switch.
func (r *region) outpatientFor(code string, day int) string {
	if code == "visit" {
		if day >= r.switch_ {
			return "89.7A"
		}
		return "89.7"
	}
	return code
}

// gpID names a GP (or, under 14, a paediatrician) of an ASL.
func (r *region) gpID(asl int, paed bool, k int) string {
	if paed {
		return fmt.Sprintf("PLS%s%03d", r.p.ASLs[asl].Code, k%r.nPaed[asl]+1)
	}
	return fmt.Sprintf("MMG%s%04d", r.p.ASLs[asl].Code, k%r.nGP[asl]+1)
}
