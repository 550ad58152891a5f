package cohort

import (
	"fmt"
	"strings"
)

// Baseline covariates of cost and drug use: cost, adherence (PDC, MPR),
// therapy_duration, discontinuation and switch. Each writes cov_<name> like
// the other baseline covariates (compile_covariates.go), one row per cohort
// entry, and reads only the cohort and the flow or event tables of its own
// partition.
//
//   - cost: the sum of the amounts of the chosen flows whose date lies in
//     the window: hospital sdo.tariff (admission date), pharmacy and
//     direct_distribution cost (dispensing date), outpatient tariff (service
//     date; the row's amount, quantity included). NULL amounts count 0;
//     0 when there is none.
//   - drug kinds: supplies as supplyCTEs (packs × DDD per pack ÷ daily
//     DDD, drug.daily_ddd overriding the list's; carry_over default true).
//     Episodes as the time-dependent current_use (compile_timedep.go): a
//     supply starting more than grace_days uncovered days after the
//     previous coverage starts a new episode; an episode lasts from its
//     first covered day to its last.
//   - adherence pdc: days of the window covered by a supply (overlaps
//     counted once; supplies before the window count for their days in
//     it) ÷ window days; mpr: days supplied by the dispensings dated in the
//     window (whole supplies) ÷ window days, capped at 1. 0 without supply.
//   - therapy_duration: the first episode starting in the window, from its
//     first day to its last covered day or the window's end, whichever is
//     first; built from dispensings up to the window's end. NULL if none.
//   - discontinuation: the episode covering day 0 ends (last covered day +
//     grace_days) within the window; NULL when no episode covers day 0.
//   - switch: an occurrence of Event starts in the window between the
//     first day of the episode covering day 0 and its last covered day +
//     grace_days; NULL when no episode covers day 0.
//
// A window that may hold days after day 0 (an open or positive end, or
// anchored on index_end) ends at the entry's end of observation at the
// latest (obsEnd: death, the end of the merged enrolment spell holding day
// 0, Options.DataEnd): what happens after it is not seen. Adherence
// divides by the observed days of the window (NULL when none is observed);
// cost and adherence store the observed days next to the value
// (observed_days; NULL when the window's start is open).

// costFlows are the flows a cost covariate sums: table, date column and
// amount column.
var costFlows = map[string]struct{ table, date, amount string }{
	"hospital":            {"sdo", "admission_date", "tariff"},
	"pharmacy":            {"pharmacy", "dispensing_date", "cost"},
	"direct_distribution": {"direct_distribution", "dispensing_date", "cost"},
	"outpatient":          {"outpatient", "service_date", "tariff"},
}

// reachesAfterDay0 reports whether a window may hold days after day 0, so
// that the end of observation may cut it.
func reachesAfterDay0(w *Window) bool {
	return w == nil || w.End == nil || w.End.V > 0 || w.Anchor == AnchorIndexEnd
}

// obsEnd is the entry's (alias i of the cohort) last observed day: the
// earliest of its death, the end of the merged enrolment spell holding day
// 0 and the plan's data end (Plan.DataEnd); NULL when none (least ignores NULLs). Day 0 is
// always observed: the index requires the person alive and enrolled on it.
func (c *compiler) obsEnd(b *sqlb, deps *[]string) string {
	*deps = appendNew(*deps, c.stepName("spells"))
	parts := []string{
		fmt.Sprintf("(SELECT p.death_date FROM %s p WHERE p.person_id = i.person_id AND %s)", c.flow("person"), c.dv(b, "p")),
		fmt.Sprintf("(SELECT s.end_date FROM %s s WHERE s.person_id = i.person_id AND s.start_date <= i.index_date AND (s.end_date IS NULL OR s.end_date >= i.index_date))", c.studyTable("spells")),
	}
	if c.dataEnd != "" {
		parts = append(parts, b.date(c.dataEnd))
	}
	return "least(" + strings.Join(parts, ", ") + ")"
}

// observedBounds are a covariate window's first and last day as SQL over
// the cohort alias i ("" when open), the last cut at the end of
// observation when the window may reach past day 0, and the number of
// observed days in it (NULL::integer when the start is open or nothing
// ends it).
func (c *compiler) observedBounds(b *sqlb, w *Window, deps *[]string) (lo, hi, days string) {
	lo, hi = c.bounds(b, w, nil)
	if reachesAfterDay0(w) {
		if hi == "" {
			hi = c.obsEnd(b, deps)
		} else {
			hi = "least(" + hi + ", " + c.obsEnd(b, deps) + ")"
		}
	}
	days = "NULL::integer"
	if lo != "" && hi != "" {
		days = fmt.Sprintf("greatest(0, %s - (%s) + 1)", hi, lo)
	}
	return lo, hi, days
}

