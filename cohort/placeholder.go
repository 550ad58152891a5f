package cohort

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Int is an integer value (a number of days, an age) that may instead be a
// placeholder {"param": "name"} for an integer template parameter.
type Int struct {
	V     int    // the value, when Param is empty
	Param string // the parameter's name, until Bind replaces it
}

// Date is a calendar date "YYYY-MM-DD" that may instead be a placeholder:
// {"param": "start"} for a date parameter, or {"param": "year", "day":
// "12-31", "add_years": -1} for an integer parameter read as a year.
type Date struct {
	V        string // "YYYY-MM-DD", when Param is empty
	Param    string // the parameter's name, until Bind replaces it
	Day      string // "MM-DD", with an integer (year) parameter
	AddYears int    // added to the year, with an integer (year) parameter
}

// Text is a string value (an area, an ASL, a municipality) that may instead
// be a placeholder {"param": "name"} for a text template parameter.
type Text struct {
	V     string // the value, when Param is empty
	Param string // the parameter's name, until Bind replaces it
}

// I returns a literal Int.
func I(v int) *Int { return &Int{V: v} }

// D returns a literal Date.
func D(v string) *Date { return &Date{V: v} }

// placeholder is the JSON form of every placeholder.
type placeholder struct {
	Param    string `json:"param"`
	Day      string `json:"day,omitempty"`
	AddYears int    `json:"add_years,omitempty"`
}

func decodePlaceholder(b []byte, allowDay bool) (placeholder, error) {
	var ph placeholder
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ph); err != nil {
		return ph, fmt.Errorf("invalid placeholder: %s", trimJSONErr(err))
	}
	if ph.Param == "" {
		return ph, fmt.Errorf("placeholder needs a \"param\" name")
	}
	if !allowDay && (ph.Day != "" || ph.AddYears != 0) {
		return ph, fmt.Errorf("\"day\" and \"add_years\" are allowed only in a date placeholder")
	}
	return ph, nil
}

// IsParam reports whether the value is a placeholder.
func (x Int) IsParam() bool { return x.Param != "" }

// MarshalJSON writes the number or the placeholder.
func (x Int) MarshalJSON() ([]byte, error) {
	if x.Param != "" {
		return json.Marshal(placeholder{Param: x.Param})
	}
	return []byte(strconv.Itoa(x.V)), nil
}

// UnmarshalJSON reads an integer or a placeholder.
func (x *Int) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		ph, err := decodePlaceholder(b, false)
		if err != nil {
			return err
		}
		*x = Int{Param: ph.Param}
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("out of range: %s is not a 64-bit integer (the bounds of each value are in docs/protocol.md)", clip(string(b)))
	}
	if err != nil {
		return fmt.Errorf("must be an integer or {\"param\": ...}, got %s", clip(string(b)))
	}
	// Validation checks the value against its member's bounds ("must be ≥
	// -36600, got -1000000000000"), so it is kept whole here.
	*x = Int{V: int(n)}
	return nil
}

// IsParam reports whether the value is a placeholder.
func (x Date) IsParam() bool { return x.Param != "" }

// MarshalJSON writes the date string or the placeholder.
func (x Date) MarshalJSON() ([]byte, error) {
	if x.Param != "" {
		return json.Marshal(placeholder{Param: x.Param, Day: x.Day, AddYears: x.AddYears})
	}
	return json.Marshal(x.V)
}

// UnmarshalJSON reads a "YYYY-MM-DD" string or a placeholder. The date's
// calendar validity is checked by Validate, so that every error has a path.
func (x *Date) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		ph, err := decodePlaceholder(b, true)
		if err != nil {
			return err
		}
		*x = Date{Param: ph.Param, Day: ph.Day, AddYears: ph.AddYears}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a date \"YYYY-MM-DD\" or {\"param\": ...}, got %s", clip(string(b)))
	}
	*x = Date{V: s}
	return nil
}

// IsParam reports whether the value is a placeholder.
func (x Text) IsParam() bool { return x.Param != "" }

// MarshalJSON writes the string or the placeholder.
func (x Text) MarshalJSON() ([]byte, error) {
	if x.Param != "" {
		return json.Marshal(placeholder{Param: x.Param})
	}
	return json.Marshal(x.V)
}

// UnmarshalJSON reads a string or a placeholder.
func (x *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		ph, err := decodePlaceholder(b, false)
		if err != nil {
			return err
		}
		*x = Text{Param: ph.Param}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a string or {\"param\": ...}, got %s", clip(string(b)))
	}
	*x = Text{V: s}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
