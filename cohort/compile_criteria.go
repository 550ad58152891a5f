package cohort

import (
	"fmt"
	"strings"
)

// Stage 3: inclusion and exclusion criteria. One builder per kind of
// criterion, each returning a boolean SQL expression over the entry row
// "i" of the index table (columns person_id, index_date, index_end):
//
//   - event: the number of occurrences (records, or distinct start days)
//     whose start lies in the window ("start") or whose span overlaps it
//     ("overlap"), kept only when the distance condition holds for that
//     occurrence, compared with the count;
//   - gap: the longest run of days in the window without an occurrence
//     starting, ≥ days; an open bound of a relative window stops at the
//     merged enrolment spell holding day 0 (an open spell end: 9999-12-31);
//   - demographic: age, sex at day 0 from the registry; ASL and municipality
//     from an enrolment record covering day 0;
//   - group: AND, OR, or the number of true members compared with n.
//
// An anchor "index_end" with an open index end (an exemption without end)
// is 9999-12-31 (not 'infinity', whose differences are errors): windows
// after it are empty.

// criteriaStep writes criteria: one row per index entry, one boolean column
// c1..cN per top-level criterion, in order.
func (c *compiler) criteriaStep() error {
	crits := c.p.Phases.Criteria
	b := &sqlb{}
	deps := []string{c.stepName("index"), c.stepName("spells")}
	cols := []string{"person_id bigint NOT NULL", "entry_no integer NOT NULL"}
	names := []string{"person_id", "entry_no"}
	exprs := []string{"i.person_id", "i.entry_no"}
	for k := range crits {
		e, err := c.criterion(b, &crits[k], fmt.Sprintf("phases.criteria[%d]", k), &deps)
		if err != nil {
			return err
		}
		cols = append(cols, fmt.Sprintf("c%d boolean NOT NULL", k+1))
		names = append(names, fmt.Sprintf("c%d", k+1))
		exprs = append(exprs, "coalesce("+e+", false)")
	}
	cols = append(cols, "PRIMARY KEY (person_id, entry_no)")
	sql := fmt.Sprintf("(%s)\nSELECT %s\nFROM %s i",
		strings.Join(names, ", "), strings.Join(exprs, ",\n       "), c.studyTable("index"))
	c.add(StepCriteria, "criteria", strings.Join(cols, ",\n"), b, sql, deps...)
	return nil
}

// studyTable is the quoted name of a study table of the current partition.
func (c *compiler) studyTable(base string) string {
	return ident(c.opts.Schema, c.tableName(base))
}

// criterion compiles one criterion (any kind) to a boolean expression.
func (c *compiler) criterion(b *sqlb, cr *Criterion, path string, deps *[]string) (string, error) {
	switch {
	case cr.Event != "":
		return c.eventCriterion(b, cr, deps), nil
	case cr.Gap != nil:
		return c.gapCriterion(b, cr, deps), nil
	case cr.Demographic != nil:
		return c.demographic(b, cr.Demographic, "i.index_date"), nil
	case cr.Group != nil:
		g := cr.Group
		var parts []string
		for k := range g.Criteria {
			e, err := c.criterion(b, &g.Criteria[k], fmt.Sprintf("%s.group.criteria[%d]", path, k), deps)
			if err != nil {
				return "", err
			}
			parts = append(parts, "coalesce("+e+", false)")
		}
		switch g.Op {
		case OpAll:
			return "(" + strings.Join(parts, "\n AND ") + ")", nil
		case OpAny:
			return "(" + strings.Join(parts, "\n OR ") + ")", nil
		case OpAtLeast, OpAtMost:
			op := ">="
			if g.Op == OpAtMost {
				op = "<="
			}
			return fmt.Sprintf("((%s) %s %s)", strings.Join(prefixEach(parts, "(", ")::int"), " + "), op, b.arg(*g.N, "integer")), nil
		}
	}
	return "", fmt.Errorf("cohort: compile: %s: criterion of unknown kind", path)
}

// prefixEach wraps every string in pre and post.
func prefixEach(xs []string, pre, post string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = pre + x + post
	}
	return out
}

