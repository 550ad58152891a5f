package cohort

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// Bind returns a copy of the protocol with every placeholder replaced by
// its parameter's value (given as text, e.g. "2016", "2016-01-01",
// "ASL01"), or its default; the result has no parameters and is validated.
// Unknown names in params, missing values without default and values
// outside a parameter's range are errors.
func (p *Protocol) Bind(params map[string]string) (*Protocol, error) {
	var es errs
	values := map[string]any{}
	types := map[string]string{}
	for i := range p.Parameters {
		prm := &p.Parameters[i]
		path := index("parameters", i)
		types[prm.Name] = prm.Type
		s, ok := params[prm.Name]
		if !ok {
			if prm.Default == nil {
				es.add(path, "parameter %q needs a value", prm.Name)
				continue
			}
			s = defaultString(prm.Default)
		}
		val, err := prm.parse(s)
		if err != nil {
			es.add(path, "parameter %q: %s", prm.Name, err.Error())
			continue
		}
		values[prm.Name] = val
	}
	var unknown []string
	for k := range params {
		if _, ok := types[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		es.add("parameters", "unknown parameter %q (declared: %s)", k, quoteList(slices.Sorted(mapKeys(types))))
	}
	if err := es.err(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("cohort: bind: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("cohort: bind: %w", err)
	}
	delete(raw, "parameters")
	out := substitute(&es, "", raw, values, types)
	if err := es.err(); err != nil {
		return nil, err
	}
	b, err = json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("cohort: bind: %w", err)
	}
	q, err := DecodeBytes(b)
	if err != nil {
		return nil, err
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return q, nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// substitute replaces every placeholder object in raw.
func substitute(es *errs, path string, raw any, values map[string]any, types map[string]string) any {
	switch x := raw.(type) {
	case map[string]any:
		if name, ok := x["param"].(string); ok && isPlaceholder(x) {
			val, ok := values[name]
			if !ok {
				es.add(path, "unknown parameter %q", name)
				return nil
			}
			if day, _ := x["day"].(string); day != "" {
				year, ok := val.(int)
				if !ok {
					es.add(path, "parameter %q is not an integer year", name)
					return nil
				}
				if n, ok := x["add_years"].(json.Number); ok {
					add, _ := n.Int64()
					year += int(add)
				}
				return fmt.Sprintf("%04d-%s", year, day)
			}
			return val
		}
		out := make(map[string]any, len(x))
		for k, v := range x {
			out[k] = substitute(es, field(path, k), v, values, types)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = substitute(es, index(path, i), v, values, types)
		}
		return out
	}
	return raw
}

// isPlaceholder tells a placeholder from an object that merely has a
// member named "param" (none does in version 1).
func isPlaceholder(m map[string]any) bool {
	for k := range m {
		switch k {
		case "param", "day", "add_years":
		default:
			return false
		}
	}
	return true
}
