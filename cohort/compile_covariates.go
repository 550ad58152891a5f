package cohort

import (
	"fmt"
	"strconv"
	"strings"
)

// Stage 5: baseline covariates. Each covariate writes cov_<name>: one row
// per cohort entry, (person_id, entry_no, value), value typed by the
// covariate's type (continuous: double precision, binary: boolean,
// categorical: text), NULL when missing. Builders, one per kind:
//
//   - age (completed years at day 0), sex (registry), calendar_year (of day
//     0), index_group (the entry's group);
//   - asl, municipality, gp: from the enrolment record covering day 0 (the
//     latest starting one when several do);
//   - presence, count, days_since_last: occurrences starting in the window
//     (as event criteria with match "start"), a window reaching past day 0
//     cut at the end of observation (obsEnd); days_since_last is day 0 (of
//     the window's anchor) minus the last start in the window, NULL if none;
//   - classify: class i holds [cuts[i−1], cuts[i]); default labels "<c1",
//     "[c1,c2)", ..., ">=ck"; NULL stays NULL;
//   - aggregate: merged classes, others kept;
//   - combine: and/or/not with SQL's three-valued logic; add, subtract,
//     multiply, min, max over the values (binary as 0/1; NULL if any is
//     NULL); divide gives NULL when dividing by 0;
//   - sum: the sum, NULL if any term is NULL;
//   - current_use: day 0 lies in a treatment episode (episodeCTEs: supplies
//     as supplyCTEs, gaps of at most grace_days inside an episode), as the
//     time-dependent current use on its first day; the drug's daily_ddd
//     overrides the code list's.
//
// charlson and mcs are compiled in compile_comorbidity.go; cost,
// adherence, therapy_duration, discontinuation and switch in
// compile_drugcov.go; time-dependent presence, count and current_use in
// compile_timedep.go, with the transformations of time-dependent
// covariates.

// covariateSteps writes the baseline covariates it can, in dependency order.
func (c *compiler) covariateSteps() {
	covs := c.p.Phases.Covariates
	byName := map[string]int{}
	for i := range covs {
		byName[covs[i].Name] = i
	}
	done := map[string]bool{}    // compiled
	var td []string              // compiled time-dependent (compile_timedep.go)
	skipped := map[string]bool{} // not compilable
	var visit func(i int)
	visit = func(i int) {
		cv := &covs[i]
		if done[cv.Name] || skipped[cv.Name] || containsStr(td, cv.Name) {
			return
		}
		path := fmt.Sprintf("phases.covariates[%d]", i)
		if isTransform(cv.Kind) {
			for _, in := range cv.Of {
				visit(byName[in])
				if skipped[in] {
					skipped[cv.Name] = true
					c.notCompiled(fmt.Sprintf("%s: transforms %q, not compiled", path, in))
					return
				}
			}
		}
		if c.timing[cv.Name] == TimingTimeDependent {
			ok := false
			if isTransform(cv.Kind) {
				ok = c.timeDepTransformStep(cv)
			} else {
				ok = c.timeDepStep(cv)
			}
			if !ok {
				skipped[cv.Name] = true
				c.notCompiled(path + ": time-dependent covariates of kind " + strconv.Quote(cv.Kind))
				return
			}
			td = append(td, cv.Name)
			return
		}
		if !c.covariateStep(cv) {
			skipped[cv.Name] = true
			c.notCompiled(fmt.Sprintf("%s: kind %q", path, cv.Kind))
			return
		}
		done[cv.Name] = true
	}
	for i := range covs {
		visit(i)
	}
	var compiled []string
	for _, cv := range covs {
		if done[cv.Name] {
			compiled = append(compiled, cv.Name)
		}
	}
	c.datasetStep(compiled)
	c.episodesStep(td)
	c.countingProcessSteps(compiled, td)
}

// notCompiled records (once, on partition 0) a construct the plan leaves out.
func (c *compiler) notCompiled(what string) {
	if c.part == 0 {
		c.pending = append(c.pending, what)
	}
}

// sqlType is the column type of a covariate type.
func sqlType(t string) string {
	switch t {
	case TypeContinuous:
		return "double precision"
	case TypeBinary:
		return "boolean"
	}
	return "text"
}

// covTable is the quoted table of a covariate.
func (c *compiler) covTable(name string) string { return c.studyTable("cov_" + name) }

