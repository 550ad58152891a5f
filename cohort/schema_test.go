package cohort

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

var (
	schemaOnce sync.Once
	schemaC    *jsonschema.Schema
	schemaErr  error
)

// protocolSchema compiles schema/protocol.schema.json once.
func protocolSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		path := filepath.Join("..", "schema", "protocol.schema.json")
		f, err := os.Open(path)
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		if err := c.AddResource("protocol.schema.json", doc); err != nil {
			schemaErr = err
			return
		}
		schemaC, schemaErr = c.Compile("protocol.schema.json")
	})
	require.NoError(t, schemaErr)
	return schemaC
}

func schemaValidate(t *testing.T, doc []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return protocolSchema(t).Validate(v)
}

// testProtocols is every protocol document the tests use: the examples and
// the golden-test cases.
func testProtocols(t *testing.T) map[string][]byte {
	docs := map[string][]byte{}
	for _, name := range exampleNames {
		docs["docs/examples/"+name] = readExample(t, name)
	}
	matches, err := filepath.Glob(filepath.Join("testdata", "*", "protocol.json"))
	require.NoError(t, err)
	for _, m := range matches {
		b, err := os.ReadFile(m)
		require.NoError(t, err)
		docs[m] = b
	}
	return docs
}

func TestSchemaAcceptsEveryTestProtocol(t *testing.T) {
	t.Parallel()
	for name, doc := range testProtocols(t) {
		require.NoError(t, schemaValidate(t, doc), name)
		// And its bound form, where placeholders became values.
		p, err := DecodeBytes(doc)
		require.NoError(t, err, name)
		q, err := p.Bind(nil)
		require.NoError(t, err, name)
		b, err := json.Marshal(q)
		require.NoError(t, err)
		require.NoError(t, schemaValidate(t, b), name+" (bound)")
	}
}

// TestSchemaAndDecoderAgree feeds documents that break the structure both
// must enforce; each must be refused by the schema and by Decode+Validate,
// and its valid twin accepted by both.
func TestSchemaAndDecoderAgree(t *testing.T) {
	t.Parallel()
	base := string(readExample(t, "comparator-new-users"))
	cases := []struct{ name, old, new string }{
		{"unknown top-level member", `"version": 1,`, `"version": 1, "author": "x",`},
		{"unknown member in a window", `"window": {"start": -365, "end": -1}`, `"window": {"start": -365, "end": -1, "inclusive": true}`},
		{"version 2", `"version": 1,`, `"version": 2,`},
		{"string for a day offset", `"start": -365,`, `"start": "-365",`},
		{"unknown anchor", `"window": {"start": -365, "end": -1}`, `"window": {"start": -365, "end": -1, "anchor": "discharge"}`},
		{"unknown system", `"system": "exemption"`, `"system": "icd10"`},
		{"unknown source", `"source": "exemption"`, `"source": "registry"`},
		{"unknown covariate kind", `"kind": "age"}`, `"kind": "bmi"}`},
		{"unknown analysis kind", `"kind": "kaplan_meier"`, `"kind": "poisson"`},
		{"ties unknown", `"ties": "efron"}`, `"ties": "exact"}`},
		{"ci unknown", `"ties": "efron"}`, `"ties": "efron", "ci": "bootstrap"}`},
		{"criterion without a kind", `"event": "ami_admission", "window"`, `"window"`},
		{"sex lower-case", `"reference": "F"}`, `"reference": "F"}, {"name": "s2", "kind": "sex", "reference": "F", "timing": 1}`},
		{"bad name", `"name": "comparator-new-users"`, `"name": "Comparator new users"`},
		{"bad date", `"end": "2018-12-31"`, `"end": "31/12/2018"`},
		{"placeholder with unknown member", `"age": {"min": 40,`, `"age": {"min": {"param": "a", "x": 1},`},
		{"presence without window", `"event": "antidiabetic_dispensing", "window": {"start": -365, "end": -1}`, `"event": "antidiabetic_dispensing"`},
		{"cox without covariates", `"covariates": ["exposure"], "ties": "efron"`, `"ties": "efron"`},
		{"group without criteria", `{"name": "no AMI admission in the year before", "event": "ami_admission", "window": {"start": -365, "end": -1}, "count": {"at_most": 0}}`, `{"name": "g", "group": {"op": "any", "criteria": []}}`},
		{"negative count", `"count": {"at_most": 0}`, `"count": {"at_most": -1}`},
		{"library and system", `{"name": "antidiabetics", "title": "Drugs used in diabetes", "system": "atc", "include": {"prefixes": ["A10"]}}`, `{"name": "antidiabetics", "library": "diabetes_drugs@1", "system": "atc"}`},
		{"library without version", `{"name": "antidiabetics", "title": "Drugs used in diabetes", "system": "atc", "include": {"prefixes": ["A10"]}}`, `{"name": "antidiabetics", "library": "diabetes_drugs"}`},
		{"match on an age", `{"name": "age", "kind": "age"}`, `{"name": "age", "kind": "age", "match": "overlap"}`},
		{"unknown match", `"event": "diabetes_exemption", "window": {"end": -1}`, `"event": "diabetes_exemption", "window": {"end": -1}, "match": "during"`},
		{"overlap of a time-dependent covariate", `"event": "diabetes_exemption", "window": {"end": -1}`, `"event": "diabetes_exemption", "window": {"end": -1}, "match": "overlap", "timing": "time_dependent"`},
		{"missing population accrual", `"accrual": {"start": "2013-01-01", "end": "2018-12-31"},`, ``},
	}
	require.NoError(t, schemaValidate(t, []byte(base)))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := strings.Replace(base, tc.old, tc.new, 1)
			require.NotEqual(t, base, doc, "replacement did not apply")
			schemaErr := schemaValidate(t, []byte(doc))
			p, goErr := DecodeBytes([]byte(doc))
			if goErr == nil {
				goErr = p.Validate()
			}
			require.Error(t, schemaErr, "schema accepted it")
			require.Error(t, goErr, "Go accepted it")
		})
	}
}
