package cohort

import (
	"fmt"
	"slices"
	"strings"
)

// Stage 2, the index, in two steps.
//
// candidates: one row per candidate day, a person's day with an index
// event (or, with a fixed date, each person of the registry on it), with
// passed, the number of population conditions met in order before the
// first failed (popConds: accrual, alive, area, sex, age, ASL, data
// scope, enrolment, washout), the best of the day's occurrences (the
// washout is per occurrence; the others per day); day_end, the last day of
// the day's qualifying occurrences; gmin and gmax, the least and greatest
// group of all the day's occurrences (two groups on the day when they
// differ). The conditions are evaluated in a CASE, each only when the
// ones before it hold, once per occurrence (the CTE q is MATERIALIZED:
// inlined, PostgreSQL copied the CASE into each aggregate reading it and
// ran the enrolment lookup three times per occurrence). The attrition
// step counts the population lines from it, and the index step reads it,
// so the conditions are computed once and no study table is joined back
// to itself (PostgreSQL cannot know their row counts: a wrong guess made
// a 10 k × 10 k nested loop).
//
// index: the cohort entries. One row per entry, entry_no 1, 2, ... by
// date within a person.
//
//   - Candidates are the occurrences of the index events (or, with a fixed
//     date, every person on that date) of the residents of the data scope
//     on that day (Options.Scope, an enrolment record covering it), when
//     there is one.
//   - An occurrence qualifies when it meets every population condition:
//     on its date d it lies in the accrual period, the person is alive
//     (no death before d), in the area (entered on or before d), of the
//     sex, aged (completed years at d) in the range, resident in one of
//     the ASLs (an enrolment record covering d), continuously enrolled on days
//     d−before…d+after (a merged spell of the spells step), and, with a
//     washout, no occurrence of the same event definition (scope "same")
//     or of any index event ("all") starts on days d−washout…d−1 (in all
//     history, not only in accrual).
//   - Qualifying occurrences are grouped by day: a day is one entry; with
//     "first" only a person's earliest qualifying day is kept.
//   - With exposure groups, an entry whose day holds index events of two or
//     more groups (qualifying or not) gets index_group NULL and
//     two_groups true: it is excluded by the next stage and counted in
//     attrition.
//
// index_end is the last day of the entry's qualifying occurrences (NULL:
// open, an exemption without an end).

// popCond is one population condition of an index occurrence: its
// attrition label and its SQL over the occurrence o, the person p and the
// merged enrolment spell sp holding the occurrence's day.
type popCond struct {
	label Label
	sql   string
}

