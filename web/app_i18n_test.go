package web_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/engine/etl"
)

// readMessages reads the application's message table of a language.
func readMessages(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := os.ReadFile("static/i18n/" + lang + ".json")
	require.NoError(t, err)
	var m map[string]string
	require.NoError(t, json.Unmarshal(b, &m), "static/i18n/%s.json", lang)
	return m
}

// TestAppMessages checks that English and Italian have the same keys,
// that every key the scripts name literally exists, and that every
// property and enum value of the protocol schema has a label in both (the
// editor labels its controls with them).
func TestAppMessages(t *testing.T) {
	t.Parallel()
	en, it := readMessages(t, "en"), readMessages(t, "it")
	for k := range en {
		_, ok := it[k]
		require.True(t, ok, "key %q is in en.json but not in it.json", k)
	}
	for k := range it {
		_, ok := en[k]
		require.True(t, ok, "key %q is in it.json but not in en.json", k)
	}
	files, err := filepath.Glob("static/*.js")
	require.NoError(t, err)
	lit := regexp.MustCompile(`\bt\('([a-z_]+\.[a-z_0-9]+)'[,)]`)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range lit.FindAllSubmatch(b, -1) {
			_, ok := en[string(m[1])]
			require.True(t, ok, "%s names message %q, missing from en.json", f, m[1])
			n++
		}
	}
	require.Greater(t, n, 100, "the scripts' messages were not found")
	props, enums := schemaWords(t)
	for _, p := range props {
		_, ok := en["f."+p]
		require.True(t, ok, "schema property %q has no label", p)
	}
	for _, e := range enums {
		_, ok := en["e."+e]
		require.True(t, ok, "schema value %q has no label", e)
	}
}

// TestAppSchemaCopy checks that the editor's copy of the protocol schema
// is the schema.
func TestAppSchemaCopy(t *testing.T) {
	t.Parallel()
	a, err := os.ReadFile("../schema/protocol.schema.json")
	require.NoError(t, err)
	b, err := os.ReadFile("static/protocol.schema.json")
	require.NoError(t, err)
	require.Equal(t, string(a), string(b), "copy schema/protocol.schema.json to web/static/protocol.schema.json")
}

// schemaWords lists the property names and enum values of the protocol
// schema.
func schemaWords(t *testing.T) (props, enums []string) {
	t.Helper()
	b, err := os.ReadFile("../schema/protocol.schema.json")
	require.NoError(t, err)
	var s any
	require.NoError(t, json.Unmarshal(b, &s))
	ps, es := map[string]bool{}, map[string]bool{}
	var walk func(any)
	walk = func(n any) {
		switch v := n.(type) {
		case map[string]any:
			if p, ok := v["properties"].(map[string]any); ok {
				for k := range p {
					ps[k] = true
				}
			}
			if e, ok := v["enum"].([]any); ok {
				for _, x := range e {
					if s, ok := x.(string); ok {
						es[s] = true
					}
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(s)
	for k := range ps {
		props = append(props, k)
	}
	for k := range es {
		enums = append(enums, k)
	}
	sort.Strings(props)
	sort.Strings(enums)
	return props, enums
}

// schemaPointers lists the JSON pointer of every property definition of
// the protocol schema (#/$defs/criterion/properties/window …), leaving
// out the conditions (allOf, if/then, not, anyOf) that define none.
func schemaPointers(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../schema/protocol.schema.json")
	require.NoError(t, err)
	var s map[string]any
	require.NoError(t, json.Unmarshal(b, &s))
	var out []string
	var walk func(ptr string, n any)
	walk = func(ptr string, n any) {
		m, ok := n.(map[string]any)
		if !ok {
			return
		}
		if p, ok := m["properties"].(map[string]any); ok {
			for k, c := range p {
				out = append(out, ptr+"/properties/"+k)
				walk(ptr+"/properties/"+k, c)
			}
		}
		if it, ok := m["items"]; ok {
			walk(ptr+"/items", it)
		}
		if ap, ok := m["additionalProperties"].(map[string]any); ok {
			walk(ptr+"/additionalProperties", ap)
		}
		if alts, ok := m["oneOf"].([]any); ok {
			for i, a := range alts {
				walk(ptr+"/oneOf/"+strconv.Itoa(i), a)
			}
		}
	}
	walk("#", s)
	for k, d := range s["$defs"].(map[string]any) {
		walk("#/$defs/"+k, d)
	}
	sort.Strings(out)
	return out
}

// TestAppAttritionMessages: the application writes every attrition label
// the compiler makes in both languages (attLabel in app.js), the English
// one the compiler's own and the Italian with the same arguments.
func TestAppAttritionMessages(t *testing.T) {
	t.Parallel()
	en, it := readMessages(t, "en"), readMessages(t, "it")
	for _, k := range cohort.LabelKeys() {
		f, _ := cohort.LabelFormat(k)
		n := 0
		want := regexp.MustCompile(`%s`).ReplaceAllStringFunc(f, func(string) string { n++; return "{" + strconv.Itoa(n-1) + "}" })
		require.Equal(t, want, en["attrition."+k], "attrition.%s in en.json", k)
		for i := range n {
			require.Contains(t, it["attrition."+k], "{"+strconv.Itoa(i)+"}", "attrition.%s in it.json", k)
		}
	}
}

// TestAppDataMessages: the data page names every quarantine reason the
// import uses (engine/etl/values.go), every kind of date out of range
// (engine/etl/diagnose.go) and every shipped area of interest in both
// languages.
func TestAppDataMessages(t *testing.T) {
	t.Parallel()
	en, it := readMessages(t, "en"), readMessages(t, "it")
	has := func(key string) {
		t.Helper()
		require.NotEmpty(t, en[key], "%s in en.json", key)
		require.NotEmpty(t, it[key], "%s in it.json", key)
	}
	src, err := os.ReadFile("../engine/etl/values.go")
	require.NoError(t, err)
	reasons := regexp.MustCompile(`(?m)^\s+Reason\w+\s+= "(\w+)"`).FindAllSubmatch(src, -1)
	require.Greater(t, len(reasons), 15)
	for _, m := range reasons {
		has("reason." + string(m[1]))
	}
	src, err = os.ReadFile("../engine/etl/diagnose.go")
	require.NoError(t, err)
	line := regexp.MustCompile(`DatesOutOfRange = map\[string\]int\{(.*)\}`).FindSubmatch(src)
	require.NotNil(t, line)
	kinds := regexp.MustCompile(`"(\w+)":`).FindAllSubmatch(line[1], -1)
	require.Len(t, kinds, 4)
	for _, m := range kinds {
		has("range." + string(m[1]))
	}
	areas, err := etl.Areas()
	require.NoError(t, err)
	for _, a := range areas {
		has("area." + a.Name)
		require.Equal(t, a.Title, en["area."+a.Name], "the English title is the area's own")
	}
}