// costStep writes a cost covariate: the sum over the observed part of the
// window, and its observed days.
func (c *compiler) costStep(cv *Covariate) bool {
	b := &sqlb{}
	deps := []string{c.stepName("cohort")}
	lo, hi, days := c.observedBounds(b, cv.Window, &deps)
	var parts []string
	for _, f := range cv.Flows {
		fl, ok := costFlows[f]
		if !ok {
			return false
		}
		conds := []string{"x.person_id = i.person_id", c.dv(b, "x")}
		if lo != "" {
			conds = append(conds, fmt.Sprintf("x.%s >= %s", ident(fl.date), lo))
		}
		if hi != "" {
			conds = append(conds, fmt.Sprintf("x.%s <= %s", ident(fl.date), hi))
		}
		parts = append(parts, fmt.Sprintf("coalesce((SELECT sum(x.%s) FROM %s x WHERE %s), 0)",
			ident(fl.amount), c.flow(fl.table), strings.Join(conds, " AND ")))
	}
	sql := fmt.Sprintf("(person_id, entry_no, value, observed_days)\nSELECT i.person_id, i.entry_no,\n       %s,\n       %s\nFROM %s i",
		strings.Join(parts, "\n       + "), days, c.studyTable("cohort"))
	c.addCovariateObserved(cv, b, sql, deps)
	return true
}

// addCovariateObserved adds the step writing cov_<name> with the observed
// days of its window next to the value.
func (c *compiler) addCovariateObserved(cv *Covariate, b *sqlb, sql string, deps []string) {
	c.add(StepCovariate, "cov_"+cv.Name, fmt.Sprintf(`person_id bigint NOT NULL,
entry_no integer NOT NULL,
value %s,
observed_days integer,
PRIMARY KEY (person_id, entry_no)`, sqlType(c.types[cv.Name])), b, sql, deps...)
}

// hasObservedDays reports whether a covariate's table has observed_days.
func hasObservedDays(cv *Covariate) bool {
	return cv.Timing != TimingTimeDependent && (cv.Kind == KindCost || cv.Kind == KindAdherence)
}

// drugWindow is the CTE wd: one row per cohort entry with day 0 (day0),
// the window's bounds w_lo and w_hi (NULL when open; w_hi cut at the end of
// observation) and its observed days w_days.
func (c *compiler) drugWindow(b *sqlb, cv *Covariate, deps *[]string) string {
	lo, hi, days := c.observedBounds(b, cv.Window, deps)
	if lo == "" {
		lo = "NULL::date"
	}
	if hi == "" {
		hi = "NULL::date"
	}
	return fmt.Sprintf(`wd AS (
  SELECT i.person_id, i.entry_no, i.index_date AS day0, %s AS w_lo, %s AS w_hi, %s AS w_days
  FROM %s i
)`, lo, hi, days, c.studyTable("cohort"))
}

// drugSupplies is the d0 query of supplyCTEs for a drug covariate: the
// dispensings of cv.Drug's event of each entry of wd (up to the window's
// end when upToEnd), with day0, w_lo and w_hi.
func (c *compiler) drugSupplies(b *sqlb, cv *Covariate, deps *[]string, upToEnd bool) string {
	c.dep(deps, cv.Drug.Event)
	daily := "o.daily_ddd"
	if cv.Drug.DailyDDD != nil {
		daily = b.arg(*cv.Drug.DailyDDD, "double precision")
	}
	cond := ""
	if upToEnd {
		cond = " AND (x.w_hi IS NULL OR o.start_date <= x.w_hi)"
	}
	return fmt.Sprintf(`SELECT x.person_id, x.entry_no, x.day0, x.w_lo, x.w_hi, o.start_date, o.record_id,
         greatest(1, ceil(o.ddd / coalesce(%s, 1)))::integer AS days
  FROM wd x
  JOIN %s o ON o.person_id = x.person_id%s`,
		daily, c.eventTable(cv.Drug.Event), cond)
}

// episodeCTEs follows supplyCTEs with "l, g, ep": ep holds one row per
// treatment episode (person_id, entry_no, day0, w_lo, w_hi, first_day,
// last_day), supplies more than grace_days uncovered days apart starting
// a new one (as the time-dependent current_use).
func episodeCTEs(grace string) string {
	return fmt.Sprintf(`l AS (
  SELECT e.*, e.cover_end - e.days + 1 AS supply_start,
         max(e.cover_end) OVER (PARTITION BY e.person_id, e.entry_no ORDER BY e.start_date, e.record_id
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
  FROM e
), g AS (
  SELECT l.*, sum(CASE WHEN l.prev_end IS NULL OR l.supply_start - l.prev_end - 1 > %s THEN 1 ELSE 0 END)
                OVER (PARTITION BY l.person_id, l.entry_no ORDER BY l.start_date, l.record_id ROWS UNBOUNDED PRECEDING) AS episode
  FROM l
), ep AS (
  SELECT g.person_id, g.entry_no, g.day0, g.w_lo, g.w_hi, min(g.supply_start) AS first_day, max(g.cover_end) AS last_day
  FROM g
  GROUP BY g.person_id, g.entry_no, g.day0, g.w_lo, g.w_hi, g.episode
)`, grace)
}

