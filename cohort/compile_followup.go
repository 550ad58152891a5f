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
//   - study_end; fu_start + max_days − 1; Options.DataEnd;
//   - the first occurrence on or after fu_start of a censoring event.
//
// end_reason names the cause, ties broken in the order outcome, death,
// censoring, enrolment_end, max_days, study_end, data_end (so an outcome on
// the day follow-up ends for another reason is counted as an outcome).
// fu_end is NULL when nothing ends follow-up (no study end, no data end,
// an open spell). Entries whose fu_end is before fu_start (dead or
// disenrolled before follow-up starts) have no row.

// followUpStep writes followup.
func (c *compiler) followUpStep(deps []string) error {
	f := &c.p.Phases.FollowUp
	if f.End.Discontinuation != nil {
		return fmt.Errorf("cohort: compile: phases.follow_up.end.discontinuation: not compiled yet (needs drug episodes)")
	}
	if f.End.Switch != nil {
		return fmt.Errorf("cohort: compile: phases.follow_up.end.switch: not compiled yet (needs drug episodes)")
	}
	b := &sqlb{}
	anchorExpr := "c.index_date"
	if f.Anchor == AnchorIndexEnd {
		anchorExpr = "c.index_end"
	}
	type cand struct{ reason, expr string }
	var cands []cand
	first := func(events []string) string {
		var parts []string
		for _, e := range events {
			c.dep(&deps, e)
			parts = append(parts, fmt.Sprintf("SELECT o.start_date FROM %s o WHERE o.person_id = f.person_id AND o.start_date >= f.fu_start", c.eventTable(e)))
		}
		return fmt.Sprintf("(SELECT min(x.start_date) FROM (%s) x)", strings.Join(parts, " UNION ALL "))
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
		cands = append(cands, cand{"outcome", first(evs)})
	}
	if f.End.Death == nil || *f.End.Death {
		cands = append(cands, cand{"death", fmt.Sprintf("(SELECT p.death_date FROM %s p WHERE p.person_id = f.person_id AND %s)", c.flow("person"), c.dv(b, "p"))})
	}
	if len(f.End.Censoring) > 0 {
		cands = append(cands, cand{"censoring", first(f.End.Censoring)})
	}
	if f.End.EnrolmentEnd == nil || *f.End.EnrolmentEnd {
		cands = append(cands, cand{"enrolment_end", fmt.Sprintf("(SELECT s.end_date FROM %s s WHERE s.person_id = f.person_id AND s.start_date <= f.index_date AND (s.end_date IS NULL OR s.end_date >= f.index_date))", c.studyTable("spells"))})
		deps = appendNew(deps, c.stepName("spells"))
	}
	if f.End.MaxDays != nil {
		cands = append(cands, cand{"max_days", fmt.Sprintf("f.fu_start + %s - 1", b.arg(f.End.MaxDays.V, "integer"))})
	}
	if f.End.StudyEnd != nil {
		cands = append(cands, cand{"study_end", b.date(f.End.StudyEnd.V)})
	}
	if c.opts.DataEnd != "" {
		cands = append(cands, cand{"data_end", b.date(c.opts.DataEnd)})
	}
	var cols, least, reasons []string
	for k, cd := range cands {
		cols = append(cols, fmt.Sprintf("%s AS e%d", cd.expr, k))
		least = append(least, fmt.Sprintf("e.e%d", k))
		reasons = append(reasons, fmt.Sprintf("WHEN e.e%d = e.fu_end THEN %s", k, b.arg(cd.reason, "text")))
	}
	if len(cands) == 0 {
		cols, least = []string{"NULL::date AS e0"}, []string{"e.e0"}
	}
	sql := fmt.Sprintf(`(person_id, entry_no, fu_start, fu_end, end_reason)
WITH f AS (
  SELECT c.person_id, c.entry_no, c.index_date, %s + %s AS fu_start
  FROM %s c
), e0 AS (
  SELECT f.*,
         %s
  FROM f
  WHERE f.fu_start IS NOT NULL
), e AS (
  SELECT e0.*, least(%s) AS fu_end FROM e0
)
SELECT e.person_id, e.entry_no, e.fu_start, e.fu_end, CASE %s END
FROM e
WHERE e.fu_end IS NULL OR e.fu_end >= e.fu_start`,
		anchorExpr, b.arg(f.Start.V, "integer"), c.studyTable("cohort"),
		strings.Join(cols, ",\n         "), strings.Replace(strings.Join(least, ", "), "e.", "e0.", -1),
		strings.Join(reasons, " "))
	if len(reasons) == 0 {
		sql = strings.Replace(sql, "CASE  END", "NULL::text", 1)
	}
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

// appendNew appends the xs not yet in list.
func appendNew(list []string, xs ...string) []string {
	for _, x := range xs {
		if !containsStr(list, x) {
			list = append(list, x)
		}
	}
	return list
}
