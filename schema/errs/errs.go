// Package errs is Beaver's one error vocabulary: a few kinds of failure
// that the packages' errors wrap, so that a caller (the web API, the CLI)
// can tell what went wrong without knowing which package failed, and map
// each kind once to an HTTP status or an exit code (as benbjohnson/wtf's
// error codes).
//
// A package returns its errors wrapped around a kind:
//
//	return fmt.Errorf("%w: study %d", errs.NotFound, id)
//	return errs.Wrap(errs.Invalid, err)  // keeps err's text and chain
//
// and a caller asks errs.KindOf(err). An error that wraps no kind is
// Internal: its text is for the log, not for the user.
package errs

import "errors"

// Kind is a kind of failure. The kinds are sentinel errors themselves, so
// errors.Is(err, errs.NotFound) works as well as KindOf.
type Kind struct{ name string }

// Error returns the kind's name ("not found").
func (k *Kind) Error() string { return k.name }

// String returns the kind's name.
func (k *Kind) String() string { return k.name }

// The kinds, from the most to the least specific.
var (
	// Invalid: the caller's input is wrong (a protocol, a file, a
	// parameter); the message says what and where.
	Invalid = &Kind{"invalid"}
	// NotFound: the object does not exist, or the caller may not know that
	// it does.
	NotFound = &Kind{"not found"}
	// Conflict: the object's state forbids the request (already exists,
	// edited concurrently, a run already ended, another import running).
	Conflict = &Kind{"conflict"}
	// Unauthorized: the caller is not who they claim (wrong password,
	// expired session).
	Unauthorized = &Kind{"unauthorized"}
	// Forbidden: the caller is known but may not do this.
	Forbidden = &Kind{"forbidden"}
	// Unavailable: a dependency is down or a precondition of the system is
	// not met yet (no data imported, database unreachable); try later.
	Unavailable = &Kind{"unavailable"}
	// Internal: a bug or an unexpected failure; never shown in detail.
	Internal = &Kind{"internal"}
)

// kinds in the order KindOf tries them.
var kinds = []*Kind{Invalid, NotFound, Conflict, Unauthorized, Forbidden, Unavailable}

// KindOf returns the kind err wraps, Internal when it wraps none, and nil
// for a nil error.
func KindOf(err error) *Kind {
	if err == nil {
		return nil
	}
	for _, k := range kinds {
		if errors.Is(err, k) {
			return k
		}
	}
	return Internal
}

// Wrap returns err marked with kind, keeping err's message and chain
// (errors.Is and errors.As still see err). Wrap(kind, nil) is nil.
func Wrap(kind *Kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: kind, err: err}
}

type kindError struct {
	kind *Kind
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.err, e.kind} }
