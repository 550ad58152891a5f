package cohort

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"sync"
)

// MaxProtocolBytes is the largest protocol document Decode reads.
const MaxProtocolBytes = 4 << 20

// MaxNesting is the deepest nesting of JSON objects and arrays Decode
// reads: a protocol with MaxGroupDepth nested criteria groups needs 95
// levels (three per group, and a member's window at the bottom). Deeper documents are refused with the path
// where they pass it (encoding/json's own limit, 10,000, says "exceeded
// max depth" without a path).
const MaxNesting = 100

// MaxGroupDepth is how deep criteria groups may nest (a top-level group
// is depth 1).
const MaxGroupDepth = 30

// tooDeep scans a JSON document and returns the path of the first value
// nested more than max levels deep. Malformed JSON is left to the
// decoder: the scan only tracks strings, brackets, keys and commas.
func tooDeep(b []byte, max int) (string, bool) {
	type frame struct {
		obj    bool
		key    string
		idx    int
		expKey bool // an object's next string is a key
	}
	var st []frame
	path := func() string {
		p := ""
		for _, f := range st {
			if f.obj {
				p = field(p, f.key)
			} else {
				p = index(p, f.idx)
			}
		}
		return p
	}
	for i := 0; i < len(b); i++ {
		switch ch := b[i]; ch {
		case '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			if n := len(st); n > 0 && st[n-1].obj && st[n-1].expKey {
				var k string
				if j < len(b) && json.Unmarshal(b[i:j+1], &k) == nil {
					st[n-1].key = k
				}
				st[n-1].expKey = false
			}
			i = j
		case '{', '[':
			if len(st) == max {
				return path(), true
			}
			st = append(st, frame{obj: ch == '{', expKey: ch == '{'})
		case '}', ']':
			if len(st) > 0 {
				st = st[:len(st)-1]
			}
		case ',':
			if n := len(st); n > 0 {
				if st[n-1].obj {
					st[n-1].expKey = true
				} else {
					st[n-1].idx++
				}
			}
		}
	}
	return "", false
}

// Decode reads one protocol document strictly: unknown members, values of
// the wrong type and trailing data are errors, reported all at once as
// ValidationErrors with their JSON paths. It does not validate the
// protocol's meaning: call Validate (and Check) on the result.
func Decode(r io.Reader) (*Protocol, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxProtocolBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cohort: read protocol: %w", err)
	}
	if len(b) > MaxProtocolBytes {
		return nil, ValidationErrors{{Msg: fmt.Sprintf("protocol is larger than %d bytes", MaxProtocolBytes)}}
	}
	if path, deep := tooDeep(b, MaxNesting); deep {
		return nil, ValidationErrors{{Path: path, Msg: fmt.Sprintf("nested more than %d levels deep (criteria groups nest at most %d levels, docs/protocol.md)", MaxNesting, MaxGroupDepth)}}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, ValidationErrors{{Msg: "not valid JSON: " + trimJSONErr(err)}}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, ValidationErrors{{Msg: "not valid JSON: data after the protocol document"}}
	}
	if _, ok := raw.(map[string]any); !ok {
		return nil, ValidationErrors{{Msg: "a protocol must be a JSON object"}}
	}
	var p Protocol
	var e errs
	decodeValue(&e, "", raw, reflect.ValueOf(&p).Elem())
	if err := e.err(); err != nil {
		return nil, err
	}
	return &p, nil
}

// DecodeBytes is Decode on a byte slice.
func DecodeBytes(b []byte) (*Protocol, error) { return Decode(bytes.NewReader(b)) }

func trimJSONErr(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// decodeValue stores raw (from a UseNumber decoding) into v, adding an
// error with its path for every member that does not fit.
func decodeValue(e *errs, path string, raw any, v reflect.Value) {
	if v.Kind() == reflect.Pointer {
		if raw == nil {
			return
		}
		nv := reflect.New(v.Type().Elem())
		decodeValue(e, path, raw, nv.Elem())
		v.Set(nv)
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		b, err := json.Marshal(raw)
		if err == nil {
			err = v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(b)
		}
		if err != nil {
			e.add(path, "%s", err.Error())
		}
		return
	}
	switch v.Kind() {
	case reflect.Interface:
		if raw == nil {
			return // null: the interface stays nil (reflect.ValueOf(nil) cannot be set)
		}
		v.Set(reflect.ValueOf(normalizeNumbers(raw)))
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			e.add(path, "must be an object, got %s", jsonKind(raw))
			return
		}
		fields := structFields(v.Type())
		for _, k := range sortedKeys(m) {
			fi, ok := fields[k]
			if !ok {
				e.add(field(path, k), "unknown field; allowed here: %s", quoteList(fieldNames(v.Type())))
				continue
			}
			decodeValue(e, field(path, k), m[k], v.Field(fi))
		}
	case reflect.Slice:
		if raw == nil {
			return
		}
		a, ok := raw.([]any)
		if !ok {
			e.add(path, "must be an array, got %s", jsonKind(raw))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(a), len(a))
		for i, x := range a {
			decodeValue(e, index(path, i), x, s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m, ok := raw.(map[string]any)
		if !ok {
			e.add(path, "must be an object, got %s", jsonKind(raw))
			return
		}
		mv := reflect.MakeMapWithSize(v.Type(), len(m))
		for _, k := range sortedKeys(m) {
			ev := reflect.New(v.Type().Elem()).Elem()
			decodeValue(e, field(path, k), m[k], ev)
			mv.SetMapIndex(reflect.ValueOf(k), ev)
		}
		v.Set(mv)
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			e.add(path, "must be a string, got %s", jsonKind(raw))
			return
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			e.add(path, "must be true or false, got %s", jsonKind(raw))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := raw.(json.Number)
		if !ok {
			e.add(path, "must be an integer, got %s", jsonKind(raw))
			return
		}
		i, err := n.Int64()
		if err != nil && !strings.ContainsAny(n.String(), ".eE") {
			err, i = nil, 1<<62 // an integer of more than 64 bits: out of range below
		}
		if err != nil {
			e.add(path, "must be an integer, got %s", clip(n.String()))
			return
		}
		if v.OverflowInt(i) || i > 1<<31-1 || i < -(1<<31) {
			e.add(path, "out of range: must be between %d and %d, got %s", -(1 << 31), 1<<31-1, clip(n.String()))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		n, ok := raw.(json.Number)
		if !ok {
			e.add(path, "must be a number, got %s", jsonKind(raw))
			return
		}
		f, err := n.Float64()
		if err != nil {
			e.add(path, "must be a finite number, got %s", clip(n.String()))
			return
		}
		v.SetFloat(f)
	default:
		panic("cohort: decode: unsupported type " + v.Type().String())
	}
}

// normalizeNumbers turns json.Number into int64 or float64 inside a free
// value (a parameter default).
func normalizeNumbers(raw any) any {
	switch x := raw.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalizeNumbers(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, v := range x {
			out[k] = normalizeNumbers(v)
		}
		return out
	}
	return raw
}

func jsonKind(raw any) string {
	switch raw.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", raw)
}

var fieldCache sync.Map // reflect.Type → map[string]int

// structFields maps JSON member names to field indexes.
func structFields(t reflect.Type) map[string]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]int)
	}
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		m[name] = i
	}
	fieldCache.Store(t, m)
	return m
}

// fieldNames is a struct's JSON member names in declaration order.
func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" && f.IsExported() {
			names = append(names, name)
		}
	}
	return names
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