// drugStep writes an adherence, therapy_duration, discontinuation or
// switch covariate.
func (c *compiler) drugStep(cv *Covariate) bool {
	b := &sqlb{}
	deps := []string{c.stepName("cohort")}
	carry := cv.Drug.CarryOver == nil || *cv.Drug.CarryOver
	grace := 0
	if cv.Drug.GraceDays != nil {
		grace = cv.Drug.GraceDays.V
	}
	// Each value is aggregated per entry (agg) and joined to wd, not read
	// by a subquery per entry from a CTE: a CTE has no index, so that
	// compared every entry with every supply of the partition.
	var with, agg, value string
	switch cv.Kind {
	case KindAdherence:
		if cv.Window == nil || cv.Window.Start == nil || cv.Window.End == nil {
			return false
		}
		wd := c.drugWindow(b, cv, &deps)
		d0 := c.drugSupplies(b, cv, &deps, true)
		if cv.Method == "mpr" {
			with = fmt.Sprintf("%s, %s", wd, supplyCTEs(d0, false))
			agg = "SELECT x.person_id, x.entry_no, sum(x.days) AS v FROM d x WHERE x.start_date >= x.w_lo GROUP BY x.person_id, x.entry_no"
			value = "least(1, coalesce(a.v, 0)::double precision / nullif(i.w_days, 0)),\n       i.w_days"
		} else {
			// Each supply clipped to the window (a … z); the days it adds are
			// those after the latest end of the supplies before it, so
			// overlaps count once (carried-over supplies never overlap).
			with = fmt.Sprintf(`%s, %s, w AS (
  SELECT e.person_id, e.entry_no, e.record_id,
         greatest(e.cover_end - e.days + 1, e.w_lo) AS a, least(e.cover_end, e.w_hi) AS z
  FROM e
), u AS (
  SELECT w.*, max(w.z) OVER (PARTITION BY w.person_id, w.entry_no ORDER BY w.a, w.z, w.record_id
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_z
  FROM w
  WHERE w.a <= w.z
)`, wd, supplyCTEs(d0, carry))
			agg = "SELECT x.person_id, x.entry_no, sum(greatest(0, x.z - greatest(x.a - 1, coalesce(x.prev_z, x.a - 1)))) AS v FROM u x GROUP BY x.person_id, x.entry_no"
			value = "coalesce(a.v, 0)::double precision / nullif(i.w_days, 0),\n       i.w_days"
		}
	case KindTherapyDuration:
		wd := c.drugWindow(b, cv, &deps)
		d0 := c.drugSupplies(b, cv, &deps, true)
		with = fmt.Sprintf("%s, %s, %s", wd, supplyCTEs(d0, carry), episodeCTEs(b.arg(grace, "integer")))
		agg = `SELECT DISTINCT ON (x.person_id, x.entry_no) x.person_id, x.entry_no,
         (least(x.last_day, x.w_hi) - x.first_day + 1)::double precision AS v
  FROM ep x
  WHERE (x.w_lo IS NULL OR x.first_day >= x.w_lo) AND (x.w_hi IS NULL OR x.first_day <= x.w_hi)
  ORDER BY x.person_id, x.entry_no, x.first_day`
		value = "a.v"
	case KindDiscontinuation, KindSwitch:
		wd := c.drugWindow(b, cv, &deps)
		d0 := c.drugSupplies(b, cv, &deps, false)
		g := b.arg(grace, "integer")
		v := fmt.Sprintf("(x.w_lo IS NULL OR x.last_day + %s >= x.w_lo) AND (x.w_hi IS NULL OR x.last_day + %s <= x.w_hi)", g, g)
		if cv.Kind == KindSwitch {
			c.dep(&deps, cv.Event)
			v = fmt.Sprintf(`EXISTS (SELECT 1 FROM %s o
               WHERE o.person_id = x.person_id AND o.start_date >= x.first_day AND o.start_date <= x.last_day + %s
                 AND (x.w_lo IS NULL OR o.start_date >= x.w_lo) AND (x.w_hi IS NULL OR o.start_date <= x.w_hi))`,
				c.eventTable(cv.Event), g)
		}
		with = fmt.Sprintf("%s, %s, %s", wd, supplyCTEs(d0, carry), episodeCTEs(g))
		// Episodes do not overlap: at most one covers day 0.
		agg = fmt.Sprintf("SELECT x.person_id, x.entry_no, %s AS v FROM ep x WHERE x.first_day <= x.day0 AND x.day0 <= x.last_day", v)
		value = "a.v"
	default:
		return false
	}
	sql := fmt.Sprintf(`WITH %s, a AS (
  %s
)
SELECT i.person_id, i.entry_no, %s
FROM wd i
LEFT JOIN a ON a.person_id = i.person_id AND a.entry_no = i.entry_no`, with, agg, value)
	if cv.Kind == KindAdherence {
		c.addCovariateObserved(cv, b, "(person_id, entry_no, value, observed_days)\n"+sql, deps)
		return true
	}
	c.addCovariate(cv, b, "(person_id, entry_no, value)\n"+sql, deps)
	return true
}
