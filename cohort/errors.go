package cohort

import (
	"fmt"
	"strings"

	schemaerrs "github.com/beaver-analytics/beaver/schema/errs"
)

// FieldError is one problem of a protocol, at a JSON path such as
// "phases.criteria[2].window.start".
type FieldError struct {
	Path string // JSON path; empty for the whole document
	Msg  string // what is wrong, in words a user can act on
}

// Error renders "path: msg".
func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// ValidationErrors is every problem found in a protocol, in document order.
type ValidationErrors []FieldError

// Error renders one problem per line.
func (es ValidationErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	if len(parts) == 1 {
		return "cohort: invalid protocol: " + parts[0]
	}
	return fmt.Sprintf("cohort: invalid protocol (%d problems):\n  %s", len(es), strings.Join(parts, "\n  "))
}

// Is makes every ValidationErrors an errs.Invalid (schema/errs): the
// caller's protocol is wrong, and the message says what and where.
func (es ValidationErrors) Is(target error) bool { return target == schemaerrs.Invalid }

// Warning is a legal but suspicious construct, found by Check.
type Warning struct {
	Path string // JSON path
	Msg  string // why it is suspicious
}

// String renders "path: msg".
func (w Warning) String() string { return w.Path + ": " + w.Msg }

// errs accumulates FieldErrors.
type errs struct{ list ValidationErrors }

func (e *errs) add(path, format string, args ...any) {
	e.list = append(e.list, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (e *errs) err() error {
	if len(e.list) == 0 {
		return nil
	}
	return e.list
}

// field joins a path and a member name.
func field(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// index joins a path and an array index.
func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
