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
// Each member is bound as one array (the ranges as two, see rangesExpr),
// so the number of codes never changes the number of arguments.
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
	if len(cs.Ranges) > 0 {
		ors = append(ors, b.rangesExpr(col, cs.Ranges))
	}
	if len(ors) == 0 {
		return ""
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// rangesExpr is "col lies in one of the ranges": the bounds are bound as
// two arrays (from, to), so a list of any number of ranges takes four
// arguments and no step can pass PostgreSQL's 65,535 (issue 14, point 8).
// A code c lies in [from, to] when left(c, len(from)) does, in the "C"
// collation. The lookup over the arrays is a subquery per row, 3 to 4
// times slower than a chain of BETWEENs (1 M codes, 3 ranges: 1.0 s
// against 0.3 s), so it runs only for the codes c with least(from) <= c <
// greatest(to || U+10FFFF), which every matching code satisfies:
// left(c, n) >= from implies c >= from, and left(c, n) <= to implies c <
// to || U+10FFFF (no character is above U+10FFFF; the greatest is taken
// after appending it, as "41" || U+10FFFF is above "4130" || U+10FFFF).
// A list whose ranges lie close together (the usual "410" to "414")
// reads the arrays only for the codes near them.
func (b *sqlb) rangesExpr(col string, rs []CodeRange) string {
	from, to := make([]string, len(rs)), make([]string, len(rs))
	const top = "\U0010FFFF" // above every character
	lo, hi := rs[0].From, rs[0].To+top
	for i, r := range rs {
		from[i], to[i] = r.From, r.To
		lo, hi = min(lo, r.From), max(hi, r.To+top)
	}
	return fmt.Sprintf("(%[1]s COLLATE \"C\" >= %[2]s AND %[1]s COLLATE \"C\" < %[3]s AND EXISTS (SELECT 1 FROM unnest(%[4]s, %[5]s) AS r(lo, hi) WHERE left(%[1]s, length(r.lo)) COLLATE \"C\" BETWEEN r.lo AND r.hi))",
		col, b.arg(lo, "text"), b.arg(hi, "text"), b.arg(from, "text[]"), b.arg(to, "text[]"))
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
