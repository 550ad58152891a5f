// Package library holds the code lists Beaver ships for protocols, named
// and versioned, embedded from lists.json. A protocol refers to one from
// its code_lists as {"name": "dm_drugs", "library": "diabetes_drugs@1"}:
// the codes, system, title and source come from here (cohort resolves the
// reference when it validates and compiles). A released version never
// changes; a changed list is a new version next to the old one, so a
// stored protocol keeps meaning the same codes. The lists of the areas of
// interest repeat engine/etl/areas/areas.json, one per area and code
// system; library_test.go checks that they agree. The comorbidity scores'
// lists are in cohort/codelists and are reached through the covariate
// kinds, not from here.
package library

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

//go:embed lists.json
var raw []byte

// List is one shipped code list.
type List struct {
	Name    string   `json:"name"`    // 1–63 of a-z 0-9 _, starting with a letter
	Version string   `json:"version"` // a released version never changes
	Title   string   `json:"title"`   // human label
	System  string   `json:"system"`  // a protocol code system (icd9cm_dx, atc, exemption, ...)
	Area    string   `json:"area,omitempty"`
	Source  string   `json:"source"`         // where the codes come from
	Why     string   `json:"why,omitempty"`  // what the codes mean
	Note    string   `json:"note,omitempty"` // how to use it (e.g. the diagnosis position the area reads)
	Include CodeSet  `json:"include"`
	Exclude *CodeSet `json:"exclude,omitempty"`
}

// CodeSet is codes written exactly, by prefix or by range, as in protocol
// code lists.
type CodeSet struct {
	Codes    []string `json:"codes,omitempty"`
	Prefixes []string `json:"prefixes,omitempty"`
	Ranges   []Range  `json:"ranges,omitempty"`
}

// Range is every code whose first len(From) characters lie in [From, To].
type Range struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Ref is the reference a protocol writes: "name@version".
func (l *List) Ref() string { return l.Name + "@" + l.Version }

var (
	lists   = mustLoad()
	nameRe  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	refRe   = regexp.MustCompile(`^([a-z][a-z0-9_]{0,62})@([0-9A-Za-z.-]{1,32})$`)
	systems = []string{"icd9cm_dx", "icd9cm_proc", "atc", "aic", "exemption", "outpatient"}
)

// Get returns the list a reference "name@version" names.
func Get(ref string) (*List, error) {
	m := refRe.FindStringSubmatch(ref)
	if m == nil {
		return nil, fmt.Errorf("library: reference %q: write name@version, e.g. diabetes_drugs@1", ref)
	}
	if l, ok := lists[ref]; ok {
		return l, nil
	}
	var versions []string
	for _, l := range All() {
		if l.Name == m[1] {
			versions = append(versions, l.Ref())
		}
	}
	if len(versions) > 0 {
		return nil, fmt.Errorf("library: no version %q of %s (have %s)", m[2], m[1], strings.Join(versions, ", "))
	}
	return nil, fmt.Errorf("library: no shipped list %q (see docs/protocol.md for the library)", m[1])
}

// All returns every shipped list, sorted by name and version.
func All() []*List {
	out := make([]*List, 0, len(lists))
	for _, l := range lists {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref() < out[j].Ref() })
	return out
}

// mustLoad decodes and checks lists.json; a bad file is a build defect, so
// it panics.
func mustLoad() map[string]*List {
	var doc struct {
		About string `json:"about"`
		Lists []List `json:"lists"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		panic("library: lists.json: " + err.Error())
	}
	out := map[string]*List{}
	for i := range doc.Lists {
		l := &doc.Lists[i]
		if err := l.check(); err != nil {
			panic(fmt.Sprintf("library: lists.json: %s: %v", l.Ref(), err))
		}
		if _, dup := out[l.Ref()]; dup {
			panic("library: lists.json: " + l.Ref() + " twice")
		}
		out[l.Ref()] = l
	}
	return out
}

// check reports what is wrong with a list's form (its codes are checked
// against the system by cohort's validation, as a protocol's own).
func (l *List) check() error {
	if !nameRe.MatchString(l.Name) || !refRe.MatchString(l.Ref()) {
		return fmt.Errorf("name %q and version %q are required", l.Name, l.Version)
	}
	if l.Title == "" || l.Source == "" {
		return fmt.Errorf("title and source are required")
	}
	known := false
	for _, s := range systems {
		known = known || s == l.System
	}
	if !known {
		return fmt.Errorf("unknown system %q", l.System)
	}
	if len(l.Include.Codes)+len(l.Include.Prefixes)+len(l.Include.Ranges) == 0 {
		return fmt.Errorf("include holds no code")
	}
	return nil
}
