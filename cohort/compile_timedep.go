package cohort

import (
	"fmt"
	"strings"
)

// Stage 5b: time-dependent covariates, in counting-process form.
//
// Each time-dependent covariate writes tdcov_<name>: per follow-up row,
// (person_id, entry_no, day, value), one row per day on which the value
// changes, the first on fu_start; the value holds from day to the day
// before the next row (or to fu_end). Builders:
//
//   - presence, count: occurrences starting in the window relative to the
//     day d, [d + start, d + end] (an omitted bound is open). An occurrence
//     on day x is in the window of the days x − end … x − start, so the
//     value can change only on fu_start, x − end and x − start + 1: a
//     step +1 on x − end (on −infinity when the end is open) and −1 on
//     x − start + 1 (none when the start is open), summed in day order up
//     to each day; rows equal to the previous one are dropped.
//   - current_use: supplies as in supplyCTEs (dispensings up to fu_end,
//     before follow-up too; the drug's daily_ddd overrides the list's;
//     carry_over default true); supplies separated by at most grace_days
//     uncovered days form one treatment episode, and the person is a
//     current user on every day from the episode's first covered day to its
//     last (the gap days inside an episode count as use; no grace after its
//     last covered day). Changes on episode starts (+1) and on the days
//     after episode ends (−1): episodes of an entry never overlap, so the
//     running sum of these steps up to a day (a window, not a lookup per
//     day) is 1 inside an episode and 0 outside.
//
// A transformation (classify, aggregate, combine, sum) with a
// time-dependent input is itself time-dependent: its tdcov table changes
// only on the days where one of its time-dependent inputs changes (the
// common refinement of their episodes), its value recomputed on each such
// day from every input's value then (the latest change on or before it); a
// baseline input is constant over the follow-up (its cov_ value).
//
// episodes joins them: per follow-up row, consecutive intervals
// (start, stop] on the time scale t = d − fu_start + 1, split on every day
// where a time-dependent covariate changes: days a … b give (a − fu_start,
// b − fu_start + 1]; the last interval ends at the follow-up time
// fu_end − fu_start + 1 (NULL when fu_end is NULL). event is true on the
// last interval when follow-up ended with an outcome (end_reason
// "outcome").
//
// dataset_cp_<analysis>: for each cox analysis with a time-dependent
// covariate, the episodes clipped at the analysis's outcome time (the
// outcome table's time: the first event, or the end of follow-up): rows
// with start < time, stop = least(stop, time), event on the interval ending
// at the event; columns cov_<c> for the analysis's covariates and strata,
// baseline ones repeated on each interval.

// Step kinds of time-dependent covariates.
const (
	StepTimeDep   = "timedep"    // one time-dependent covariate's changes
	StepEpisodes  = "episodes"   // counting-process episodes per follow-up row
	StepDatasetCP = "dataset_cp" // one cox analysis's counting-process dataset
)

// tdTable is the quoted table of a time-dependent covariate.
func (c *compiler) tdTable(name string) string { return c.studyTable("tdcov_" + name) }

