package cohort_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/schema/errs"
)

// TestErrorsAreInvalid: decoding, validation, binding and compiling a
// template are the caller's mistakes: errs.Invalid, with unchanged text.
func TestErrorsAreInvalid(t *testing.T) {
	t.Parallel()
	_, err := cohort.DecodeBytes([]byte(`{"version": 1, "nme": "x"}`))
	require.True(t, errors.Is(err, errs.Invalid), "decode: %v", err)
	require.True(t, strings.HasPrefix(err.Error(), "cohort: invalid protocol: nme: unknown field"), err.Error())

	_, err = cohort.DecodeBytes([]byte(`not json`))
	require.True(t, errors.Is(err, errs.Invalid), "decode: %v", err)

	p := loadProtocol(t, "testdata/comparator/protocol.json")
	p.Phases.Population.Accrual.Start = nil
	err = p.Validate()
	require.True(t, errors.Is(err, errs.Invalid), "validate: %v", err)
	var ve cohort.ValidationErrors
	require.True(t, errors.As(err, &ve))
	require.Equal(t, "cohort: invalid protocol: phases.population.accrual.start: required", err.Error())

	_, err = cohort.Compile(p, goldenOpts)
	require.True(t, errors.Is(err, errs.Invalid), "compile: %v", err)

	tpl := loadProtocol(t, "../docs/examples/hip-fracture-rates.json")
	_, err = tpl.Bind(map[string]string{"nope": "1"})
	require.True(t, errors.Is(err, errs.Invalid), "bind: %v", err)
	_, err = cohort.Compile(tpl, goldenOpts)
	require.True(t, errors.Is(err, errs.Invalid), "compile a template: %v", err)
	require.Equal(t, "cohort: compile: parameters: the protocol is a template; Bind it first", err.Error())
}