// anchor is the day-0 expression of a window.
func anchor(w *Window) string {
	if w != nil && w.Anchor == AnchorIndexEnd {
		return "coalesce(i.index_end, '9999-12-31'::date)"
	}
	return "i.index_date"
}

// bounds returns the first and last day of a criterion's window or dates
// as SQL date expressions ("" when open).
func (c *compiler) bounds(b *sqlb, w *Window, dates *DateRange) (lo, hi string) {
	if w != nil {
		a := anchor(w)
		if w.Start != nil {
			lo = fmt.Sprintf("%s + %s", a, b.arg(w.Start.V, "integer"))
		}
		if w.End != nil {
			hi = fmt.Sprintf("%s + %s", a, b.arg(w.End.V, "integer"))
		}
		return lo, hi
	}
	if dates != nil {
		if dates.Start != nil {
			lo = b.date(dates.Start.V)
		}
		if dates.End != nil {
			hi = b.date(dates.End.V)
		}
	}
	return lo, hi
}

// dep records that the step depends on the event's table.
func (c *compiler) dep(deps *[]string, event string) {
	d := c.stepName("ev_" + event)
	if !containsStr(*deps, d) {
		*deps = append(*deps, d)
	}
}

// eventCriterion counts the occurrences in the window and compares.
func (c *compiler) eventCriterion(b *sqlb, cr *Criterion, deps *[]string) string {
	c.dep(deps, cr.Event)
	lo, hi := c.bounds(b, cr.Window, cr.Dates)
	conds := []string{"o.person_id = i.person_id"}
	if cr.Match == "overlap" {
		if hi != "" {
			conds = append(conds, "o.start_date <= "+hi)
		}
		if lo != "" {
			conds = append(conds, "coalesce(o.end_date, 'infinity'::date) >= "+lo)
		}
	} else {
		if lo != "" {
			conds = append(conds, "o.start_date >= "+lo)
		}
		if hi != "" {
			conds = append(conds, "o.start_date <= "+hi)
		}
	}
	if d := cr.Distance; d != nil {
		c.dep(deps, d.Event)
		dc := []string{"o2.person_id = o.person_id"}
		if d.Start != nil {
			dc = append(dc, "o2.start_date >= o.start_date + "+b.arg(d.Start.V, "integer"))
		}
		if d.End != nil {
			dc = append(dc, "o2.start_date <= o.start_date + "+b.arg(d.End.V, "integer"))
		}
		not := ""
		if d.Absent {
			not = "NOT "
		}
		conds = append(conds, fmt.Sprintf("%sEXISTS (SELECT 1 FROM %s o2 WHERE %s)", not, c.eventTable(d.Event), strings.Join(dc, " AND ")))
	}
	counted := "count(*)"
	op, n := ">=", 1
	if ct := cr.Count; ct != nil {
		if ct.DistinctDates {
			counted = "count(DISTINCT o.start_date)"
		}
		switch {
		case ct.AtLeast != nil:
			n = *ct.AtLeast
		case ct.AtMost != nil:
			op, n = "<=", *ct.AtMost
		case ct.Exactly != nil:
			op, n = "=", *ct.Exactly
		}
	}
	return fmt.Sprintf("((SELECT %s FROM %s o\n   WHERE %s) %s %s)",
		counted, c.eventTable(cr.Event), strings.Join(conds, " AND "), op, b.arg(n, "integer"))
}