// timeDepStep writes tdcov_<name> and reports whether the kind is compiled.
func (c *compiler) timeDepStep(cv *Covariate) bool {
	b := &sqlb{}
	deps := []string{c.stepName("followup")}
	var sql string
	switch cv.Kind {
	case KindPresence, KindCount:
		c.dep(&deps, cv.Event)
		ev := c.eventTable(cv.Event)
		var lo, hi string // offsets, "" when open
		if cv.Window.Start != nil {
			lo = b.arg(cv.Window.Start.V, "integer")
		}
		if cv.Window.End != nil {
			hi = b.arg(cv.Window.End.V, "integer")
		}
		// An occurrence on day x is in the window of the days x − end …
		// x − start: it adds 1 from x − end (from the first day ever when
		// the end is open) and takes it back on x − start + 1 (never when
		// the start is open). The value on a day is the running sum of
		// these steps up to it: one window pass, not a recount per day.
		enter, leave := "'-infinity'::date", "NULL::date"
		if hi != "" {
			enter = "o.start_date - " + hi
		}
		if lo != "" {
			leave = "o.start_date - " + lo + " + 1"
		}
		value := "us.n > 0"
		if cv.Kind == KindCount {
			value = "us.n::double precision"
		}
		sql = fmt.Sprintf(`WITH ux AS (
  SELECT f.person_id, f.entry_no, f.fu_start, f.fu_end, f.fu_start AS day, 0 AS delta
  FROM %s f
  UNION ALL
  SELECT f.person_id, f.entry_no, f.fu_start, f.fu_end, y.day, y.delta
  FROM %s f
  JOIN %s o ON o.person_id = f.person_id
  CROSS JOIN LATERAL (VALUES (%s, 1), (%s, -1)) y(day, delta)
  WHERE y.day IS NOT NULL AND (f.fu_end IS NULL OR y.day <= f.fu_end)
), us AS (
  SELECT ux.*, sum(ux.delta) OVER (PARTITION BY ux.person_id, ux.entry_no ORDER BY ux.day RANGE UNBOUNDED PRECEDING) AS n
  FROM ux
), v AS (
  SELECT DISTINCT us.person_id, us.entry_no, us.day, %s AS value
  FROM us
  WHERE us.day = us.fu_start OR (us.day > us.fu_start AND (us.fu_end IS NULL OR us.day <= us.fu_end))
)`, c.studyTable("followup"), c.studyTable("followup"), ev, enter, leave, value)
	case KindCurrentUse:
		c.dep(&deps, cv.Drug.Event)
		daily := "o.daily_ddd"
		if cv.Drug.DailyDDD != nil {
			daily = b.arg(*cv.Drug.DailyDDD, "double precision")
		}
		grace := 0
		if cv.Drug.GraceDays != nil {
			grace = cv.Drug.GraceDays.V
		}
		carry := cv.Drug.CarryOver == nil || *cv.Drug.CarryOver
		d0 := fmt.Sprintf(`SELECT f.person_id, f.entry_no, o.start_date, o.record_id,
         greatest(1, ceil(o.ddd / coalesce(%s, 1)))::integer AS days
  FROM %s f
  JOIN %s o ON o.person_id = f.person_id AND (f.fu_end IS NULL OR o.start_date <= f.fu_end)`,
			daily, c.studyTable("followup"), c.eventTable(cv.Drug.Event))
		sql = fmt.Sprintf(`WITH %s, l AS (
  SELECT e.*, e.cover_end - e.days + 1 AS supply_start,
         max(e.cover_end) OVER (PARTITION BY e.person_id, e.entry_no ORDER BY e.start_date, e.record_id
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
  FROM e
), ep AS (
  SELECT l.*, sum(CASE WHEN l.prev_end IS NULL OR l.supply_start - l.prev_end - 1 > %s THEN 1 ELSE 0 END)
                OVER (PARTITION BY l.person_id, l.entry_no ORDER BY l.start_date, l.record_id ROWS UNBOUNDED PRECEDING) AS episode
  FROM l
), r AS (
  SELECT ep.person_id, ep.entry_no, min(ep.supply_start) AS first_day, max(ep.cover_end) AS last_day
  FROM ep
  GROUP BY ep.person_id, ep.entry_no, ep.episode
), ux AS (
  SELECT f.person_id, f.entry_no, f.fu_start, f.fu_end, f.fu_start AS day, 0 AS delta
  FROM %s f
  UNION ALL
  SELECT f.person_id, f.entry_no, f.fu_start, f.fu_end, y.day, y.delta
  FROM %s f
  JOIN r ON r.person_id = f.person_id AND r.entry_no = f.entry_no
  CROSS JOIN LATERAL (VALUES (r.first_day, 1), (r.last_day + 1, -1)) y(day, delta)
), us AS (
  SELECT ux.*, sum(ux.delta) OVER (PARTITION BY ux.person_id, ux.entry_no ORDER BY ux.day RANGE UNBOUNDED PRECEDING) AS inside
  FROM ux
), v AS (
  SELECT DISTINCT us.person_id, us.entry_no, us.day, us.inside > 0 AS value
  FROM us
  WHERE us.day = us.fu_start OR (us.day > us.fu_start AND (us.fu_end IS NULL OR us.day <= us.fu_end))
)`, supplyCTEs(d0, carry), b.arg(grace, "integer"), c.studyTable("followup"), c.studyTable("followup"))
	default:
		return false
	}
	c.addTimeDep(cv, b, sql, deps)
	return true
}