// popConds is the population conditions in attrition order, with the
// label of the attrition line before them (what the candidates are).
func (c *compiler) popConds(b *sqlb) (first Label, conds []popCond) {
	ix := &c.p.Phases.Index
	pop := &c.p.Phases.Population
	dated := ix.Date != nil
	cand := "o.start_date"
	firstKey := "index_days"
	if dated {
		firstKey = "registry"
	}
	first = label(firstKey)
	if scope := c.scope(); len(scope) > 0 {
		// The scope filters the candidates themselves (scopeFilter): a
		// scoped user never sees a count of the region outside it.
		first = label(firstKey+"_scope", strings.Join(scope, ", "))
	}
	if !dated {
		conds = append(conds, popCond{label("accrual", pop.Accrual.Start.V, pop.Accrual.End.V),
			fmt.Sprintf("o.start_date BETWEEN %s AND %s", b.date(pop.Accrual.Start.V), b.date(pop.Accrual.End.V))})
	}
	conds = append(conds, popCond{label("alive"), fmt.Sprintf("(p.death_date IS NULL OR p.death_date >= %s)", cand)})
	if pop.Area != nil {
		conds = append(conds, popCond{label("area", pop.Area.V),
			fmt.Sprintf("EXISTS (SELECT 1 FROM %s a WHERE a.person_id = o.person_id AND a.area = %s AND a.entry_date <= %s AND %s)",
				c.flow("area_person"), b.arg(pop.Area.V, "text"), cand, c.dv(b, "a"))})
	}
	if pop.Sex != "" {
		conds = append(conds, popCond{label("sex", pop.Sex), "p.sex = " + b.arg(pop.Sex, "text")})
	}
	if pop.Age != nil {
		age := fmt.Sprintf("extract(year FROM age(%s, p.birth_date))", cand)
		var parts []string
		var lb Label
		switch {
		case pop.Age.Min != nil && pop.Age.Max != nil:
			lb = label("age_range", pop.Age.Min.V, pop.Age.Max.V)
		case pop.Age.Min != nil:
			lb = label("age_min", pop.Age.Min.V)
		default:
			lb = label("age_max", pop.Age.Max.V)
		}
		if pop.Age.Min != nil {
			parts = append(parts, fmt.Sprintf("%s >= %s", age, b.arg(pop.Age.Min.V, "integer")))
		}
		if pop.Age.Max != nil {
			parts = append(parts, fmt.Sprintf("%s <= %s", age, b.arg(pop.Age.Max.V, "integer")))
		}
		conds = append(conds, popCond{lb, strings.Join(parts, " AND ")})
	}
	if len(pop.ASLs) > 0 {
		asls := make([]string, len(pop.ASLs))
		for i, a := range pop.ASLs {
			asls[i] = a.V
		}
		conds = append(conds, popCond{label("resident", strings.Join(asls, ", ")), c.resident(b, asls, cand)})
	}
	before, after := 0, 0
	if v := pop.Enrolment.Before; v != nil {
		before = v.V
	}
	if v := pop.Enrolment.After; v != nil {
		after = v.V
	}
	enrolled := label("enrolled", -before, after)
	if before == 0 && after == 0 {
		enrolled = label("enrolled_day0")
	}
	// sp is the merged spell holding day 0 (candidatesStep joins it):
	// spells do not overlap, so a spell covering days d−before…d+after
	// can only be that one.
	conds = append(conds, popCond{enrolled, fmt.Sprintf("sp.start_date <= %s - %s AND (sp.end_date IS NULL OR sp.end_date >= %s + %s)",
		cand, b.arg(before, "integer"), cand, b.arg(after, "integer"))})
	if w := ix.Washout; w != nil && !dated {
		key := "washout_same"
		if w.Scope == "all" {
			key = "washout_any"
		}
		conds = append(conds, popCond{label(key, w.Days.V), "o.prior = 0"})
	}
	return first, conds
}

// candidatesStep writes candidates (see above).
func (c *compiler) candidatesStep() {
	ix := &c.p.Phases.Index
	b := &sqlb{}
	var deps []string
	var occ string
	dated := ix.Date != nil
	if dated {
		occ = fmt.Sprintf("SELECT x.person_id, %s AS start_date, %s AS end_date, NULL::text AS grp, 0 AS ev\n  FROM %s x\n  WHERE %s",
			b.date(ix.Date.V), b.date(ix.Date.V), c.flow("person"), c.dv(b, "x"))
	} else {
		type src struct{ grp, event string }
		var srcs []src
		if len(ix.Groups) > 0 {
			for _, g := range ix.Groups {
				for _, e := range g.Events {
					srcs = append(srcs, src{g.Name, e})
				}
			}
		} else {
			for _, e := range ix.Events {
				srcs = append(srcs, src{"", e})
			}
		}
		evNo := map[string]int{}
		var parts []string
		for _, s := range srcs {
			n, ok := evNo[s.event]
			if !ok {
				n = len(evNo)
				evNo[s.event] = n
			}
			grp := "NULL::text"
			if s.grp != "" {
				grp = b.arg(s.grp, "text")
			}
			parts = append(parts, fmt.Sprintf("SELECT o.person_id, o.start_date, o.end_date, %s AS grp, %d AS ev FROM %s o",
				grp, n, c.eventTable(s.event)))
			dep := c.stepName("ev_" + s.event)
			if !containsStr(deps, dep) {
				deps = append(deps, dep)
			}
		}
		occ = strings.Join(parts, "\n  UNION ALL\n  ")
	}
	deps = append(deps, c.stepName("spells"))
	// The washout counts, with a window over each person's occurrences
	// sorted by day, those on days d−washout … d−1 (a RANGE frame): one
	// pass, where a NOT EXISTS compared every occurrence with every other
	// of the person (2.8 M comparisons for 70 k occurrences of a partition
	// of the 100 k region).
	prior := "0"
	if ix.Washout != nil && !dated {
		part := "o.person_id, o.ev"
		if ix.Washout.Scope == "all" {
			part = "o.person_id"
		}
		prior = fmt.Sprintf(`count(*) OVER (PARTITION BY %s ORDER BY o.start_date
                             RANGE BETWEEN make_interval(days => %s) PRECEDING AND '1 day'::interval PRECEDING)`,
			part, b.arg(ix.Washout.Days.V, "integer"))
	}
	_, conds := c.popConds(b)
	whens := make([]string, len(conds))
	for k, pc := range conds {
		whens[k] = fmt.Sprintf("WHEN (%s) IS NOT TRUE THEN %d", pc.sql, k)
	}
	all := b.arg(len(conds), "integer")
	sql := fmt.Sprintf(`(person_id, day, day_end, gmin, gmax, passed)
WITH occ AS (
  %s
), q AS MATERIALIZED (
  SELECT o.person_id, o.start_date, o.end_date, o.grp,
         CASE %s ELSE %d END AS passed
  FROM (SELECT o.*, %s AS prior FROM occ o) o
  JOIN %s p ON p.person_id = o.person_id AND %s
  LEFT JOIN %s sp ON sp.person_id = o.person_id AND sp.start_date <= o.start_date AND (sp.end_date IS NULL OR sp.end_date >= o.start_date)%s
)
SELECT q.person_id, q.start_date,
       CASE WHEN bool_or(q.end_date IS NULL) FILTER (WHERE q.passed = %s) THEN NULL
            ELSE max(q.end_date) FILTER (WHERE q.passed = %s) END,
       min(q.grp), max(q.grp), max(q.passed)
FROM q
GROUP BY q.person_id, q.start_date`,
		occ, strings.Join(whens, "\n              "), len(conds), prior, c.flow("person"), c.dv(b, "p"), c.studyTable("spells"), c.scopeFilter(b), all, all)
	c.add(StepIndex, "candidates", `person_id bigint NOT NULL,
day date NOT NULL,
day_end date,
gmin text,
gmax text,
passed integer NOT NULL,
PRIMARY KEY (person_id, day)`, b, sql, deps...)
}

