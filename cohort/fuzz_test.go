package cohort

import (
	"testing"
)

// FuzzDecode checks that no input makes Decode, Validate, Check, Bind,
// Describe or Compile panic, and that Compile accepts every bound valid
// protocol.
func FuzzDecode(f *testing.F) {
	for _, name := range exampleNames {
		f.Add(readExample(f, name))
	}
	f.Add([]byte(`{"version":1,"name":"x","phases":{"population":{"accrual":{}},"index":{"groups":[{"name":"A"}]},"covariates":[{"name":"a","kind":"sum","of":["a","b"]},{"name":"b","kind":"combine","op":"not","of":["a"]}]}}`))
	f.Add([]byte(`{"version":1,"parameters":[{"name":"y","type":"integer"}],"phases":{"index":{"date":{"param":"y","day":"02-30"}}}}`))
	f.Add([]byte(`{"phases":{"criteria":[{"group":{"op":"at_least","n":-1,"criteria":[{"group":{"op":"any","criteria":[]}}]}}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeBytes(b)
		if err != nil {
			return
		}
		verr := p.Validate()
		_ = Check(p)
		if q, err := p.Bind(map[string]string{}); err == nil {
			if err := q.Validate(); err != nil {
				t.Fatalf("Bind returned a protocol that does not validate: %v", err)
			}
			_, err := Compile(q, Options{Schema: "fuzz", Partitions: 2, DataVersion: 1})
			if err != nil {
				t.Fatalf("Compile of a bound valid protocol: %v", err)
			}
		}
		if verr == nil {
			for _, lang := range []string{"en", "it"} {
				if _, err := Describe(p, lang); err != nil {
					t.Fatalf("Describe(%s) of a valid protocol: %v", lang, err)
				}
			}
		}
	})
}