// covariateStep writes one covariate and reports whether its kind is
// compiled.
func (c *compiler) covariateStep(cv *Covariate) bool {
	b := &sqlb{}
	deps := []string{c.stepName("cohort")}
	var value string
	from := c.studyTable("cohort") + " i"
	residence := func(col string) string {
		return fmt.Sprintf("(SELECT r.%s FROM %s r WHERE r.person_id = i.person_id AND r.start_date <= i.index_date AND (r.end_date IS NULL OR i.index_date <= r.end_date) AND %s ORDER BY r.start_date DESC, r.event_id DESC LIMIT 1)",
			col, c.flow("enrolment"), c.dv(b, "r"))
	}
	person := func(expr string) string {
		return fmt.Sprintf("(SELECT %s FROM %s p WHERE p.person_id = i.person_id AND %s)", expr, c.flow("person"), c.dv(b, "p"))
	}
	switch cv.Kind {
	case KindAge:
		value = person("extract(year FROM age(i.index_date, p.birth_date))::double precision")
	case KindSex:
		value = person("p.sex")
	case KindCalendarYear:
		value = "extract(year FROM i.index_date)::integer::text"
	case KindIndexGroup:
		value = "i.index_group"
	case KindASL:
		value = residence("asl")
	case KindMunicipality:
		value = residence("municipality")
	case KindGP:
		value = residence("gp_id")
	case KindPresence, KindCount, KindDaysSinceLast:
		c.dep(&deps, cv.Event)
		// A window reaching past day 0 ends at the end of observation, as
		// the cost and drug covariates' (compile_drugcov.go).
		lo, hi, _ := c.observedBounds(b, cv.Window, &deps)
		conds := []string{"o.person_id = i.person_id"}
		switch {
		case cv.Match == "overlap": // the occurrence's days meet the window's
			if hi != "" {
				conds = append(conds, "o.start_date <= "+hi)
			}
			if lo != "" {
				conds = append(conds, "coalesce(o.end_date, 'infinity'::date) >= "+lo)
			}
		default:
			if lo != "" {
				conds = append(conds, "o.start_date >= "+lo)
			}
			if hi != "" {
				conds = append(conds, "o.start_date <= "+hi)
			}
		}
		agg := map[string]string{
			KindPresence:      "count(*) > 0",
			KindCount:         "count(*)::double precision",
			KindDaysSinceLast: fmt.Sprintf("(%s - max(o.start_date))::double precision", anchor(cv.Window)),
		}[cv.Kind]
		value = fmt.Sprintf("(SELECT %s FROM %s o WHERE %s)", agg, c.eventTable(cv.Event), strings.Join(conds, " AND "))
	case KindClassify, KindAggregate, KindCombine, KindSum:
		value = c.transformValue(cv, b)
		from += c.joinInputs(cv.Of, &deps)
	case KindCharlson, KindMCS:
		return c.comorbidityStep(cv)
	case KindCost:
		return c.costStep(cv)
	case KindAdherence, KindTherapyDuration, KindDiscontinuation, KindSwitch:
		return c.drugStep(cv)
	case KindCurrentUse:
		// The episode definition of the time-dependent current use and of
		// the drug kinds: day 0 inside a gap of at most grace_days between
		// two supplies is use. Only a dispensing dated up to day 0 +
		// grace_days can bridge a gap holding day 0 (its supply starts on
		// or after its date), so later ones are not read.
		c.dep(&deps, cv.Drug.Event)
		daily := "o.daily_ddd"
		if cv.Drug.DailyDDD != nil {
			daily = b.arg(*cv.Drug.DailyDDD, "double precision")
		}
		carry := cv.Drug.CarryOver == nil || *cv.Drug.CarryOver
		grace := 0
		if cv.Drug.GraceDays != nil {
			grace = cv.Drug.GraceDays.V
		}
		g := b.arg(grace, "integer")
		d0 := fmt.Sprintf(`SELECT c.person_id, c.entry_no, c.index_date AS day0, NULL::date AS w_lo, NULL::date AS w_hi,
         o.start_date, o.record_id, greatest(1, ceil(o.ddd / coalesce(%s, 1)))::integer AS days
  FROM %s c
  JOIN %s o ON o.person_id = c.person_id AND o.start_date <= c.index_date + %s`, daily, c.studyTable("cohort"), c.eventTable(cv.Drug.Event), g)
		// Joined, not an EXISTS per entry over the episode CTE (no index:
		// every entry against every episode of the partition).
		sql := fmt.Sprintf(`(person_id, entry_no, value)
WITH %s, %s, a AS (
  SELECT DISTINCT x.person_id, x.entry_no FROM ep x WHERE x.first_day <= x.day0 AND x.day0 <= x.last_day
)
SELECT i.person_id, i.entry_no, a.person_id IS NOT NULL
FROM %s i
LEFT JOIN a ON a.person_id = i.person_id AND a.entry_no = i.entry_no`, supplyCTEs(d0, carry), episodeCTEs(g), c.studyTable("cohort"))
		c.addCovariate(cv, b, sql, deps)
		return true
	default:
		return false
	}
	sql := fmt.Sprintf("(person_id, entry_no, value)\nSELECT i.person_id, i.entry_no, %s\nFROM %s", value, from)
	c.addCovariate(cv, b, sql, deps)
	return true
}

