package errs_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/beaver-analytics/beaver/schema/errs"
)

func TestKindOf(t *testing.T) {
	t.Parallel()
	wrapped := errs.Wrap(errs.Conflict, io.ErrUnexpectedEOF)
	cases := []struct {
		name string
		err  error
		want *errs.Kind
	}{
		{"nil", nil, nil},
		{"plain", errors.New("boom"), errs.Internal},
		{"formatted", fmt.Errorf("%w: study 3", errs.NotFound), errs.NotFound},
		{"deep", fmt.Errorf("web: %w", fmt.Errorf("%w: bad", errs.Invalid)), errs.Invalid},
		{"wrapped", wrapped, errs.Conflict},
		{"wrapped again", fmt.Errorf("etl: %w", wrapped), errs.Conflict},
	}
	for _, c := range cases {
		if got := errs.KindOf(c.err); got != c.want {
			t.Errorf("%s: KindOf = %v, want %v", c.name, got, c.want)
		}
	}
	if wrapped.Error() != io.ErrUnexpectedEOF.Error() {
		t.Errorf("Wrap changed the message: %q", wrapped)
	}
	if !errors.Is(wrapped, io.ErrUnexpectedEOF) {
		t.Error("Wrap hides the wrapped error from errors.Is")
	}
	if errs.Wrap(errs.Invalid, nil) != nil {
		t.Error("Wrap(kind, nil) is not nil")
	}
}

func ExampleKindOf() {
	err := fmt.Errorf("study: results of run %d: %w", 7, errs.NotFound)
	fmt.Println(errs.KindOf(err))
	fmt.Println(errs.KindOf(errors.New("disk full")))
	// Output:
	// not found
	// internal
}
