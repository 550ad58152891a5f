package cohort

import (
	"fmt"

	"github.com/beaver-analytics/beaver/cohort/codelists"
)

// Comorbidity scores (covariate kinds charlson and mcs). Each uses a
// shipped list of cohort/codelists: charlson → "charlson_quan2005", mcs →
// "mcs_corrao2017". A condition is present at an entry when, with its
// admission date (hospital) or dispensing date (pharmacy or direct
// distribution) in the covariate's window, a hospital diagnosis in any
// position matches its ICD-9-CM codes (valid at the admission date, as for
// code lists) or a dispensing matches its ATC codes. The score is the sum
// of the weights of the present conditions, leaving out a condition whose
// superseding condition is also present (Charlson: diabetes without
// complications under diabetes with complications, mild under moderate or
// severe liver disease, any malignancy under metastatic solid tumour); 0
// when none is present. The lists are bound as arrays of rules
// (condition, n, lo, hi): a code matches when its first n characters lie
// in [lo, hi] in the "C" collation.

// comorbidityLists is the shipped list of each comorbidity kind.
var comorbidityLists = map[string]string{
	KindCharlson: "charlson_quan2005",
	KindMCS:      "mcs_corrao2017",
}

// comorbidityStep writes cov_<name> for a charlson or mcs covariate.
func (c *compiler) comorbidityStep(cv *Covariate) bool {
	name, ok := comorbidityLists[cv.Kind]
	if !ok {
		return false
	}
	s := codelists.MustGet(name)
	b := &sqlb{}
	var ids, sup []string
	var weights []float64
	var dx, atc []codelists.Rule
	for _, cd := range s.Conditions {
		ids = append(ids, cd.ID)
		weights = append(weights, cd.Weight)
		sup = append(sup, cd.SupersededBy)
		dx = append(dx, cd.ICD9Dx.Rules(cd.ID)...)
		atc = append(atc, cd.ATC.Rules(cd.ID)...)
	}
	rules := func(rs []codelists.Rule) string {
		var cond, lo, hi []string
		var n []int32
		for _, r := range rs {
			cond, lo, hi = append(cond, r.Condition), append(lo, r.Lo), append(hi, r.Hi)
			n = append(n, int32(r.N))
		}
		return fmt.Sprintf("SELECT * FROM unnest(%s, %s, %s, %s)",
			b.arg(cond, "text[]"), b.arg(n, "integer[]"), b.arg(lo, "text[]"), b.arg(hi, "text[]"))
	}
	lo, hi := c.bounds(b, cv.Window, nil)
	within := func(col string) string {
		var w string
		if lo != "" {
			w += fmt.Sprintf(" AND %s >= %s", col, lo)
		}
		if hi != "" {
			w += fmt.Sprintf(" AND %s <= %s", col, hi)
		}
		return w
	}
	cohort := c.studyTable("cohort")
	sql := fmt.Sprintf(`(person_id, entry_no, value)
WITH cond (cond, weight, superseded_by) AS (
  SELECT * FROM unnest(%s, %s, %s)
), dx (cond, n, lo, hi) AS (
  %s
), hit AS (
  SELECT DISTINCT i.person_id, i.entry_no, dx.cond
  FROM %s i
  JOIN %s d ON d.person_id = i.person_id%s
  JOIN dx ON left(d.code, dx.n) COLLATE "C" BETWEEN dx.lo AND dx.hi
  WHERE %s
    AND %s`,
		b.arg(ids, "text[]"), b.arg(weights, "double precision[]"), b.arg(sup, "text[]"),
		rules(dx), cohort, c.flow("sdo_diagnosis"), within("d.admission_date"), c.dv(b, "d"),
		validAt(SystemICD9Dx, "d.code", "d.admission_date"))
	if len(atc) > 0 {
		sql = fmt.Sprintf(`%s
  UNION
  SELECT i.person_id, i.entry_no, atc.cond
  FROM %s i
  JOIN (SELECT x.person_id, x.dispensing_date, x.atc FROM %s x WHERE %s
        UNION ALL
        SELECT x.person_id, x.dispensing_date, x.atc FROM %s x WHERE %s) x ON x.person_id = i.person_id%s
  JOIN (%s) AS atc (cond, n, lo, hi) ON left(x.atc, atc.n) COLLATE "C" BETWEEN atc.lo AND atc.hi`,
			sql, cohort, c.flow("pharmacy"), c.dv(b, "x"), c.flow("direct_distribution"), c.dv(b, "x"),
			within("x.dispensing_date"), rules(atc))
	}
	// The score is summed over hit (distinct conditions per entry) and
	// joined, not read per entry by EXISTS over the hit CTE, which has no
	// index: that compared every entry and condition with every hit of
	// the partition.
	sql += fmt.Sprintf(`
), score AS (
  SELECT h.person_id, h.entry_no, sum(cond.weight) AS v
  FROM hit h
  JOIN cond ON cond.cond = h.cond
  WHERE NOT EXISTS (SELECT 1 FROM hit s
                    WHERE s.person_id = h.person_id AND s.entry_no = h.entry_no AND s.cond = cond.superseded_by)
  GROUP BY h.person_id, h.entry_no
)
SELECT i.person_id, i.entry_no, coalesce(score.v, 0)
FROM %s i
LEFT JOIN score ON score.person_id = i.person_id AND score.entry_no = i.entry_no`, cohort)
	c.addCovariate(cv, b, sql, []string{c.stepName("cohort")})
	return true
}

// validAt is the condition "the code in col is valid on dateExpr" of
// system's dictionary, the same test as codeListExpr's with validity
// "event_date" (an empty dictionary is not checked), or "true" when the
// system has no validity dates.
func validAt(system, col, dateExpr string) string {
	d, ok := dictValidity[system]
	if !ok {
		return "true"
	}
	any, match := "true", ""
	if d.filter != "" {
		any, match = d.filter, "v."+d.filter+" AND "
	}
	return fmt.Sprintf(
		"(NOT EXISTS (SELECT 1 FROM %[1]s WHERE %[2]s) OR EXISTS (SELECT 1 FROM %[1]s v WHERE %[3]sv.%[4]s = %[5]s AND v.valid_from <= %[6]s AND (v.valid_to IS NULL OR %[6]s <= v.valid_to)))",
		ident(d.table), any, match, d.codeCol, col, dateExpr)
}