// addTimeDep adds the step writing tdcov_<name> from sql, a WITH clause
// whose last CTE v holds (person_id, entry_no, day, value) on every day the
// value may change (fu_start among them); rows equal to the previous day's
// are dropped.
func (c *compiler) addTimeDep(cv *Covariate, b *sqlb, sql string, deps []string) {
	sql = fmt.Sprintf(`(person_id, entry_no, day, value)
%s, w AS (
  SELECT v.*, row_number() OVER o AS k, lag(v.value) OVER o AS prev
  FROM v
  WINDOW o AS (PARTITION BY v.person_id, v.entry_no ORDER BY v.day)
)
SELECT w.person_id, w.entry_no, w.day, w.value
FROM w
WHERE w.k = 1 OR w.value IS DISTINCT FROM w.prev`, sql)
	c.add(StepTimeDep, "tdcov_"+cv.Name, fmt.Sprintf(`person_id bigint NOT NULL,
entry_no integer NOT NULL,
day date NOT NULL,
value %s,
PRIMARY KEY (person_id, entry_no, day)`, sqlType(c.types[cv.Name])), b, sql, deps...)
}

// timeDepTransformStep writes tdcov_<name> of a transformation whose inputs
// include a time-dependent covariate (already compiled: covariateSteps
// visits inputs first).
func (c *compiler) timeDepTransformStep(cv *Covariate) bool {
	b := &sqlb{}
	deps := []string{c.stepName("followup")}
	value := c.transformValue(cv, b)
	var days []string
	var joins strings.Builder
	for k, in := range cv.Of {
		if c.timing[in] == TimingTimeDependent {
			deps = appendNew(deps, c.stepName("tdcov_"+in))
			days = appendNew(days, fmt.Sprintf("SELECT t.person_id, t.entry_no, t.day FROM %s t", c.tdTable(in)))
			// Every tdcov table has a row on fu_start, the first change
			// day, so the latest row on or before any change day exists.
			fmt.Fprintf(&joins, "\n  CROSS JOIN LATERAL (SELECT t.value FROM %s t WHERE t.person_id = c.person_id AND t.entry_no = c.entry_no AND t.day <= c.day ORDER BY t.day DESC LIMIT 1) v%d",
				c.tdTable(in), k)
			continue
		}
		deps = appendNew(deps, c.stepName("cov_"+in))
		fmt.Fprintf(&joins, "\n  JOIN %s v%d ON v%d.person_id = c.person_id AND v%d.entry_no = c.entry_no", c.covTable(in), k, k, k)
	}
	if len(days) == 0 {
		return false
	}
	sql := fmt.Sprintf(`WITH c AS (
  %s
), v AS (
  SELECT c.person_id, c.entry_no, c.day, %s AS value
  FROM c%s
)`, strings.Join(days, "\n  UNION\n  "), value, joins.String())
	c.addTimeDep(cv, b, sql, deps)
	return true
}

// prefixJoin is "" for no conditions, else sep followed by them joined.
func prefixJoin(conds []string, sep string) string {
	if len(conds) == 0 {
		return ""
	}
	return sep + strings.Join(conds, sep)
}

// episodesStep writes episodes from the tdcov tables of names (in order).
func (c *compiler) episodesStep(names []string) {
	if len(names) == 0 {
		return
	}
	b := &sqlb{}
	deps := []string{c.stepName("followup")}
	cols := []string{"person_id bigint NOT NULL", "entry_no integer NOT NULL", "episode_no integer NOT NULL",
		"start integer NOT NULL", "stop integer", "event boolean NOT NULL"}
	ins := []string{"person_id", "entry_no", "episode_no", "start", "stop", "event"}
	// Each covariate's value on a day is its latest change on or before
	// it, carried forward with windows, not looked up per day: joined on
	// the change days (NULL elsewhere), a running count of its changes
	// numbers the runs of days holding one change's value, and the first
	// value of each run is that change's. Every tdcov table has a row on
	// fu_start, the first day, so no run lacks its change.
	var days, joins, jcols, gcols, vals, outs []string
	for k, name := range names {
		deps = append(deps, c.stepName("tdcov_"+name))
		days = append(days, fmt.Sprintf("SELECT t.person_id, t.entry_no, t.day FROM %s t", c.tdTable(name)))
		cols = append(cols, column("td_"+name)+" "+sqlType(c.types[name]))
		ins = append(ins, column("td_"+name))
		joins = append(joins, fmt.Sprintf("LEFT JOIN %s t%d ON t%d.person_id = c.person_id AND t%d.entry_no = c.entry_no AND t%d.day = c.day", c.tdTable(name), k, k, k, k))
		jcols = append(jcols, fmt.Sprintf("t%d.value AS v%d, t%d.day AS d%d", k, k, k, k))
		gcols = append(gcols, fmt.Sprintf("count(j.d%d) OVER w AS g%d", k, k))
		vals = append(vals, fmt.Sprintf("first_value(g.v%d) OVER (PARTITION BY g.person_id, g.entry_no, g.g%d ORDER BY g.day) AS td%d", k, k, k))
		outs = append(outs, fmt.Sprintf("n.td%d", k))
	}
	cols = append(cols, "PRIMARY KEY (person_id, entry_no, episode_no)")
	sql := fmt.Sprintf(`(%s)
WITH c AS (
  %s
), j AS (
  SELECT c.person_id, c.entry_no, c.day, %s
  FROM c
  %s
), g AS (
  SELECT j.*, %s,
         lead(j.day) OVER w AS next, row_number() OVER w AS episode_no
  FROM j
  WINDOW w AS (PARTITION BY j.person_id, j.entry_no ORDER BY j.day)
), n AS (
  SELECT g.person_id, g.entry_no, g.day, g.next, g.episode_no::integer AS episode_no,
         %s
  FROM g
)
SELECT n.person_id, n.entry_no, n.episode_no, n.day - f.fu_start, coalesce(n.next, f.fu_end + 1) - f.fu_start,
       n.next IS NULL AND f.end_reason IS NOT DISTINCT FROM %s,
       %s
FROM n
JOIN %s f ON f.person_id = n.person_id AND f.entry_no = n.entry_no`,
		strings.Join(ins, ", "), strings.Join(days, "\n  UNION\n  "), strings.Join(jcols, ", "),
		strings.Join(joins, "\n  "), strings.Join(gcols, ", "),
		strings.Join(vals, ",\n         "), b.arg("outcome", "text"),
		strings.Join(outs, ", "), c.studyTable("followup"))
	c.add(StepEpisodes, "episodes", strings.Join(cols, ",\n"), b, sql, deps...)
}

