package cohort

import (
	"fmt"
	"strings"
)

// Stage 4 and 6: follow-up and outcomes.
//
// followup: one row per cohort entry whose follow-up is not empty.
// fu_start = anchor + start (anchor index_end open: the entry is dropped);
// fu_end = the earliest of the dates below, each a last day of follow-up:
//
//   - the first occurrence, on or after fu_start, of an event of an
//     outcome listed in end.outcomes;
//   - the death date (death, default true), from the registry;
//   - the end of the merged enrolment spell holding day 0 (enrolment_end,
//     default true; an open spell does not end follow-up);
//   - study_end; fu_start + max_days − 1; the data end (Plan.DataEnd:
//     Options.DataEnd, Options.EnrolmentEnd or a date, as the protocol's
//     follow_up.end.data_end says);
//   - the first occurrence on or after fu_start of a censoring event.
//
//   - switch: the first occurrence on or after fu_start of a switch event,
//     or of an index event of another group than the entry's;
//   - discontinuation: the end of the first treatment episode plus the
//     grace period (the discontinuation step).
//
// end_reason names the cause, ties broken in the order outcome, death,
// censoring, switch, discontinuation, enrolment_end, max_days, study_end,
// data_end (so an outcome on the day follow-up ends for another reason is
// counted as an outcome).
// fu_end is NULL when nothing ends follow-up (no study end, no data end,
// an open spell). Entries whose fu_end is before fu_start (dead or
// disenrolled before follow-up starts) have no row.

