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

// costFlows are the flows a cost covariate sums: table, date column and
// amount column.
var costFlows = map[string]struct{ table, date, amount string }{
	"hospital":            {"sdo", "admission_date", "tariff"},
	"pharmacy":            {"pharmacy", "dispensing_date", "cost"},
	"direct_distribution": {"direct_distribution", "dispensing_date", "cost"},
	"outpatient":          {"outpatient", "service_date", "tariff"},
}

// costStep writes a cost covariate.
func (c *compiler) costStep(cv *Covariate) bool {
	b := &sqlb{}
	lo, hi := c.bounds(b, cv.Window, nil)
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
	sql := fmt.Sprintf("(person_id, entry_no, value)\nSELECT i.person_id, i.entry_no,\n       %s\nFROM %s i",
		strings.Join(parts, "\n       + "), c.studyTable("cohort"))
	c.addCovariate(cv, b, sql, []string{c.stepName("cohort")})
	return true
}

// drugSupplies is the d0 query of supplyCTEs for a drug covariate: the
// dispensings of cv.Drug's event of each cohort entry (up to the window's
// end when upToEnd), with the window's bounds w_lo, w_hi (NULL when open)
// and day 0 (day0).
func (c *compiler) drugSupplies(b *sqlb, cv *Covariate, deps *[]string, upToEnd bool) string {
	c.dep(deps, cv.Drug.Event)
	daily := "o.daily_ddd"
	if cv.Drug.DailyDDD != nil {
		daily = b.arg(*cv.Drug.DailyDDD, "double precision")
	}
	lo, hi := c.bounds(b, cv.Window, nil)
	if lo == "" {
		lo = "NULL::date"
	}
	if hi == "" {
		hi = "NULL::date"
	}
	cond := ""
	if upToEnd {
		cond = " AND (x.w_hi IS NULL OR o.start_date <= x.w_hi)"
	}
	return fmt.Sprintf(`SELECT x.person_id, x.entry_no, x.day0, x.w_lo, x.w_hi, o.start_date, o.record_id,
         greatest(1, ceil(o.ddd / coalesce(%s, 1)))::integer AS days
  FROM (SELECT i.person_id, i.entry_no, i.index_date AS day0, %s AS w_lo, %s AS w_hi FROM %s i) x
  JOIN %s o ON o.person_id = x.person_id%s`,
		daily, lo, hi, c.studyTable("cohort"), c.eventTable(cv.Drug.Event), cond)
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
	same := "x.person_id = i.person_id AND x.entry_no = i.entry_no"
	var sql string
	switch cv.Kind {
	case KindAdherence:
		if cv.Window == nil || cv.Window.Start == nil || cv.Window.End == nil {
			return false
		}
		days := cv.Window.End.V - cv.Window.Start.V + 1
		d0 := c.drugSupplies(b, cv, &deps, true)
		var num string
		if cv.Method == "mpr" {
			num = fmt.Sprintf("least(1, coalesce((SELECT sum(x.days) FROM d x WHERE %s AND x.start_date >= x.w_lo), 0) / %s)",
				same, b.arg(days, "double precision"))
			sql = fmt.Sprintf("WITH %s\nSELECT i.person_id, i.entry_no, %s", supplyCTEs(d0, false), num)
		} else {
			// Each supply clipped to the window (a … z); the days it adds are
			// those after the latest end of the supplies before it, so
			// overlaps count once (carried-over supplies never overlap).
			sql = fmt.Sprintf(`WITH %s, w AS (
  SELECT e.person_id, e.entry_no, e.record_id,
         greatest(e.cover_end - e.days + 1, e.w_lo) AS a, least(e.cover_end, e.w_hi) AS z
  FROM e
), u AS (
  SELECT w.*, max(w.z) OVER (PARTITION BY w.person_id, w.entry_no ORDER BY w.a, w.z, w.record_id
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_z
  FROM w
  WHERE w.a <= w.z
)
SELECT i.person_id, i.entry_no,
       coalesce((SELECT sum(greatest(0, x.z - greatest(x.a - 1, coalesce(x.prev_z, x.a - 1)))) FROM u x WHERE %s), 0) / %s`,
				supplyCTEs(d0, carry), same, b.arg(days, "double precision"))
		}
	case KindTherapyDuration:
		d0 := c.drugSupplies(b, cv, &deps, true)
		sql = fmt.Sprintf(`WITH %s, %s
SELECT i.person_id, i.entry_no,
       (SELECT (least(x.last_day, x.w_hi) - x.first_day + 1)::double precision
        FROM ep x
        WHERE %s AND (x.w_lo IS NULL OR x.first_day >= x.w_lo) AND (x.w_hi IS NULL OR x.first_day <= x.w_hi)
        ORDER BY x.first_day
        LIMIT 1)`, supplyCTEs(d0, carry), episodeCTEs(b.arg(grace, "integer")), same)
	case KindDiscontinuation, KindSwitch:
		d0 := c.drugSupplies(b, cv, &deps, false)
		g := b.arg(grace, "integer")
		value := fmt.Sprintf("(x.w_lo IS NULL OR x.last_day + %s >= x.w_lo) AND (x.w_hi IS NULL OR x.last_day + %s <= x.w_hi)", g, g)
		if cv.Kind == KindSwitch {
			c.dep(&deps, cv.Event)
			value = fmt.Sprintf(`EXISTS (SELECT 1 FROM %s o
               WHERE o.person_id = x.person_id AND o.start_date >= x.first_day AND o.start_date <= x.last_day + %s
                 AND (x.w_lo IS NULL OR o.start_date >= x.w_lo) AND (x.w_hi IS NULL OR o.start_date <= x.w_hi))`,
				c.eventTable(cv.Event), g)
		}
		sql = fmt.Sprintf(`WITH %s, %s
SELECT i.person_id, i.entry_no,
       (SELECT %s
        FROM ep x
        WHERE %s AND x.first_day <= x.day0 AND x.day0 <= x.last_day)`,
			supplyCTEs(d0, carry), episodeCTEs(g), value, same)
	default:
		return false
	}
	sql = fmt.Sprintf("(person_id, entry_no, value)\n%s\nFROM %s i", sql, c.studyTable("cohort"))
	c.addCovariate(cv, b, sql, deps)
	return true
}