// gapCriterion finds the longest run of days without an occurrence.
func (c *compiler) gapCriterion(b *sqlb, cr *Criterion, deps *[]string) string {
	c.dep(deps, cr.Gap.Event)
	lo, hi := c.bounds(b, cr.Window, cr.Dates)
	spell := fmt.Sprintf("(SELECT s.%%s FROM %s s WHERE s.person_id = i.person_id AND s.start_date <= i.index_date AND (s.end_date IS NULL OR s.end_date >= i.index_date))",
		c.studyTable("spells"))
	if lo == "" {
		lo = fmt.Sprintf(spell, "start_date")
	}
	if hi == "" {
		hi = fmt.Sprintf("coalesce(%s, '9999-12-31'::date)", fmt.Sprintf(spell, "end_date"))
	} else {
		// Days after 9999-12-31 (a window after an open index end) do not
		// exist: such a window is empty and holds no gap.
		hi = fmt.Sprintf("least(%s, '9999-12-31'::date)", hi)
	}
	// Days lo−1 and hi+1 act as occurrences that bound the runs; a run
	// between occurrences on days x < y is y − x − 1 days long.
	return fmt.Sprintf(`((SELECT max(g.next - g.d - 1) FROM (
     SELECT x.d, lead(x.d, 1, (%[2]s) + 1) OVER (ORDER BY x.d) AS next
     FROM (SELECT (%[1]s) - 1 AS d
           UNION SELECT o.start_date FROM %[3]s o
                 WHERE o.person_id = i.person_id AND o.start_date >= %[1]s AND o.start_date <= %[2]s) x) g) >= %[4]s)`,
		lo, hi, c.eventTable(cr.Gap.Event), b.arg(cr.Gap.Days.V, "integer"))
}

// demographic is a condition on the person at the day expression.
func (c *compiler) demographic(b *sqlb, d *Demographic, day string) string {
	var conds []string
	if d.Sex != "" {
		conds = append(conds, "p.sex = "+b.arg(d.Sex, "text"))
	}
	if d.Age != nil {
		age := fmt.Sprintf("extract(year FROM age(%s, p.birth_date))", day)
		if d.Age.Min != nil {
			conds = append(conds, fmt.Sprintf("%s >= %s", age, b.arg(d.Age.Min.V, "integer")))
		}
		if d.Age.Max != nil {
			conds = append(conds, fmt.Sprintf("%s <= %s", age, b.arg(d.Age.Max.V, "integer")))
		}
	}
	residence := func(col string, xs []Text) {
		if len(xs) == 0 {
			return
		}
		vals := make([]string, len(xs))
		for i, x := range xs {
			vals[i] = x.V
		}
		conds = append(conds, fmt.Sprintf("EXISTS (SELECT 1 FROM %s r WHERE r.person_id = p.person_id AND r.start_date <= %s AND (r.end_date IS NULL OR %s <= r.end_date) AND r.%s = ANY(%s) AND %s)",
			c.flow("enrolment"), day, day, col, b.arg(vals, "text[]"), c.dv(b, "r")))
	}
	residence("asl", d.ASLs)
	residence("municipality", d.Municipalities)
	return fmt.Sprintf("EXISTS (SELECT 1 FROM %s p WHERE p.person_id = i.person_id AND %s AND %s)",
		c.flow("person"), c.dv(b, "p"), strings.Join(conds, " AND "))
}

// cohortStep writes cohort: the entries that pass every criterion (and,
// with exposure groups, have one group on day 0).
func (c *compiler) cohortStep() {
	b := &sqlb{}
	var conds []string
	conds = append(conds, "NOT i.two_groups")
	for k := range c.p.Phases.Criteria {
		conds = append(conds, fmt.Sprintf("k.c%d", k+1))
	}
	sql := fmt.Sprintf(`(person_id, entry_no, index_date, index_end, index_group)
SELECT i.person_id, i.entry_no, i.index_date, i.index_end, i.index_group
FROM %s i
JOIN %s k ON k.person_id = i.person_id AND k.entry_no = i.entry_no
WHERE %s`, c.studyTable("index"), c.studyTable("criteria"), strings.Join(conds, " AND "))
	c.add(StepCohort, "cohort", `person_id bigint NOT NULL,
entry_no integer NOT NULL,
index_date date NOT NULL,
index_end date,
index_group text,
PRIMARY KEY (person_id, entry_no)`, b, sql, c.stepName("index"), c.stepName("criteria"))
}

