package cohort

import (
	"fmt"
	"slices"
	"strings"
)

// Check returns the warnings of a protocol that Validate accepts: legal
// constructs that are probably mistakes or that bias a study. It never
// fails; on an invalid protocol its result is incomplete.
func Check(p *Protocol) []Warning {
	var ws []Warning
	warn := func(path, format string, args ...any) {
		ws = append(ws, Warning{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	ph := &p.Phases
	before, beforeKnown := 0, true
	if b := ph.Population.Enrolment.Before; b != nil {
		if b.IsParam() {
			beforeKnown = false
		}
		before = b.V
	}
	longIndex := indexHasDuration(p)

	// Names used anywhere.
	usedLists, usedEvents, usedCovs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, ev := range p.Events {
		for _, l := range ev.CodeLists {
			usedLists[l] = true
		}
	}
	mark := func(names ...string) {
		for _, n := range names {
			usedEvents[n] = true
		}
	}
	mark(ph.Index.Events...)
	for _, g := range ph.Index.Groups {
		mark(g.Events...)
	}
	var walk func(path, top string, c *Criterion)
	walk = func(path, top string, c *Criterion) {
		mark(c.Event)
		if c.Distance != nil {
			mark(c.Distance.Event)
		}
		if c.Gap != nil {
			mark(c.Gap.Event)
		}
		if w := c.Window; w != nil && beforeKnown && (c.Event != "" || c.Gap != nil) {
			end, endSet := intOf(w.End)
			start, startSet := intOf(w.Start)
			anchorStart := w.Anchor == "" || w.Anchor == AnchorIndexStart
			switch {
			case anchorStart && endSet && end < -before:
				warn(field(path, "window"), "the whole window lies before the %d days of required enrolment: it can match only persons enrolled earlier, so ascertainment differs between persons", before)
			case anchorStart && (!startSet || start < -before) && (c.Count == nil || c.Count.AtLeast != nil || c.Count.Exactly != nil):
				warn(field(path, "window.start"), "the window starts before the %d days of required enrolment: events there are seen only for persons enrolled earlier", before)
			}
		}
		if c.Event != "" || c.Gap != nil {
			if days, ok := pastDay0(c.Window, longIndex); ok {
				warn(field(path, "window"), "criterion %q looks past day 0 (%s): selecting entries on what happens after day 0 causes immortal-time bias; events after day 0 belong to follow-up (outcomes, censoring)", top, days)
			}
			if _, past := pastDay0(c.Window, longIndex); !past && c.Distance != nil && c.Window != nil && c.Window.End != nil {
				// The window ends by day 0, but the other event may lie
				// up to distance.end days after an occurrence in it.
				d := c.Distance
				if d.End == nil || d.End.IsParam() || c.Window.End.IsParam() || c.Window.End.V+d.End.V > 0 {
					reach := "with no end"
					if d.End != nil && !d.End.IsParam() && !c.Window.End.IsParam() {
						reach = fmt.Sprintf("up to day %d", c.Window.End.V+d.End.V)
					}
					warn(field(path, "distance"), "criterion %q looks past day 0 (its distance event counts %s): selecting entries on what happens after day 0 causes immortal-time bias; events after day 0 belong to follow-up (outcomes, censoring)", top, reach)
				}
			}
			if d := c.Dates; d != nil && datesPastAccrual(d, ph.Population.Accrual.Start) {
				warn(field(path, "dates"), "criterion %q looks past day 0 (its dates reach past the start of accrual): selecting entries on what happens after day 0 causes immortal-time bias; events after day 0 belong to follow-up (outcomes, censoring)", top)
			}
		}
		if c.Group != nil {
			for i := range c.Group.Criteria {
				walk(index(field(path, "group.criteria"), i), top, &c.Group.Criteria[i])
			}
		}
	}
	for i := range ph.Criteria {
		walk(index("phases.criteria", i), ph.Criteria[i].Name, &ph.Criteria[i])
	}
	futureCovariates(ph, longIndex, warn)
	mark(ph.FollowUp.End.Censoring...)
	if d := ph.FollowUp.End.Discontinuation; d != nil {
		mark(d.Events...)
	}
	if s := ph.FollowUp.End.Switch; s != nil {
		mark(s.Events...)
	}
	for _, c := range ph.Covariates {
		mark(c.Event)
		if c.Drug != nil {
			mark(c.Drug.Event)
		}
		for _, in := range c.Of {
			usedCovs[in] = true
		}
	}
	for _, o := range ph.Outcomes {
		mark(o.Events...)
	}
	usedOutcomes := map[string]bool{}
	for _, o := range ph.FollowUp.End.Outcomes {
		usedOutcomes[o] = true
	}
	for i, a := range ph.Analyses {
		usedOutcomes[a.Outcome] = true
		for _, n := range append(append(slices.Clone(a.Covariates), a.Strata...), a.By, a.Dependent, a.StratifyBy) {
			usedCovs[n] = true
		}
		if a.Standardize != nil {
			for _, n := range a.Standardize.By {
				usedCovs[n] = true
			}
		}
		if a.StratifyBy != "" && slices.Contains(a.Covariates, a.StratifyBy) {
			warn(index("phases.analyses", i)+".stratify_by", "covariate %q is also a term of the model: within each of its classes it is constant", a.StratifyBy)
		}
		if s := a.Standardize; s != nil && s.Standard.RegistryDate != nil {
			if why := registryStandardRestrictions(ph, s.Standard.RegistryDate); len(why) > 0 {
				warn(index("phases.analyses", i)+".standardize.standard.registry_date", "the registry standard population cannot be computed for this cohort: it is read from the cohort itself, which must be the whole registry on the registry date, but %s; the run will give crude rates only: supply the standard population (standardize.standard.population)", strings.Join(why, "; "))
			}
		}
		if a.Kind == AnalysisCox && len(a.Covariates) > 0 && len(ph.Index.Groups) > 0 {
			hasGroup := false
			for _, n := range a.Covariates {
				for _, c := range ph.Covariates {
					if c.Name == n && c.Kind == KindIndexGroup {
						hasGroup = true
					}
				}
			}
			if !hasGroup {
				warn(index("phases.analyses", i)+".covariates", "the study has exposure groups but this model has no index_group covariate")
			}
		}
	}
	for i, cl := range p.CodeLists {
		if !usedLists[cl.Name] {
			warn(index("code_lists", i), "code list %q is not used by any event", cl.Name)
		}
	}
	for i, ev := range p.Events {
		if !usedEvents[ev.Name] {
			warn(index("events", i), "event %q is not used", ev.Name)
		}
	}
	for i, c := range ph.Covariates {
		if !usedCovs[c.Name] {
			warn(index("phases.covariates", i), "covariate %q is not used by any analysis or transformation", c.Name)
		}
	}
	for i, o := range ph.Outcomes {
		if !usedOutcomes[o.Name] {
			warn(index("phases.outcomes", i), "outcome %q is not used by any analysis", o.Name)
		}
	}

	// Washout and enrolment.
	if w := ph.Index.Washout; w != nil && !w.Days.IsParam() && beforeKnown && w.Days.V > before {
		warn("phases.index.washout.days", "the washout (%d days) is longer than the enrolment required before day 0 (%d days): persons with a shorter history may be taken for new users", w.Days.V, before)
	}
	if ph.Index.Washout == nil && len(ph.Index.Groups) > 0 {
		warn("phases.index", "exposure groups without a new-user washout compare prevalent users")
	}
	end := ph.FollowUp.End
	if end.Death != nil && !*end.Death {
		warn("phases.follow_up.end.death", "follow-up continues after death")
	}
	if end.EnrolmentEnd != nil && !*end.EnrolmentEnd {
		warn("phases.follow_up.end.enrolment_end", "follow-up continues after the person leaves the registry: events there are not observed")
	}
	if end.StudyEnd == nil && end.MaxDays == nil && (end.DataEnd == nil || end.DataEnd.V == DataEndFlows || end.DataEnd.V == DataEndEnrolment) {
		warn("phases.follow_up.end", "neither study_end nor max_days: follow-up ends only with the data, so results change when new data are loaded")
	}
	return ws
}

// indexHasDuration reports whether an index event may last beyond its
// first day (a hospital stay, an exemption), so that a window anchored on
// index_end may reach past day 0 whatever its bounds.
func indexHasDuration(p *Protocol) bool {
	ix := &p.Phases.Index
	names := slices.Clone(ix.Events)
	for _, g := range ix.Groups {
		names = append(names, g.Events...)
	}
	for _, n := range names {
		for _, ev := range p.Events {
			if ev.Name == n && (strings.HasPrefix(ev.Source, "hospital_") || ev.Source == SourceExemption) {
				return true
			}
		}
	}
	return false
}

// pastDay0 reports whether a window (of a criterion or a baseline
// covariate) holds days after day 0, and describes them: an open or
// positive end, or an anchor on the index event's end when index events
// may last more than a day.
func pastDay0(w *Window, longIndex bool) (string, bool) {
	if w == nil {
		return "", false
	}
	desc := func() string {
		s := "any time"
		switch {
		case w.Start != nil && w.End != nil:
			s = fmt.Sprintf("days %s to %s", intText(w.Start), intText(w.End))
		case w.Start != nil:
			s = fmt.Sprintf("from day %s on, with no end", intText(w.Start))
		case w.End != nil:
			s = fmt.Sprintf("up to day %s", intText(w.End))
		}
		if w.Anchor == AnchorIndexEnd {
			s += " after the end of the index event"
		}
		return s
	}
	if w.End == nil || w.End.IsParam() || w.End.V > 0 || (w.Anchor == AnchorIndexEnd && longIndex) {
		return desc(), true
	}
	return "", false
}

func intText(x *Int) string {
	if x.IsParam() {
		return "‹" + x.Param + "›"
	}
	return fmt.Sprint(x.V)
}

// datesPastAccrual reports whether a criterion's dates may hold a day
// after some entry's day 0: an open end, or an end on or after the start
// of accrual.
func datesPastAccrual(d *DateRange, accrualStart *Date) bool {
	if d.End == nil || d.End.IsParam() || accrualStart == nil || accrualStart.IsParam() {
		return d.End == nil
	}
	return d.End.V >= accrualStart.V
}

// futureCovariates warns for every baseline covariate whose window looks
// past day 0 and that an analysis uses to select, group, stratify or
// adjust (directly or through a transformation): its value then depends
// on surviving, unexposed to the outcome, after day 0 (immortal time).
// Time-dependent covariates (re-evaluated on each day of follow-up) are
// follow-up constructs, and so is a covariate used only as a linear
// model's dependent (an outcome measured after day 0, e.g. a cost) or as
// a row of a descriptive table.
func futureCovariates(ph *Phases, longIndex bool, warn func(path, format string, args ...any)) {
	uses := map[string][]string{} // covariate → analyses using it in a model or grouping
	for _, a := range ph.Analyses {
		var names []string
		if a.Kind != AnalysisDescriptive {
			names = append(names, a.Covariates...)
		}
		names = append(names, a.Strata...)
		names = append(names, a.By, a.StratifyBy)
		if a.Standardize != nil {
			names = append(names, a.Standardize.By...)
		}
		for _, n := range names {
			if n != "" && !slices.Contains(uses[n], a.Name) {
				uses[n] = append(uses[n], a.Name)
			}
		}
	}
	// usedBy is the analyses using a covariate or any transformation of it.
	var usedBy func(name string, seen map[string]bool) []string
	usedBy = func(name string, seen map[string]bool) []string {
		if seen[name] {
			return nil
		}
		seen[name] = true
		out := slices.Clone(uses[name])
		for _, c := range ph.Covariates {
			if slices.Contains(c.Of, name) {
				for _, a := range usedBy(c.Name, seen) {
					if !slices.Contains(out, a) {
						out = append(out, a)
					}
				}
			}
		}
		return out
	}
	for i, c := range ph.Covariates {
		if c.Timing == TimingTimeDependent {
			continue
		}
		days, ok := pastDay0(c.Window, longIndex)
		if !ok {
			continue
		}
		as := usedBy(c.Name, map[string]bool{})
		if len(as) == 0 {
			continue
		}
		slices.Sort(as)
		who := "analyses " + quoteList(as) + " use"
		if len(as) == 1 {
			who = "analysis " + quoteList(as) + " uses"
		}
		warn(field(index("phases.covariates", i), "window"), "covariate %q looks past day 0 (%s) and %s it at baseline: a value measured after day 0 depends on surviving to it (immortal-time bias); make it time-dependent, or end its window on day 0", c.Name, days, who)
	}
}

// registryStandardRestrictions says why a registry standard population on
// date rd cannot be computed: the engine reads it from the cohort itself
// (engine/study standardPopulation), so the cohort must be the registry on
// that date — a population cohort whose index date is rd, with no area,
// age, sex or ASL restriction, no enrolment after day 0 and no criteria.
// Empty when it can.
func registryStandardRestrictions(ph *Phases, rd *Date) []string {
	var why []string
	pop := &ph.Population
	switch ix := ph.Index.Date; {
	case ix == nil:
		why = append(why, "the cohort enters on index events, not on a date (phases.index.date)")
	case *ix != *rd:
		why = append(why, fmt.Sprintf("the index date (%s) is not the registry date (%s)", dateText(ix), dateText(rd)))
	}
	var restricted []string
	if pop.Area != nil {
		restricted = append(restricted, "area")
	}
	if pop.Age != nil {
		restricted = append(restricted, "age")
	}
	if pop.Sex != "" {
		restricted = append(restricted, "sex")
	}
	if len(pop.ASLs) > 0 {
		restricted = append(restricted, "asl")
	}
	if a := pop.Enrolment.After; a != nil && (a.IsParam() || a.V != 0) {
		restricted = append(restricted, "enrolment.after")
	}
	if len(restricted) > 0 {
		why = append(why, "the population is restricted by "+strings.Join(restricted, ", "))
	}
	if len(ph.Criteria) > 0 {
		names := make([]string, len(ph.Criteria))
		for i, c := range ph.Criteria {
			names[i] = c.Name
		}
		why = append(why, "the cohort is restricted by the criteria "+quoteList(names))
	}
	return why
}

func dateText(d *Date) string {
	if d.IsParam() {
		s := "‹" + d.Param + "›"
		if d.Day != "" {
			s += "-" + d.Day
		}
		return s
	}
	return d.V
}

func intOf(x *Int) (int, bool) {
	if x == nil || x.IsParam() {
		return 0, false
	}
	return x.V, true
}