// followUpStep writes followup.
func (c *compiler) followUpStep(deps []string) error {
	f := &c.p.Phases.FollowUp
	b := &sqlb{}
	anchorExpr := "c.index_date"
	if f.Anchor == AnchorIndexEnd {
		anchorExpr = "c.index_end"
	}
	// Each candidate end is a column of e0 computed by a join, not a
	// correlated subquery: least() and the CASE naming the reason read
	// every column several times, and PostgreSQL copies an inlined
	// subquery into each use (31 subplans for the comparator example,
	// whose cost estimate then triggered JIT compilation: 8 s of a 9 s
	// step on 577 rows). Event candidates are grouped per entry (cte xN),
	// the registry and the spell holding day 0 are at most one row each.
	type cand struct{ reason, expr string }
	var cands []cand
	var ctes, joins []string
	first := func(events []string, extra func(e string) []string) string {
		k := len(ctes)
		var parts []string
		for _, e := range events {
			c.dep(&deps, e)
			conds := []string{"o.start_date >= f.fu_start"}
			if extra != nil {
				conds = append(conds, extra(e)...)
			}
			parts = append(parts, fmt.Sprintf("SELECT f.person_id, f.entry_no, o.start_date FROM f JOIN %s o ON o.person_id = f.person_id WHERE %s",
				c.eventTable(e), strings.Join(conds, " AND ")))
		}
		ctes = append(ctes, fmt.Sprintf(`x%d AS (
  SELECT y.person_id, y.entry_no, min(y.start_date) AS d
  FROM (%s) y
  GROUP BY y.person_id, y.entry_no
)`, k, strings.Join(parts, "\n        UNION ALL\n        ")))
		joins = append(joins, fmt.Sprintf("LEFT JOIN x%d ON x%d.person_id = f.person_id AND x%d.entry_no = f.entry_no", k, k, k))
		return fmt.Sprintf("x%d.d", k)
	}
	if len(f.End.Outcomes) > 0 {
		var evs []string
		for _, name := range f.End.Outcomes {
			for _, o := range c.p.Phases.Outcomes {
				if o.Name == name {
					evs = appendNew(evs, o.Events...)
				}
			}
		}
		cands = append(cands, cand{"outcome", first(evs, nil)})
	}
	if f.End.Death == nil || *f.End.Death {
		joins = append(joins, fmt.Sprintf("LEFT JOIN %s p ON p.person_id = f.person_id AND %s", c.flow("person"), c.dv(b, "p")))
		cands = append(cands, cand{"death", "p.death_date"})
	}
	if len(f.End.Censoring) > 0 {
		cands = append(cands, cand{"censoring", first(f.End.Censoring, nil)})
	}
	if sw := f.End.Switch; sw != nil {
		var evs []string
		evs = appendNew(evs, sw.Events...)
		groupOf := map[string]string{} // index event → its group (validation: one)
		if sw.OtherGroups {
			for _, g := range c.p.Phases.Index.Groups {
				for _, e := range g.Events {
					evs = appendNew(evs, e)
					groupOf[e] = g.Name
				}
			}
		}
		cands = append(cands, cand{"switch", first(evs, func(e string) []string {
			if containsStr(sw.Events, e) || groupOf[e] == "" {
				return nil
			}
			// An index event of another group than the entry's.
			return []string{fmt.Sprintf("f.index_group IS DISTINCT FROM %s", b.arg(groupOf[e], "text"))}
		})})
	}
	if f.End.Discontinuation != nil {
		joins = append(joins, fmt.Sprintf("LEFT JOIN %s dc ON dc.person_id = f.person_id AND dc.entry_no = f.entry_no", c.studyTable("discontinuation")))
		cands = append(cands, cand{"discontinuation", "dc.end_date"})
		deps = appendNew(deps, c.stepName("discontinuation"))
	}
	if f.End.EnrolmentEnd == nil || *f.End.EnrolmentEnd {
		// Merged spells do not overlap: at most one holds day 0.
		joins = append(joins, fmt.Sprintf("LEFT JOIN %s s ON s.person_id = f.person_id AND s.start_date <= f.index_date AND (s.end_date IS NULL OR s.end_date >= f.index_date)", c.studyTable("spells")))
		cands = append(cands, cand{"enrolment_end", "s.end_date"})
		deps = appendNew(deps, c.stepName("spells"))
	}
	if f.End.MaxDays != nil {
		cands = append(cands, cand{"max_days", fmt.Sprintf("f.fu_start + %s - 1", b.arg(f.End.MaxDays.V, "integer"))})
	}
	if f.End.StudyEnd != nil {
		cands = append(cands, cand{"study_end", b.date(f.End.StudyEnd.V)})
	}
	if c.dataEnd != "" {
		cands = append(cands, cand{"data_end", b.date(c.dataEnd)})
	}
	var cols, least, reasons []string
	for k, cd := range cands {
		cols = append(cols, fmt.Sprintf("%s AS e%d", cd.expr, k))
		least = append(least, fmt.Sprintf("e0.e%d", k))
		reasons = append(reasons, fmt.Sprintf("WHEN e.e%d = e.fu_end THEN %s", k, b.arg(cd.reason, "text")))
	}
	if len(cands) == 0 {
		cols, least = []string{"NULL::date AS e0"}, []string{"e0.e0"}
	}
	reason := "CASE " + strings.Join(reasons, " ") + " END"
	if len(reasons) == 0 {
		reason = "NULL::text"
	}
	withs := ""
	if len(ctes) > 0 {
		withs = ", " + strings.Join(ctes, ", ")
	}
	sql := fmt.Sprintf(`(person_id, entry_no, fu_start, fu_end, end_reason)
WITH f AS (
  SELECT c.person_id, c.entry_no, c.index_date, c.index_group, %s + %s AS fu_start
  FROM %s c
  WHERE %s + %s IS NOT NULL
)%s, e0 AS (
  SELECT f.*,
         %s
  FROM f%s
), e AS (
  SELECT e0.*, least(%s) AS fu_end FROM e0
)
SELECT e.person_id, e.entry_no, e.fu_start, e.fu_end, %s
FROM e
WHERE e.fu_end IS NULL OR e.fu_end >= e.fu_start`,
		anchorExpr, b.arg(f.Start.V, "integer"), c.studyTable("cohort"), anchorExpr, b.arg(f.Start.V, "integer"), withs,
		strings.Join(cols, ",\n         "), prefixJoin(cteJoinsLast(joins), "\n  "), strings.Join(least, ", "), reason)
	c.add(StepFollowUp, "followup", `person_id bigint NOT NULL,
entry_no integer NOT NULL,
fu_start date NOT NULL,
fu_end date,
end_reason text,
PRIMARY KEY (person_id, entry_no)`, b, sql, deps...)
	return nil
}