// attritionStep writes attrition: per line, the persons and entries that
// remain. First the population lines, counted over the candidate days
// (a person's days with an index event, or the registry's persons on a
// fixed date): line 0 all of them, then one line per population
// condition in order (popConds: accrual, alive, area, sex, age, ASL,
// enrolment, washout), each keeping the days that meet it and every
// condition before it; so index events outside an enrolment spell, say,
// are counted where they leave. Then, with occurrence "first", the first
// qualifying day of each person (the index entries; with "all" or a date
// they are the days of the last population line). Then, with exposure
// groups, entries with one group on day 0; then one line per criterion in
// order. Persons never span partitions, so the lines of all partitions
// add up; every partition has the same lines.
func (c *compiler) attritionStep() {
	b := &sqlb{}
	first, conds := c.popConds(&sqlb{})
	var parts []string
	c.labels = nil
	line := func(lb Label, persons, entries string) {
		c.labels = append(c.labels, lb)
		parts = append(parts, fmt.Sprintf("SELECT %d, %s, %s, %s", len(parts), b.arg(lb.Text, "text"), persons, entries))
	}
	// Population lines from histograms of passed: the days by their own
	// value, the persons by their best day's; line j keeps passed >= j.
	for j := 0; j <= len(conds); j++ {
		lb := first
		if j > 0 {
			lb = conds[j-1].label
		}
		line(lb, fmt.Sprintf("(SELECT coalesce(sum(pp.n), 0) FROM pp WHERE pp.passed >= %d)::bigint", j),
			fmt.Sprintf("(SELECT coalesce(sum(pd.n), 0) FROM pd WHERE pd.passed >= %d)::bigint", j))
	}
	// The entry lines: per person, its entries that meet each line's
	// conditions and whether it has one; summed once over the persons.
	// One pass over the entries, and on Citus one aggregate gathered from
	// the shards for all of them.
	var perPerson, sums []string
	count := func(lb Label, cond string) {
		k := len(sums)
		perPerson = append(perPerson, fmt.Sprintf("count(*) FILTER (WHERE %[1]s) AS e%[2]d, (bool_or(%[1]s) IS TRUE)::integer AS p%[2]d", cond, k))
		sums = append(sums, fmt.Sprintf("sum(x.e%[1]d) AS e%[1]d, sum(x.p%[1]d) AS p%[1]d", k))
		line(lb, fmt.Sprintf("(SELECT coalesce(t.p%d, 0) FROM t)::bigint", k), fmt.Sprintf("(SELECT coalesce(t.e%d, 0) FROM t)::bigint", k))
	}
	if c.p.Phases.Index.Date == nil && c.p.Phases.Index.Occurrence != "all" {
		count(label("first_day"), "true")
	}
	cond := "true"
	if len(c.p.Phases.Index.Groups) > 0 {
		cond = "NOT i.two_groups"
		count(label("one_group"), cond)
	}
	for k, cr := range c.p.Phases.Criteria {
		cond += fmt.Sprintf(" AND k.c%d", k+1)
		count(Label{Text: cr.Name}, cond)
	}
	entries := ""
	if len(sums) > 0 {
		entries = fmt.Sprintf(`, t AS MATERIALIZED (
  SELECT %s
  FROM (SELECT i.person_id, %s
        FROM %s i
        JOIN %s k ON k.person_id = i.person_id AND k.entry_no = i.entry_no
        GROUP BY i.person_id) x
)`, strings.Join(sums, ", "), strings.Join(perPerson, ",\n               "), c.studyTable("index"), c.studyTable("criteria"))
	}
	sql := fmt.Sprintf(`(line, label, persons, entries)
WITH pd AS MATERIALIZED (
  SELECT d.passed, count(*) AS n FROM %[1]s d GROUP BY d.passed
), pp AS MATERIALIZED (
  SELECT m.passed, count(*) AS n
  FROM (SELECT d.person_id, max(d.passed) AS passed FROM %[1]s d GROUP BY d.person_id) m
  GROUP BY m.passed
)%[2]s
%[3]s`, c.studyTable("candidates"), entries, strings.Join(parts, "\nUNION ALL\n"))
	c.add(StepAttrition, "attrition", `line integer NOT NULL,
label text NOT NULL,
persons bigint NOT NULL,
entries bigint NOT NULL,
PRIMARY KEY (line)`, b, sql, c.stepName("candidates"), c.stepName("index"), c.stepName("criteria"))
}
