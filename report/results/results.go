package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Document is a run's results document (docs/results.md). Everything but
// Profile depends only on the protocol, the data version and the software:
// the same inputs give the same bytes.
type Document struct {
	ProtocolHash string `json:"protocol_hash"`
	DataVersion  int64  `json:"data_version"`
	DataEnd      string `json:"data_end"` // YYYY-MM-DD: the last day of data used
	// DataEndRule says how DataEnd was chosen when not by the default (the
	// latest event in the flows): "enrolment" (the latest end of
	// enrolment) or "date" (the protocol's date).
	DataEndRule     string `json:"data_end_rule,omitempty"`
	SoftwareVersion string `json:"software_version"`
	MinCount        int    `json:"min_count"` // counts below it are suppressed
	// Scope lists the ASL codes the population was restricted to because
	// the submitting user may see only those (empty: no restriction).
	Scope     []string        `json:"scope,omitempty"`
	Attrition []AttritionLine `json:"attrition"`
	// Analyses by name (JSON objects are written with sorted keys).
	Analyses map[string]*AnalysisResult `json:"analyses"`
	// Warnings holds the protocol's design warnings (cohort.Check) and the
	// analyses' warnings and failures, each naming its analysis.
	Warnings []string `json:"warnings"`
	Profile  *Profile `json:"profile,omitempty"`
}

