// Package codelists holds the code lists Beaver ships for its built-in
// comorbidity scores, embedded as versioned JSON files (one per score) and
// loaded by name: "charlson_quan2005" (the charlson covariate) and
// "mcs_corrao2017" (the mcs covariate). A list is replaced by replacing its
// file and raising its version; the compiled steps bind every code, so a
// changed list changes the steps' identities and they run again. Sources,
// corrections and what was not verified are in docs/comorbidity.md.
package codelists

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

//go:embed *.json
var files embed.FS

// Scheme is a comorbidity score: weighted conditions, each identified by
// hospital diagnoses (ICD-9-CM, any position) and/or dispensings (ATC).
type Scheme struct {
	Name       string      `json:"name"`     // the file's name without .json
	Version    string      `json:"version"`  // raised on every change of the codes, weights or superseding rules (pinned in codelists_test.go)
	Title      string      `json:"title"`    // human label
	Source     string      `json:"source"`   // where the codes and weights come from
	Verified   string      `json:"verified"` // what was checked against the publication
	Conditions []Condition `json:"conditions"`
}

// Condition is one weighted condition of a score.
type Condition struct {
	ID           string   `json:"id"`                      // unique in the scheme
	Title        string   `json:"title"`                   // human label
	Weight       float64  `json:"weight"`                  // added to the score when present
	ICD9Dx       *CodeSet `json:"icd9cm_dx,omitempty"`     // hospital diagnoses, any position
	ATC          *CodeSet `json:"atc,omitempty"`           // dispensings (pharmacy and direct distribution)
	SupersededBy string   `json:"superseded_by,omitempty"` // the condition that, when present, cancels this one
	Note         string   `json:"note,omitempty"`          // what is doubtful or unverified in this row; never compiled
}

// CodeSet is a set of codes written as prefixes and ranges, as in
// protocol code lists: a range compares the first len(From) characters.
type CodeSet struct {
	Prefixes []string `json:"prefixes,omitempty"`
	Ranges   []Range  `json:"ranges,omitempty"`
}

// Range is every code whose first len(From) characters lie in [From, To].
type Range struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Rule is one prefix or range of a code set in a uniform form: a code
// matches when its first N characters lie in [Lo, Hi] (a prefix p is the
// range [p, p] over len(p) characters).
type Rule struct {
	Condition string
	N         int
	Lo, Hi    string
}

// Rules lists a code set's prefixes and ranges as rules of condition id.
func (s *CodeSet) Rules(id string) []Rule {
	if s == nil {
		return nil
	}
	var out []Rule
	for _, p := range s.Prefixes {
		out = append(out, Rule{id, len(p), p, p})
	}
	for _, r := range s.Ranges {
		out = append(out, Rule{id, len(r.From), r.From, r.To})
	}
	return out
}

// Matches reports whether code is in the set (byte-wise comparison, as the
// "C" collation).
func (s *CodeSet) Matches(code string) bool {
	for _, r := range s.Rules("") {
		if len(code) >= r.N && code[:r.N] >= r.Lo && code[:r.N] <= r.Hi {
			return true
		}
	}
	return false
}

var (
	nameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	dxRe   = regexp.MustCompile(`^([0-9]{1,5}|V[0-9]{0,4}|E[0-9]{0,4})$`)
	atcRe  = regexp.MustCompile(`^[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$`)
)

// Get returns the shipped scheme called name.
func Get(name string) (*Scheme, error) {
	s, ok := schemes[name]
	if !ok {
		return nil, fmt.Errorf("codelists: no shipped list %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return s, nil
}

// MustGet is Get for the names the compiler knows; it panics on a missing
// list (the lists are embedded and checked at start).
func MustGet(name string) *Scheme {
	s, err := Get(name)
	if err != nil {
		panic(err)
	}
	return s
}

// Names lists the shipped schemes, sorted.
func Names() []string {
	var out []string
	for n := range schemes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

var schemes = mustLoad()

// mustLoad decodes and checks every embedded file; a bad file is a build
// defect, so it panics.
func mustLoad() map[string]*Scheme {
	out := map[string]*Scheme{}
	entries, err := files.ReadDir(".")
	if err != nil {
		panic("codelists: " + err.Error())
	}
	for _, e := range entries {
		raw, err := files.ReadFile(e.Name())
		if err != nil {
			panic("codelists: " + err.Error())
		}
		var s Scheme
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			panic(fmt.Sprintf("codelists: %s: %v", e.Name(), err))
		}
		if err := s.check(); err != nil {
			panic(fmt.Sprintf("codelists: %s: %v", e.Name(), err))
		}
		if s.Name+".json" != e.Name() {
			panic(fmt.Sprintf("codelists: %s: name %q does not match the file", e.Name(), s.Name))
		}
		out[s.Name] = &s
	}
	return out
}

// check reports what is wrong with a scheme.
func (s *Scheme) check() error {
	if !nameRe.MatchString(s.Name) || s.Version == "" {
		return fmt.Errorf("name %q and version %q are required", s.Name, s.Version)
	}
	// A list says what of it was checked against its publication, even when
	// nothing was: users of a score must be able to tell which kind they got.
	if strings.TrimSpace(s.Verified) == "" {
		return fmt.Errorf("verified is required: say what was checked against the publication, or that nothing was")
	}
	ids := map[string]bool{}
	for _, c := range s.Conditions {
		if c.ID == "" || ids[c.ID] {
			return fmt.Errorf("condition id %q empty or repeated", c.ID)
		}
		ids[c.ID] = true
		if c.ICD9Dx == nil && c.ATC == nil {
			return fmt.Errorf("condition %s: no codes", c.ID)
		}
		for _, cs := range []struct {
			set *CodeSet
			re  *regexp.Regexp
		}{{c.ICD9Dx, dxRe}, {c.ATC, atcRe}} {
			for _, r := range cs.set.Rules(c.ID) {
				if !cs.re.MatchString(r.Lo) || !cs.re.MatchString(r.Hi) || len(r.Lo) != len(r.Hi) || r.Lo > r.Hi {
					return fmt.Errorf("condition %s: bad code or range %s-%s", c.ID, r.Lo, r.Hi)
				}
			}
		}
	}
	for _, c := range s.Conditions {
		if c.SupersededBy != "" && (!ids[c.SupersededBy] || c.SupersededBy == c.ID) {
			return fmt.Errorf("condition %s: superseded by unknown condition %q", c.ID, c.SupersededBy)
		}
	}
	return nil
}

// Score computes the score of a set of present conditions in Go, applying
// the superseding rules: the reference the SQL is tested against.
func (s *Scheme) Score(present map[string]bool) float64 {
	var sum float64
	for _, c := range s.Conditions {
		if present[c.ID] && !(c.SupersededBy != "" && present[c.SupersededBy]) {
			sum += c.Weight
		}
	}
	return sum
}
