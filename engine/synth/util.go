package synth

import (
	"math"
	"math/rand/v2"
	"strconv"
)

// Days are counted from 1970-01-01 (day 0), negative before.

// daysFromCivil returns the day number of a calendar date (H. Hinnant's
// algorithm, proleptic Gregorian).
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civil returns the calendar date of a day number.
func civil(z int) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return
}

func yearOf(day int) int { y, _, _ := civil(day); return y }

// appendDate appends YYYY-MM-DD.
func appendDate(b []byte, day int) []byte {
	y, m, d := civil(day)
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	return b
}

// appendMoney appends a euro amount with two decimals.
func appendMoney(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, math.Round(v*100)/100, 'f', 2, 64)
}

// splitmix64 mixes a 64-bit value (Steele, Lea, Flood 2014).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// personRNG returns the generator of one person: a PCG seeded from the
// run's seed and the person's identifier only.
func personRNG(seed uint64, personID int64) *rand.Rand {
	a := splitmix64(seed ^ splitmix64(uint64(personID)))
	b := splitmix64(a ^ 0x5851f42d4c957f2d)
	return rand.New(rand.NewPCG(a, b))
}

// poisson draws a Poisson count (Knuth below 30, normal approximation above).
func poisson(r *rand.Rand, mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		n := int(math.Round(mean + math.Sqrt(mean)*r.NormFloat64()))
		if n < 0 {
			n = 0
		}
		return n
	}
	l := math.Exp(-mean)
	k, p := 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// gamma draws Gamma(shape, 1) (Marsaglia and Tsang 2000).
func gamma(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gamma(r, shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

// beta draws Beta(a, b).
func beta(r *rand.Rand, a, b float64) float64 {
	x := gamma(r, a)
	return x / (x + gamma(r, b))
}

// pick returns an index drawn with the given weights.
func pick(r *rand.Rand, w []float64) int {
	s := 0.0
	for _, v := range w {
		s += v
	}
	u := r.Float64() * s
	for i, v := range w {
		u -= v
		if u < 0 {
			return i
		}
	}
	return len(w) - 1
}

// gompertzNext returns the age at which a Poisson process of intensity
// m × a × exp(b × (age − ref)) per year, started at age x, has its next
// event, given a unit exponential draw e. ok is false when the hazard is 0.
func gompertzNext(x, e, m, a, b, ref float64) (float64, bool) {
	ma := m * a
	if ma <= 0 {
		return 0, false
	}
	if b == 0 {
		return x + e/ma, true
	}
	v := math.Exp(b*(x-ref)) + e*b/ma
	return ref + math.Log(v)/b, true
}