// outcomeSteps write outcome_<name>: per follow-up row, the first
// occurrence of the outcome's events in [fu_start, fu_end] (event_date,
// NULL when none), whether it happened, the time (event day or last day of
// follow-up, d − fu_start + 1), and the number of occurrences in follow-up
// (records on distinct days; for "all" outcomes and rates).
func (c *compiler) outcomeSteps() {
	for _, o := range c.p.Phases.Outcomes {
		b := &sqlb{}
		deps := []string{c.stepName("followup")}
		var parts []string
		for _, e := range o.Events {
			c.dep(&deps, e)
			parts = append(parts, fmt.Sprintf("SELECT o.start_date FROM %s o WHERE o.person_id = f.person_id", c.eventTable(e)))
		}
		sql := fmt.Sprintf(`(person_id, entry_no, event, event_date, time, n_events)
SELECT f.person_id, f.entry_no, x.first IS NOT NULL, x.first,
       coalesce(x.first, f.fu_end) - f.fu_start + 1, x.n
FROM %s f
CROSS JOIN LATERAL (
  SELECT min(y.start_date) AS first, count(DISTINCT y.start_date)::integer AS n
  FROM (%s) y
  WHERE y.start_date >= f.fu_start AND (f.fu_end IS NULL OR y.start_date <= f.fu_end)
) x`, c.studyTable("followup"), strings.Join(parts, " UNION ALL "))
		c.add(StepOutcome, "outcome_"+o.Name, `person_id bigint NOT NULL,
entry_no integer NOT NULL,
event boolean NOT NULL,
event_date date,
time integer,
n_events integer NOT NULL,
PRIMARY KEY (person_id, entry_no)`, b, sql, deps...)
	}
}

// discontinuationStep writes discontinuation: per cohort entry, the last
// covered day of its first treatment episode plus grace_days (end_date).
//
// Dispensings are the discontinuation events, or by default the entry's
// index events (with groups, those of the entry's group). A dispensing
// covers ceil(ddd ÷ daily_ddd) days, at least 1, where ddd is packs × the
// product's DDD per pack (dict_product, the row valid at the dispensing
// date, else the latest; 1 DDD per pack when the product is unknown) and
// daily_ddd the code list's (default 1). Supplies are carried over: with
// dispensings d_1 ≤ d_2 ≤ … of days n_1, n_2, … and S_k = n_1 + … + n_k,
// the last covered day after dispensing k is max_{j≤k}(d_j − S_{j−1}) +
// S_k − 1 — a running maximum, so no recursion. A new episode starts at a
// dispensing more than grace_days uncovered days after the previous
// coverage. The first episode is the one holding the first dispensing on
// or after day 0. Entries without such a dispensing have no row.
func (c *compiler) discontinuationStep() {
	d := c.p.Phases.FollowUp.End.Discontinuation
	if d == nil {
		return
	}
	b := &sqlb{}
	deps := []string{c.stepName("cohort")}
	var parts []string
	groupFilter := ""
	add := func(e, grp string) {
		c.dep(&deps, e)
		parts = append(parts, fmt.Sprintf("SELECT o.person_id, o.record_id, o.start_date, o.ddd, o.daily_ddd, %s AS grp FROM %s o", grp, c.eventTable(e)))
	}
	switch ix := &c.p.Phases.Index; {
	case len(d.Events) > 0:
		for _, e := range d.Events {
			add(e, "NULL::text")
		}
	case len(ix.Groups) > 0:
		for _, g := range ix.Groups {
			for _, e := range g.Events {
				add(e, b.arg(g.Name, "text"))
			}
		}
		groupFilter = " AND o.grp = c.index_group"
	default:
		for _, e := range ix.Events {
			add(e, "NULL::text")
		}
	}
	grace := b.arg(d.GraceDays.V, "integer")
	d0 := fmt.Sprintf(`SELECT c.person_id, c.entry_no, c.index_date, o.start_date, o.record_id,
         greatest(1, ceil(o.ddd / coalesce(o.daily_ddd, 1)))::integer AS days
  FROM %s c
  JOIN (%s) o ON o.person_id = c.person_id%s`, c.studyTable("cohort"), strings.Join(parts, "\n        UNION ALL "), groupFilter)
	sql := fmt.Sprintf(`(person_id, entry_no, end_date)
WITH %s, l AS (
  SELECT e.*, lag(e.cover_end) OVER (PARTITION BY e.person_id, e.entry_no ORDER BY e.start_date, e.record_id) AS prev_end
  FROM e
), ep AS (
  SELECT l.*, sum(CASE WHEN l.prev_end IS NULL OR l.start_date - l.prev_end - 1 > %s THEN 1 ELSE 0 END)
                OVER (PARTITION BY l.person_id, l.entry_no ORDER BY l.start_date, l.record_id ROWS UNBOUNDED PRECEDING) AS episode
  FROM l
), first AS (
  SELECT ep.person_id, ep.entry_no, min(ep.episode) FILTER (WHERE ep.start_date >= ep.index_date) AS episode
  FROM ep
  GROUP BY ep.person_id, ep.entry_no
)
SELECT ep.person_id, ep.entry_no, max(ep.cover_end) + %s
FROM ep
JOIN first f ON f.person_id = ep.person_id AND f.entry_no = ep.entry_no AND f.episode = ep.episode
GROUP BY ep.person_id, ep.entry_no`, supplyCTEs(d0, true), grace, grace)
	c.add(StepDiscontinuation, "discontinuation", `person_id bigint NOT NULL,
entry_no integer NOT NULL,
end_date date NOT NULL,
PRIMARY KEY (person_id, entry_no)`, b, sql, deps...)
}