// indexStep writes index from candidates (see above): the days that meet
// every population condition, or the first of each person's.
func (c *compiler) indexStep() error {
	b := &sqlb{}
	_, conds := c.popConds(&sqlb{})
	all := b.arg(len(conds), "integer")
	days := fmt.Sprintf("SELECT d.* FROM %s d WHERE d.passed = %s", c.studyTable("candidates"), all)
	if c.p.Phases.Index.Occurrence != "all" {
		days = fmt.Sprintf("SELECT DISTINCT ON (d.person_id) d.* FROM %s d WHERE d.passed = %s ORDER BY d.person_id, d.day",
			c.studyTable("candidates"), all)
	}
	sql := fmt.Sprintf(`(person_id, entry_no, index_date, index_end, index_group, two_groups)
SELECT d.person_id, row_number() OVER (PARTITION BY d.person_id ORDER BY d.day),
       d.day, d.day_end,
       CASE WHEN d.gmin = d.gmax THEN d.gmin END, coalesce(d.gmin <> d.gmax, false)
FROM (%s) d`, days)
	c.add(StepIndex, "index", `person_id bigint NOT NULL,
entry_no integer NOT NULL,
index_date date NOT NULL,
index_end date,
index_group text,
two_groups boolean NOT NULL,
PRIMARY KEY (person_id, entry_no)`, b, sql, c.stepName("candidates"))
	return nil
}

// resident is the condition that the candidate o lives, on day cand, in
// one of the ASLs (an enrolment record covering the day).
func (c *compiler) resident(b *sqlb, asls []string, cand string) string {
	return fmt.Sprintf("EXISTS (SELECT 1 FROM %s r WHERE r.person_id = o.person_id AND r.start_date <= %s AND (r.end_date IS NULL OR %s <= r.end_date) AND r.asl = ANY(%s) AND %s)",
		c.flow("enrolment"), cand, cand, b.arg(asls, "text[]"), c.dv(b, "r"))
}

// scopeFilter is the WHERE clause of the candidates that keeps only the
// residents of the data scope on day 0 (Options.Scope), or "" without a
// scope. It filters before anything is counted: no attrition line of a
// scoped run counts persons outside the scope.
func (c *compiler) scopeFilter(b *sqlb) string {
	scope := c.scope()
	if len(scope) == 0 {
		return ""
	}
	return "\n  WHERE " + c.resident(b, scope, "o.start_date")
}

// scope is Options.Scope sorted and without duplicates, nil when empty.
func (c *compiler) scope() []string {
	if len(c.opts.Scope) == 0 {
		return nil
	}
	s := slices.Clone(c.opts.Scope)
	slices.Sort(s)
	return slices.Compact(s)
}

// containsStr reports whether xs holds x.
func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
