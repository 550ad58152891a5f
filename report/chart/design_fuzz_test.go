package chart

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/report/format"
	"github.com/stretchr/testify/require"
)

// mutate changes one value of a decoded JSON tree at random: a number to
// an extreme, zero or a negative; a member removed or set to null; an
// array emptied or an element duplicated; a string to markup.
func mutate(r *rand.Rand, v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return x
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		k := keys[r.IntN(len(keys))]
		switch r.IntN(8) {
		case 0:
			delete(x, k)
		case 1:
			x[k] = nil
		default:
			x[k] = mutate(r, x[k])
		}
		return x
	case []any:
		if len(x) == 0 {
			return x
		}
		i := r.IntN(len(x))
		switch r.IntN(6) {
		case 0:
			return x[:0]
		case 1:
			return append(x, x[i])
		default:
			x[i] = mutate(r, x[i])
			return x
		}
	case float64:
		return []float64{0, -1, 1, -100000, 2147483647, -2147483648, x * 3, -x}[r.IntN(8)]
	case string:
		return []string{"", "<b>&amp;\"'</b>", "all", "index_end", x + x, "\x01bad"}[r.IntN(6)]
	}
	return v
}

// TestDesignMutations draws thousands of mutated example protocols: every
// one that decodes gives well-formed SVG and no error (the editor sends
// what the user is typing).
func TestDesignMutations(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(12, 13))
	n := 600
	if testing.Short() {
		n = 100
	}
	decoded := 0
	for _, name := range examples(t) {
		src := readExample(t, name)
		for i := 0; i < n; i++ {
			var tree any
			require.NoError(t, json.Unmarshal(src, &tree))
			for m := 0; m < 1+r.IntN(6); m++ {
				tree = mutate(r, tree)
			}
			b, err := json.Marshal(tree)
			require.NoError(t, err)
			p, err, panicked := decodeSafe(b)
			if panicked != nil {
				// a cohort.Decode bug, not the diagram's: reported once
				if !decodePanicLogged {
					decodePanicLogged = true
					t.Logf("cohort.DecodeBytes panics (%v) on %s", panicked, b)
				}
				continue
			}
			if err != nil {
				continue
			}
			decoded++
			got, err := Design(p, DesignOptions{Lang: []format.Lang{format.EN, format.IT}[i%2]})
			require.NoError(t, err, "protocol %s", b)
			wellFormed(t, got)
		}
	}
	require.Greater(t, decoded, n/2, "most mutations should decode")
}

var decodePanicLogged bool

func decodeSafe(b []byte) (p *cohort.Protocol, err error, panicked any) {
	defer func() { panicked = recover() }()
	p, err = cohort.DecodeBytes(b)
	return p, err, nil
}

// FuzzDesign: go test ./report/chart -run XXX -fuzz FuzzDesign
func FuzzDesign(f *testing.F) {
	files := examples(f)
	for _, name := range files {
		f.Add(readExample(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err, panicked := decodeSafe(b)
		if err != nil || panicked != nil {
			return
		}
		got, err := Design(p, DesignOptions{})
		if err != nil {
			t.Fatalf("design: %v", err)
		}
		if !bytes.HasPrefix(got, []byte("<svg")) {
			t.Fatal("not an svg")
		}
		wellFormed(t, got)
	})
}