// countingProcessSteps writes dataset_cp_<analysis> for every cox analysis
// with a time-dependent covariate among its covariates or strata; one whose
// covariates are not all compiled (baseline in compiled, time-dependent in
// td) is listed in Plan.NotCompiled.
func (c *compiler) countingProcessSteps(compiled, td []string) {
	for i, a := range c.p.Phases.Analyses {
		if a.Kind != AnalysisCox {
			continue
		}
		terms := appendNew(append([]string(nil), a.Covariates...), a.Strata...)
		uses, ok := false, true
		for _, t := range terms {
			if c.timing[t] == TimingTimeDependent {
				uses = true
				ok = ok && containsStr(td, t)
			} else {
				ok = ok && containsStr(compiled, t)
			}
		}
		if !uses {
			continue
		}
		if !ok {
			c.notCompiled(fmt.Sprintf("phases.analyses[%d]: counting-process dataset: a covariate is not compiled", i))
			continue
		}
		b := &sqlb{}
		deps := []string{c.stepName("episodes"), c.stepName("outcome_" + a.Outcome)}
		cols := []string{"person_id bigint NOT NULL", "entry_no integer NOT NULL", "episode_no integer NOT NULL",
			"start integer NOT NULL", "stop integer", "event boolean NOT NULL"}
		ins := []string{"person_id", "entry_no", "episode_no", "start", "stop", "event"}
		sel := []string{"e.person_id", "e.entry_no", "e.episode_no", "e.start", "least(e.stop, o.time)",
			"o.event AND (e.stop IS NULL OR e.stop >= o.time)"}
		var joins []string
		for k, t := range terms {
			cols = append(cols, column("cov_"+t)+" "+sqlType(c.types[t]))
			ins = append(ins, column("cov_"+t))
			if c.timing[t] == TimingTimeDependent {
				sel = append(sel, "e."+column("td_"+t))
				continue
			}
			alias := fmt.Sprintf("v%d", k)
			deps = append(deps, c.stepName("cov_"+t))
			sel = append(sel, alias+".value")
			joins = append(joins, fmt.Sprintf("\nJOIN %s %s ON %s.person_id = e.person_id AND %s.entry_no = e.entry_no", c.covTable(t), alias, alias, alias))
		}
		cols = append(cols, "PRIMARY KEY (person_id, entry_no, episode_no)")
		sql := fmt.Sprintf(`(%s)
SELECT %s
FROM %s e
JOIN %s o ON o.person_id = e.person_id AND o.entry_no = e.entry_no%s
WHERE o.time IS NULL OR e.start < o.time`, strings.Join(ins, ", "), strings.Join(sel, ", "),
			c.studyTable("episodes"), c.studyTable("outcome_"+a.Outcome), strings.Join(joins, ""))
		c.add(StepDatasetCP, "dataset_cp_"+a.Name, strings.Join(cols, ",\n"), b, sql, deps...)
	}
}
