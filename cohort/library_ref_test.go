package cohort

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort/library"
)

// TestLibraryReference: a code list referring to a shipped list compiles
// to exactly the plan of the same codes written out (same SQL, arguments
// and step identities), is accepted by the JSON Schema, and keeps its
// reference in the protocol.
func TestLibraryReference(t *testing.T) {
	t.Parallel()
	base := string(readExample(t, "comparator-new-users"))
	written := `{"name": "antidiabetics", "title": "Drugs used in diabetes", "system": "atc", "include": {"prefixes": ["A10"]}}`
	require.Contains(t, base, written)
	ref := strings.Replace(base, written, `{"name": "antidiabetics", "library": "diabetes_drugs@1"}`, 1)
	require.NoError(t, schemaValidate(t, []byte(ref)))
	plans := map[string]*Plan{}
	for name, doc := range map[string]string{"written": base, "library": ref} {
		p, err := DecodeBytes([]byte(doc))
		require.NoError(t, err, name)
		require.NoError(t, p.Validate(), name)
		plans[name], err = Compile(p, Options{Schema: "s", Partitions: 2, DataVersion: 3})
		require.NoError(t, err, name)
	}
	require.Equal(t, plans["written"].Steps, plans["library"].Steps)

	p, err := DecodeBytes([]byte(ref))
	require.NoError(t, err)
	require.Equal(t, "diabetes_drugs@1", p.CodeLists[3].Library)
	require.Empty(t, p.CodeLists[3].Include.Prefixes, "the protocol keeps the reference, not the codes")
	text, err := Describe(p, "en")
	require.NoError(t, err)
	require.Contains(t, text, "A10")
}

// TestLibraryReferenceErrors: a bad reference, or a field the library
// supplies, is an error at its path.
func TestLibraryReferenceErrors(t *testing.T) {
	t.Parallel()
	base := string(readExample(t, "comparator-new-users"))
	written := `{"name": "antidiabetics", "title": "Drugs used in diabetes", "system": "atc", "include": {"prefixes": ["A10"]}}`
	for _, tc := range []struct{ list, want string }{
		{`{"name": "antidiabetics", "library": "diabetes_drugs@9"}`, `code_lists[3].library: no version "9" of diabetes_drugs (have diabetes_drugs@1)`},
		{`{"name": "antidiabetics", "library": "diabetes_pills@1"}`, `code_lists[3].library: no shipped list "diabetes_pills"`},
		{`{"name": "antidiabetics", "library": "diabetes_drugs"}`, `code_lists[3].library: reference "diabetes_drugs": write name@version`},
		{`{"name": "antidiabetics", "library": "diabetes_drugs@1", "include": {"prefixes": ["A10"]}}`, `code_lists[3].include: must be absent with library`},
		{`{"name": "antidiabetics", "library": "diabetes_drugs@1", "source": "x"}`, `code_lists[3].source: must be absent with library`},
		// The library's system must fit the event's source like a written one.
		{`{"name": "antidiabetics", "library": "diabetes_dx@1"}`, `events[3].code_lists[0]`},
	} {
		p, err := DecodeBytes([]byte(strings.Replace(base, written, tc.list, 1)))
		require.NoError(t, err, tc.list)
		err = p.Validate()
		require.Error(t, err, tc.list)
		require.Contains(t, err.Error(), tc.want, tc.list)
	}
}

// TestLibraryListsValidate: every shipped list passes the validation of a
// protocol's own code list (codes that fit its system).
func TestLibraryListsValidate(t *testing.T) {
	t.Parallel()
	for _, l := range library.All() {
		p := &Protocol{CodeLists: []CodeList{{Name: "x", Library: l.Ref()}}}
		v := newValidator(p)
		v.codeList("code_lists[0]", &p.CodeLists[0])
		require.NoError(t, v.e.err(), l.Ref())
	}
}
