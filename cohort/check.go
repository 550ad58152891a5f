package cohort

import (
	"fmt"
	"slices"
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
	after := 0
	if a := ph.Population.Enrolment.After; a != nil && !a.IsParam() {
		after = a.V
	}

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
	var walk func(path string, c *Criterion)
	walk = func(path string, c *Criterion) {
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
			if startSet && start > after && anchorStart {
				warn(field(path, "window"), "the window looks beyond the enrolment required after day 0 (%d days): selecting on the future causes immortal-time bias", after)
			}
		}
		if c.Group != nil {
			for i := range c.Group.Criteria {
				walk(index(field(path, "group.criteria"), i), &c.Group.Criteria[i])
			}
		}
	}
	for i := range ph.Criteria {
		walk(index("phases.criteria", i), &ph.Criteria[i])
	}
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

func intOf(x *Int) (int, bool) {
	if x == nil || x.IsParam() {
		return 0, false
	}
	return x.V, true
}
