package cohort

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Label describes one attrition line: Text in English, as the attrition
// table stores it, and Key and Args for a renderer that writes it in
// another language (report/format's "att.<key>" messages, the browser
// application's "attrition.<key>"). A criterion's line has no Key: its
// label is the protocol's name for it, written as it is.
type Label struct {
	Text string
	Key  string
	Args []string // in the order of the format's %s; dates as YYYY-MM-DD, numbers in decimal
}

// labelFormats holds the English form of every attrition label with a Key;
// each %s is one argument.
var labelFormats = map[string]string{
	"index_days":       "days with an index event",
	"index_days_scope": "days with an index event in the data scope (%s)",
	"registry":         "persons in the registry",
	"registry_scope":   "persons in the registry in the data scope (%s)",
	"accrual":          "day 0 in the accrual period (%s to %s)",
	"alive":            "alive on day 0",
	"area":             "in the area %s on day 0",
	"sex":              "sex %s",
	"age_range":        "aged %s to %s on day 0",
	"age_min":          "aged %s or more on day 0",
	"age_max":          "aged %s or less on day 0",
	"resident":         "resident in %s on day 0",
	"enrolled":         "enrolled on days %s to %s",
	"enrolled_day0":    "enrolled on day 0",
	"washout_same":     "washout: no occurrence of the same index event on days -%s to -1",
	"washout_any":      "washout: no occurrence of any index event on days -%s to -1",
	"first_day":        "first qualifying day of each person",
	"one_group":        "one exposure group on day 0",
}

// LabelFormat returns the English format of an attrition label key (each
// %s one argument) and whether the key exists. Message tables in other
// languages are checked against it.
func LabelFormat(key string) (string, bool) { f, ok := labelFormats[key]; return f, ok }

// LabelKeys lists every attrition label key, sorted.
func LabelKeys() []string {
	keys := make([]string, 0, len(labelFormats))
	for k := range labelFormats {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// label makes the Label of a key with its arguments (ints are written in
// decimal). It panics on an unknown key or a wrong argument count: both
// are programming errors that every compiler test would meet.
func label(key string, args ...any) Label {
	f, ok := labelFormats[key]
	if !ok || strings.Count(f, "%s") != len(args) {
		panic(fmt.Sprintf("cohort: attrition label %q with %d arguments", key, len(args)))
	}
	s := make([]string, len(args))
	a := make([]any, len(args))
	for i, x := range args {
		switch v := x.(type) {
		case string:
			s[i] = v
		case int:
			s[i] = strconv.Itoa(v)
		default:
			panic(fmt.Sprintf("cohort: attrition label %s: argument %T", key, x))
		}
		a[i] = s[i]
	}
	text := fmt.Sprintf(f, a...)
	if len(args) == 0 {
		s = nil
	}
	return Label{Text: text, Key: key, Args: s}
}
