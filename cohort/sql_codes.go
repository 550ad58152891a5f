package cohort

import (
	"fmt"
	"strings"
)

// Code-list matching. A code list compiles to a boolean SQL expression over
// a code column and the event's date column; nothing is precomputed, so the
// expression reads only the event row and the (small, unpartitioned)
// dictionary:
//
//	(code = ANY($codes) OR code LIKE ANY($prefixes%) OR <ranges>)
//	AND NOT (<the same for exclude>)
//	AND <valid at the event date>
//
// Ranges compare the first len(from) characters, in the "C" collation, with
// from and to. Validity ("event_date", the default) uses the system's
// dictionary as the ETL does: a code is valid on day d when a dictionary
// row has valid_from <= d AND (valid_to IS NULL OR d <= valid_to); a system
// whose dictionary is empty is not checked (the ETL does not check it
// either), and ATC has no validity dates in its dictionary, so ATC lists
// are never checked.

// dictValidity is, per system, the dictionary and its extra filter used to
// check a code's validity, or "" when the system has none.
var dictValidity = map[string]struct{ table, codeCol, filter string }{
	SystemICD9Dx:     {"dict_icd9cm", "code", "kind = 'dx'"},
	SystemICD9Proc:   {"dict_icd9cm", "code", "kind = 'proc'"},
	SystemAIC:        {"dict_product", "aic", ""},
	SystemExemption:  {"dict_exemption", "code", ""},
	SystemOutpatient: {"dict_outpatient", "code", ""},
}

// codeSetExpr is the expression "col matches cs", or "" when cs is empty.
func (b *sqlb) codeSetExpr(col string, cs *CodeSet) string {
	if cs == nil {
		return ""
	}
	var ors []string
	if len(cs.Codes) > 0 {
		ors = append(ors, fmt.Sprintf("%s = ANY(%s)", col, b.arg(cs.Codes, "text[]")))
	}
	if len(cs.Prefixes) > 0 {
		// Codes are capitals, digits and dots (validated), none of which
		// LIKE treats specially.
		pats := make([]string, len(cs.Prefixes))
		for i, p := range cs.Prefixes {
			pats[i] = p + "%"
		}
		ors = append(ors, fmt.Sprintf("%s LIKE ANY(%s)", col, b.arg(pats, "text[]")))
	}
	for _, r := range cs.Ranges {
		ors = append(ors, fmt.Sprintf("left(%s, %d) COLLATE \"C\" BETWEEN %s AND %s",
			col, len(r.From), b.arg(r.From, "text"), b.arg(r.To, "text")))
	}
	if len(ors) == 0 {
		return ""
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// codeListExpr is the expression "col holds a code of cl, valid on
// dateExpr".
func (b *sqlb) codeListExpr(cl *CodeList, col, dateExpr string) string {
	parts := []string{}
	inc := b.codeSetExpr(col, &cl.Include)
	if inc == "" {
		inc = "false"
	}
	parts = append(parts, inc)
	if exc := b.codeSetExpr(col, cl.Exclude); exc != "" {
		parts = append(parts, "NOT "+exc)
	}
	if cl.Validity != "ignore" {
		if d, ok := dictValidity[cl.System]; ok {
			any, match := "true", ""
			if d.filter != "" {
				any, match = d.filter, "v."+d.filter+" AND "
			}
			parts = append(parts, fmt.Sprintf(
				"(NOT EXISTS (SELECT 1 FROM %[1]s WHERE %[2]s) OR EXISTS (SELECT 1 FROM %[1]s v WHERE %[3]sv.%[4]s = %[5]s AND v.valid_from <= %[6]s AND (v.valid_to IS NULL OR %[6]s <= v.valid_to)))",
				ident(d.table), any, match, d.codeCol, col, dateExpr))
		}
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}
