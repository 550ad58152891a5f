package suppress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// countMembers are the members of a results document that hold counts of
// persons, entries or events.
var countMembers = map[string]bool{"persons": true, "entries": true, "n": true, "events": true, "n_risk": true, "count": true, "missing": true}

// SmallCounts lists, by JSON path, every count from 1 to k-1 in a results
// document as JSON (what suppression must leave none of): the check the
// tests of the API and of this package run on what is served.
func SmallCounts(doc []byte, k int64) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("suppress: read document: %w", err)
	}
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for key := range x {
				keys = append(keys, key)
			}
			sort.Strings(keys)
			for _, key := range keys {
				if n, ok := x[key].(json.Number); ok && countMembers[key] {
					if f, err := n.Float64(); err == nil && f >= 1 && f < float64(k) {
						out = append(out, path+"."+key+"="+n.String())
					}
				}
				walk(path+"."+key, x[key])
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("", v)
	return out, nil
}