// AnalysisNames returns the names of the document's analyses in sorted
// order, the order in which the document lists them.
func (d *Document) AnalysisNames() []string {
	names := make([]string, 0, len(d.Analyses))
	for n := range d.Analyses {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Decode reads a results document, the analyses' results typed by kind.
func Decode(b []byte) (*Document, error) {
	var d Document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("results: read the results document: %w", err)
	}
	return &d, nil
}

// Kind is the kind of an analysis, as the protocol names it
// (cohort.Analysis.Kind).
type Kind string

// The kinds of analysis whose results a document holds.
const (
	KindAttrition   Kind = "attrition"
	KindDescriptive Kind = "descriptive"
	KindKaplanMeier Kind = "kaplan_meier"
	KindCox         Kind = "cox"
	KindLogistic    Kind = "logistic"
	KindLinear      Kind = "linear"
	KindRates       Kind = "rates"
)

// Form is how a Cox model was fitted.
type Form string

// The forms of a Cox analysis.
const (
	// FormBaseline is a Cox model on the analysis dataset, one row per
	// entry, covariates at baseline.
	FormBaseline Form = "baseline"
	// FormCountingProcess is a Cox model on (start, stop] intervals, with
	// time-dependent covariates.
	FormCountingProcess Form = "counting_process"
)

// Result is the computed result of one analysis: *Cox, *KaplanMeier,
// *Logistic, *Linear, *Rates, *Descriptive, Attrition, or *Stratified.
// Callers take it apart with a type switch.
type Result interface {
	// isResult keeps the set of results closed to this package.
	isResult()
}

func (*Cox) isResult()         {}
func (*KaplanMeier) isResult() {}
func (*Logistic) isResult()    {}
func (*Linear) isResult()      {}
func (*Rates) isResult()       {}
func (*Descriptive) isResult() {}
func (Attrition) isResult()    {}
func (*Stratified) isResult()  {}

// AnalysisResult is one analysis of the protocol: its kind and, unless it
// failed, its result (with small counts suppressed where it shows counts).
type AnalysisResult struct {
	Kind    Kind
	Outcome string
	By      string
	Form    Form // cox only
	// Result is nil when the analysis was not computed (Error says why).
	Result   Result
	Error    string
	Warnings []string
}

// analysisJSON is the encoded shape of an AnalysisResult.
type analysisJSON struct {
	Kind     Kind            `json:"kind"`
	Outcome  string          `json:"outcome,omitempty"`
	By       string          `json:"by,omitempty"`
	Form     Form            `json:"form,omitempty"`
	Result   json.RawMessage `json:"result"` // null when not computed
	Error    string          `json:"error,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`
}

// MarshalJSON writes the analysis with its result in the result's own
// shape, null when there is none.
func (a *AnalysisResult) MarshalJSON() ([]byte, error) {
	raw, err := encodeResult(a.Result)
	if err != nil {
		return nil, err
	}
	return json.Marshal(analysisJSON{Kind: a.Kind, Outcome: a.Outcome, By: a.By, Form: a.Form,
		Result: raw, Error: a.Error, Warnings: a.Warnings})
}

// encodeResult encodes a result, nil (also a typed nil) as null.
func encodeResult(r Result) (json.RawMessage, error) {
	if r == nil {
		return json.RawMessage("null"), nil
	}
	return json.Marshal(r)
}

// UnmarshalJSON reads an analysis, decoding its result into the type of
// its kind.
func (a *AnalysisResult) UnmarshalJSON(b []byte) error {
	var j analysisJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	r, err := decodeResult(j.Kind, j.Result, true)
	if err != nil {
		return err
	}
	*a = AnalysisResult{Kind: j.Kind, Outcome: j.Outcome, By: j.By, Form: j.Form,
		Result: r, Error: j.Error, Warnings: j.Warnings}
	return nil
}

// decodeResult decodes the result of an analysis of the given kind; a
// stratified one (an object with "stratify_by") when outer.
func decodeResult(kind Kind, raw json.RawMessage, outer bool) (Result, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if kind == KindAttrition {
		var a Attrition
		return a, json.Unmarshal(raw, &a)
	}
	if outer {
		var probe struct {
			StratifyBy *string `json:"stratify_by"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, fmt.Errorf("result of kind %q: %w", kind, err)
		}
		if probe.StratifyBy != nil {
			return decodeStratified(kind, raw)
		}
	}
	var r Result
	switch kind {
	case KindCox:
		r = &Cox{}
	case KindKaplanMeier:
		r = &KaplanMeier{}
	case KindLogistic:
		r = &Logistic{}
	case KindLinear:
		r = &Linear{}
	case KindRates:
		r = &Rates{}
	case KindDescriptive:
		r = &Descriptive{}
	default:
		return nil, fmt.Errorf("a result of kind %q, which this version does not know", kind)
	}
	if err := json.Unmarshal(raw, r); err != nil {
		return nil, fmt.Errorf("result of kind %q: %w", kind, err)
	}
	return r, nil
}

// decodeStratified decodes a stratified result, each class's result by
// the analysis's kind.
func decodeStratified(kind Kind, raw json.RawMessage) (*Stratified, error) {
	var j struct {
		StratifyBy string `json:"stratify_by"`
		Classes    []struct {
			Class      string          `json:"class"`
			N          Count           `json:"n"`
			Suppressed bool            `json:"suppressed"`
			Result     json.RawMessage `json:"result"`
			Error      string          `json:"error"`
			Warnings   []string        `json:"warnings"`
		} `json:"classes"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("stratified result of kind %q: %w", kind, err)
	}
	s := &Stratified{StratifyBy: j.StratifyBy, Classes: make([]Class, len(j.Classes))}
	for k, c := range j.Classes {
		r, err := decodeResult(kind, c.Result, false)
		if err != nil {
			return nil, fmt.Errorf("class %q: %w", c.Class, err)
		}
		s.Classes[k] = Class{Class: c.Class, N: c.N, Suppressed: c.Suppressed, Result: r, Error: c.Error, Warnings: c.Warnings}
	}
	return s, nil
}

// Profile is where the run spent its time: not part of the comparable
// document.
type Profile struct {
	Steps      []StepProfile `json:"steps"`
	AnalysesMS int64         `json:"analyses_ms"`
}

// StepProfile is one step's wall time and rows; a reused step names the
// run whose table it took (its wall time is 0).
type StepProfile struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Rows       *int64 `json:"rows"`
	WallMS     *int64 `json:"wall_ms"`
	ReusedFrom *int64 `json:"reused_from,omitempty"`
	// Explain is the step's EXPLAIN (ANALYZE, BUFFERS), when the run was
	// submitted with Explain.
	Explain *string `json:"explain,omitempty"`
}
