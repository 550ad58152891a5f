package results_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/report/results"
)

// TestRoundTrip decodes each golden document (written by the engine, see
// engine/study's TestExampleDocuments) and encodes it again: the bytes are
// the same, indented as stored and compact.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	require.Len(t, paths, 4)
	for _, path := range paths {
		want, err := os.ReadFile(path)
		require.NoError(t, err)
		doc, err := results.Decode(want)
		require.NoError(t, err, path)
		got, err := json.MarshalIndent(doc, "", "  ")
		require.NoError(t, err, path)
		require.Equal(t, string(want), string(got)+"\n", path)

		var compact bytes.Buffer
		require.NoError(t, json.Compact(&compact, want))
		got, err = json.Marshal(doc)
		require.NoError(t, err, path)
		require.Equal(t, compact.String(), string(got), path)
	}
}

// TestTyped: the results come back as the concrete types of their kinds,
// a stratified one with its classes typed by the analysis's kind.
func TestTyped(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "models.json"))
	require.NoError(t, err)
	doc, err := results.Decode(b)
	require.NoError(t, err)
	want := map[string]string{
		"adjusted": "*results.Cox", "attrition": "results.Attrition", "by-sex": "*results.Stratified",
		"crude": "*results.Cox", "km": "*results.KaplanMeier", "lm": "*results.Linear",
		"logit": "*results.Logistic", "rates-by-sex": "*results.Stratified", "table1": "*results.Descriptive",
	}
	require.Equal(t, []string{"adjusted", "attrition", "by-sex", "crude", "km", "lm", "logit", "rates-by-sex", "table1"}, doc.AnalysisNames())
	for name, typ := range want {
		require.Equal(t, typ, typeName(doc.Analyses[name].Result), name)
	}
	s := doc.Analyses["by-sex"].Result.(*results.Stratified)
	require.Equal(t, "sex", s.StratifyBy)
	require.Len(t, s.Classes, 2)
	require.Nil(t, s.Classes[0].Result, "class F failed")
	require.NotEmpty(t, s.Classes[0].Error)
	cox := s.Classes[1].Result.(*results.Cox)
	require.Equal(t, "exposure=A", cox.Coefficients[0].Term)
	r := doc.Analyses["rates-by-sex"].Result.(*results.Stratified).Classes[0].Result.(*results.Rates)
	require.Equal(t, "A", *r.Groups[0].Group)
	require.Equal(t, results.FormBaseline, doc.Analyses["crude"].Form)
	require.Equal(t, results.KindCox, doc.Analyses["crude"].Kind)
}

func typeName(r results.Result) string {
	switch r.(type) {
	case *results.Cox:
		return "*results.Cox"
	case *results.KaplanMeier:
		return "*results.KaplanMeier"
	case *results.Logistic:
		return "*results.Logistic"
	case *results.Linear:
		return "*results.Linear"
	case *results.Rates:
		return "*results.Rates"
	case *results.Descriptive:
		return "*results.Descriptive"
	case results.Attrition:
		return "results.Attrition"
	case *results.Stratified:
		return "*results.Stratified"
	case nil:
		return "nil"
	}
	return "?"
}

// TestDecodeErrors: a result of an unknown kind, or of the wrong shape for
// its kind, is refused with the analysis's kind named.
func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for doc, msg := range map[string]string{
		`{"analyses": {"a": {"kind": "mystery", "result": {}}}}`:         `kind "mystery"`,
		`{"analyses": {"a": {"kind": "cox", "result": [1]}}}`:            `kind "cox"`,
		`{"analyses": {"a": {"kind": "attrition", "result": {"x": 1}}}}`: "cannot unmarshal",
	} {
		_, err := results.Decode([]byte(doc))
		require.ErrorContains(t, err, msg, doc)
	}
	// An unknown kind with no result (not computed) is read.
	d, err := results.Decode([]byte(`{"analyses": {"a": {"kind": "mystery", "result": null, "error": "not computed yet"}}}`))
	require.NoError(t, err)
	require.Nil(t, d.Analyses["a"].Result)
}
