package etl

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// Reasons a row is quarantined. They are stable identifiers: the summary
// counts rows by them and docs/flows.md lists them.
const (
	ReasonFieldCount     = "field_count"          // the line has more or fewer fields than the header
	ReasonBadQuote       = "bad_quote"            // a quoted field not closed on its line, or text after its closing quote
	ReasonBadText        = "bad_text"             // a string that is not valid UTF-8 or holds a NUL byte (Parquet)
	ReasonFieldTooLong   = "field_too_long"       // a field longer than its column type allows (Type.MaxLen), or a line longer than 1 MiB
	ReasonRequired       = "required"             // a required value is empty
	ReasonBadInteger     = "bad_integer"          // not an integer, or out of range
	ReasonBadNumber      = "bad_number"           // not a number
	ReasonBadDate        = "bad_date"             // not a date (YYYY-MM-DD or DD/MM/YYYY) or a day that does not exist
	ReasonBadTime        = "bad_time"             // not a time of day
	ReasonBadBoolean     = "bad_boolean"          // not 1/0, S/N, Y/N, true/false
	ReasonBadValue       = "bad_value"            // not one of the accepted values
	ReasonDateBefore1900 = "date_before_1900"     // implausibly old date
	ReasonDateFuture     = "date_after_import"    // date after the import date
	ReasonDateOrder      = "date_order"           // an end date before its start date
	ReasonNotPositive    = "not_positive"         // a quantity that must be > 0
	ReasonUnknownPerson  = "unknown_person"       // person_id not in the registry
	ReasonBeforeBirth    = "before_birth"         // event before the person's birth
	ReasonAfterDeath     = "after_death"          // event after the person's death
	ReasonUnknownCode    = "unknown_code"         // code not in its dictionary
	ReasonCodeValidity   = "code_out_of_validity" // code known but not valid at the event date
	ReasonDuplicateKey   = "duplicate_key"        // the key appears earlier in this import
	ReasonPublished      = "already_published"    // the key is already in the published data
)

var minDate = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// reject is one quarantined value.
type reject struct {
	fileNo int
	line   int64
	column string
	reason string
	value  string
	detail string
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

// parseDate reads YYYY-MM-DD or DD/MM/YYYY and refuses days that do not
// exist (2023-02-29).
func parseDate(s string) (time.Time, bool) {
	var y, m, d int
	var ok1, ok2, ok3 bool
	switch {
	case len(s) == 10 && s[4] == '-' && s[7] == '-':
		y, ok1 = digits(s[0:4])
		m, ok2 = digits(s[5:7])
		d, ok3 = digits(s[8:10])
	case len(s) == 10 && s[2] == '/' && s[5] == '/':
		d, ok1 = digits(s[0:2])
		m, ok2 = digits(s[3:5])
		y, ok3 = digits(s[6:10])
	default:
		return time.Time{}, false
	}
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

func parseTime(s string) (pgtype.Time, bool) {
	var h, m, sec int
	var ok1, ok2, ok3 bool
	switch {
	case len(s) == 5 && s[2] == ':':
		h, ok1 = digits(s[0:2])
		m, ok2 = digits(s[3:5])
		ok3 = true
	case len(s) == 8 && s[2] == ':' && s[5] == ':':
		h, ok1 = digits(s[0:2])
		m, ok2 = digits(s[3:5])
		sec, ok3 = digits(s[6:8])
	default:
		return pgtype.Time{}, false
	}
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 {
		return pgtype.Time{}, false
	}
	return pgtype.Time{Microseconds: int64(h*3600+m*60+sec) * 1e6, Valid: true}, true
}

func parseFloat(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && strings.Contains(s, ",") && !strings.Contains(s, ".") {
		v, err = strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	}
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "s", "si", "sì", "y", "yes", "t", "true":
		return true, true
	case "0", "n", "no", "f", "false":
		return false, true
	}
	return false, false
}

// parseValue converts one field of column c. It returns the value to copy
// (nil for an empty optional field) or the reason and detail of a refusal.
func parseValue(c *Column, s string, importDate time.Time) (any, string, string) {
	if len(s) > c.Type.MaxLen() {
		return nil, ReasonFieldTooLong, fmt.Sprintf("%d bytes, a %s column holds at most %d", len(s), c.Type, c.Type.MaxLen())
	}
	if s == "" {
		if c.Required {
			return nil, ReasonRequired, "empty"
		}
		return nil, "", ""
	}
	switch c.Type {
	case TypeInt, TypeSmallInt:
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, ReasonBadInteger, "not an integer"
		}
		if c.Type == TypeSmallInt && (v < math.MinInt16 || v > math.MaxInt16) {
			return nil, ReasonBadInteger, "out of range"
		}
		if c.Positive && v <= 0 {
			return nil, ReasonNotPositive, "must be > 0"
		}
		return v, "", ""
	case TypeFloat:
		v, ok := parseFloat(s)
		if !ok {
			return nil, ReasonBadNumber, "not a number"
		}
		if c.Positive && v <= 0 {
			return nil, ReasonNotPositive, "must be > 0"
		}
		return v, "", ""
	case TypeDate:
		t, ok := parseDate(s)
		if !ok {
			return nil, ReasonBadDate, "not a real date as YYYY-MM-DD or DD/MM/YYYY"
		}
		if t.Before(minDate) {
			return nil, ReasonDateBefore1900, "before 1900-01-01"
		}
		if !c.Future && t.After(importDate) {
			return nil, ReasonDateFuture, "after the import date " + importDate.Format(time.DateOnly)
		}
		return t, "", ""
	case TypeTime:
		t, ok := parseTime(s)
		if !ok {
			return nil, ReasonBadTime, "not a time as HH:MM or HH:MM:SS"
		}
		return t, "", ""
	case TypeBool:
		b, ok := parseBool(s)
		if !ok {
			return nil, ReasonBadBoolean, "not 1/0, S/N, Y/N or true/false"
		}
		return b, "", ""
	default:
		if len(c.Values) > 0 && !slices.Contains(c.Values, s) {
			return nil, ReasonBadValue, "not one of " + strings.Join(c.Values, ", ")
		}
		return s, "", ""
	}
}

func fmtDate(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.Format(time.DateOnly)
	}
	return fmt.Sprint(v)
}