// supplyCTEs is the chain of CTEs "d, s, e" over dispensings d0 (columns
// person_id, entry_no, start_date, record_id, days, ...): e adds
// cover_end, the last day covered after each dispensing. With carry-over,
// supplies that start while an earlier one lasts start when it ends: with
// S_k = days_1 + … + days_k, cover_end_k = max_{j≤k}(d_j − S_{j−1}) + S_k − 1
// (a running maximum, no recursion), and dispensing k covers days
// cover_end_k − days_k + 1 … cover_end_k. Without, each covers its own days.
func supplyCTEs(d0 string, carryOver bool) string {
	if !carryOver {
		return fmt.Sprintf(`d AS (
  %s
), e AS (
  SELECT d.*, d.start_date + d.days - 1 AS cover_end
  FROM d
)`, d0)
	}
	return fmt.Sprintf(`d AS (
  %s
), s AS (
  SELECT d.*, sum(d.days) OVER w AS cum
  FROM d
  WINDOW w AS (PARTITION BY d.person_id, d.entry_no ORDER BY d.start_date, d.record_id ROWS UNBOUNDED PRECEDING)
), e AS (
  SELECT s.*, max(s.start_date - (s.cum - s.days)::integer) OVER w + (s.cum - 1)::integer AS cover_end
  FROM s
  WINDOW w AS (PARTITION BY s.person_id, s.entry_no ORDER BY s.start_date, s.record_id ROWS UNBOUNDED PRECEDING)
)`, d0)
}

// appendNew appends the xs not yet in list.
func appendNew(list []string, xs ...string) []string {
	for _, x := range xs {
		if !containsStr(list, x) {
			list = append(list, x)
		}
	}
	return list
}

// cteJoinsLast puts the outer joins to the step's own CTEs (x0, x1, ...)
// after the joins to tables, keeping each group's order. All are left
// joins from f on f's columns, so the order changes no result; Citus
// pushes the statement down whole only in this order (a left join to an
// aggregating subquery followed by other joins is planned on the
// coordinator).
func cteJoinsLast(joins []string) []string {
	out := make([]string, 0, len(joins))
	var ctes []string
	for _, j := range joins {
		if strings.HasPrefix(j, "LEFT JOIN x") {
			ctes = append(ctes, j)
			continue
		}
		out = append(out, j)
	}
	return append(out, ctes...)
}
