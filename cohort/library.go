package cohort

import (
	"slices"

	"github.com/beaver-analytics/beaver/cohort/library"
)

// resolveCodeList returns the code list as the compiler reads it: itself
// when written out, or, when it refers to a shipped list (Library), a copy
// with the library's system, codes, version and source, and its title
// unless the protocol gives one. The protocol is not changed: a stored
// protocol keeps its reference, which pins the version.
func resolveCodeList(cl *CodeList) (*CodeList, error) {
	if cl.Library == "" {
		return cl, nil
	}
	l, err := library.Get(cl.Library)
	if err != nil {
		return cl, err
	}
	r := *cl
	r.System, r.Version, r.Source = l.System, l.Version, l.Source
	if r.Title == "" {
		r.Title = l.Title
	}
	r.Include = codeSetOf(l.Include)
	r.Exclude = nil
	if l.Exclude != nil {
		ex := codeSetOf(*l.Exclude)
		r.Exclude = &ex
	}
	return &r, nil
}

// codeSetOf converts a library code set (copied, so the shipped list is
// never shared).
func codeSetOf(s library.CodeSet) CodeSet {
	out := CodeSet{Codes: slices.Clone(s.Codes), Prefixes: slices.Clone(s.Prefixes)}
	for _, r := range s.Ranges {
		out.Ranges = append(out.Ranges, CodeRange{From: r.From, To: r.To})
	}
	return out
}
