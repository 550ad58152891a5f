package cohort

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNoPanicOnUnfinishedProtocols: an editor sends protocols as the user
// types them; decoding and describing must answer, never panic. Both
// panicked before: a parameter's "default": null (reflect Set of a nil
// value), and the methods text of a drug covariate without its drug.
func TestNoPanicOnUnfinishedProtocols(t *testing.T) {
	t.Parallel()
	_, err := DecodeBytes([]byte(`{"version": 1, "name": "x", "parameters": [{"name": "p", "type": "int", "default": null}]}`))
	require.NoError(t, err)

	p, err := DecodeBytes(readExample(t, "current-use"))
	require.NoError(t, err)
	for i := range p.Phases.Covariates {
		p.Phases.Covariates[i].Drug = nil
	}
	for _, lang := range []string{"en", "it"} {
		text, err := Describe(p, lang)
		require.NoError(t, err)
		require.True(t, strings.Contains(text, "current use") || strings.Contains(text, "uso corrente"))
	}
}

// TestDescribeItalianIndex: the Italian methods text says "alla prima
// dispensazione" (it said "alla la prima").
func TestDescribeItalianIndex(t *testing.T) {
	t.Parallel()
	p, err := DecodeBytes(readExample(t, "comparator-new-users"))
	require.NoError(t, err)
	text, err := Describe(p, "it")
	require.NoError(t, err)
	require.NotContains(t, text, "alla la")
	require.Contains(t, text, "gruppo A alla prima dispensazione")
}