// transformValue is the value of a classify, aggregate, combine or sum
// covariate as an expression over its inputs' values v0.value, v1.value, ...
// (in the order of cv.Of). Baseline and time-dependent transformations
// share it, so a value means the same in both.
func (c *compiler) transformValue(cv *Covariate, b *sqlb) string {
	switch cv.Kind {
	case KindClassify:
		in := "v0.value"
		labels := cv.Labels
		if len(labels) == 0 {
			labels = classLabels(cv.Cuts)
		}
		whens := []string{}
		for k, cut := range cv.Cuts {
			whens = append(whens, fmt.Sprintf("WHEN %s < %s THEN %s", in, b.arg(cut, "double precision"), b.arg(labels[k], "text")))
		}
		return fmt.Sprintf("CASE %s WHEN %s IS NOT NULL THEN %s END", strings.Join(whens, " "), in, b.arg(labels[len(cv.Cuts)], "text"))
	case KindAggregate:
		var whens []string
		for _, m := range cv.Classes {
			whens = append(whens, fmt.Sprintf("WHEN v0.value = ANY(%s) THEN %s", b.arg(m.From, "text[]"), b.arg(m.Label, "text")))
		}
		return fmt.Sprintf("CASE %s ELSE v0.value END", strings.Join(whens, " "))
	}
	vals := make([]string, len(cv.Of))
	for k, in := range cv.Of {
		vals[k] = fmt.Sprintf("v%d.value", k)
		if cv.Kind == KindSum || !(cv.Op == "and" || cv.Op == "or" || cv.Op == "not") {
			if c.types[in] == TypeBinary {
				vals[k] = fmt.Sprintf("v%d.value::integer::double precision", k)
			}
		}
	}
	op := cv.Op
	if cv.Kind == KindSum {
		op = "add"
	}
	switch op {
	case "and":
		return "(" + strings.Join(vals, " AND ") + ")"
	case "or":
		return "(" + strings.Join(vals, " OR ") + ")"
	case "not":
		return "(NOT " + vals[0] + ")"
	case "add":
		return "(" + strings.Join(vals, " + ") + ")"
	case "subtract":
		return "(" + vals[0] + " - " + vals[1] + ")"
	case "multiply":
		return "(" + strings.Join(vals, " * ") + ")"
	case "divide":
		return "(" + vals[0] + " / nullif(" + vals[1] + ", 0))"
	case "min", "max":
		// least/greatest ignore NULLs; a NULL term makes the value NULL.
		fn := map[string]string{"min": "least", "max": "greatest"}[op]
		return fmt.Sprintf("CASE WHEN %s THEN NULL ELSE %s(%s) END",
			strings.Join(suffixEach(vals, " IS NULL"), " OR "), fn, strings.Join(vals, ", "))
	}
	panic("cohort: unvalidated combine op " + strconv.Quote(op))
}

// addCovariate adds the step writing cov_<name>.
func (c *compiler) addCovariate(cv *Covariate, b *sqlb, sql string, deps []string) {
	c.add(StepCovariate, "cov_"+cv.Name, fmt.Sprintf(`person_id bigint NOT NULL,
entry_no integer NOT NULL,
value %s,
PRIMARY KEY (person_id, entry_no)`, sqlType(c.types[cv.Name])), b, sql, deps...)
}

// joinInputs joins the input covariates' tables as v0, v1, ... (every
// covariate table has a row per cohort entry).
func (c *compiler) joinInputs(of []string, deps *[]string) string {
	var sb strings.Builder
	for k, in := range of {
		fmt.Fprintf(&sb, "\nJOIN %s v%d ON v%d.person_id = i.person_id AND v%d.entry_no = i.entry_no", c.covTable(in), k, k, k)
		*deps = appendNew(*deps, c.stepName("cov_"+in))
	}
	return sb.String()
}

// suffixEach appends post to every string.
func suffixEach(xs []string, post string) []string { return prefixEach(xs, "", post) }

// classLabels are the default labels of classify: "<c1", "[c1,c2)", ...,
// ">=ck".
func classLabels(cuts []float64) []string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	labels := []string{"<" + f(cuts[0])}
	for k := 1; k < len(cuts); k++ {
		labels = append(labels, "["+f(cuts[k-1])+","+f(cuts[k])+")")
	}
	return append(labels, ">="+f(cuts[len(cuts)-1]))
}
