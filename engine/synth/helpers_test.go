package synth

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// generate runs cfg and returns every person, newborns included, with the
// region.
func generate(t testing.TB, cfg Config) ([]*Person, *region) {
	t.Helper()
	r, err := newRegion(cfg)
	require.NoError(t, err)
	var out []*Person
	var add func(p *Person)
	add = func(p *Person) {
		out = append(out, p)
		for _, n := range p.Newborns {
			add(n)
		}
	}
	err = Generate(context.Background(), cfg, func(c *Chunk) error {
		for _, p := range c.Persons {
			add(p)
		}
		return nil
	})
	require.NoError(t, err)
	return out, r
}

// personYears is the observed time of a person from their enrolment rows.
func personYears(p *Person, end int) float64 {
	d := 0
	for _, s := range p.Spells {
		e := s.End
		if e == noDay {
			e = end
		}
		d += e - s.Start + 1
	}
	return float64(d) / year
}

// coveredDays returns the NSAID coverage of a person computed from their
// pharmacy rows: [day, day + packs × DDD per pack).
func coveredDays(p *Person) [][2]int {
	var iv [][2]int
	for _, d := range p.Dispensing {
		pr := products[d.Product]
		if strings.HasPrefix(pr.atc, "M01A") {
			iv = append(iv, [2]int{d.Day, d.Day + int(math.Ceil(d.Packs*pr.dddPerPack))})
		}
	}
	return mergeIntervals(iv)
}

func hasPrefixAny(s string, ps ...string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
