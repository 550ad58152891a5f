package cohort

import (
	"slices"
	"strings"
)

// covFields is, per covariate kind, the optional fields it takes (beyond
// name, title, kind) and the ones it requires.
var covFields = map[string]struct{ allowed, required []string }{
	KindAge:             {},
	KindSex:             {allowed: []string{"reference"}},
	KindASL:             {allowed: []string{"reference"}},
	KindMunicipality:    {allowed: []string{"reference"}},
	KindGP:              {allowed: []string{"reference"}},
	KindCalendarYear:    {allowed: []string{"reference"}},
	KindIndexGroup:      {allowed: []string{"reference"}},
	KindPresence:        {allowed: []string{"timing", "match"}, required: []string{"event", "window"}},
	KindCount:           {allowed: []string{"timing", "match"}, required: []string{"event", "window"}},
	KindDaysSinceLast:   {required: []string{"event", "window"}},
	KindCharlson:        {required: []string{"window"}},
	KindMCS:             {required: []string{"window"}},
	KindCost:            {required: []string{"window", "flows"}},
	KindCurrentUse:      {allowed: []string{"timing"}, required: []string{"drug"}},
	KindAdherence:       {required: []string{"drug", "method", "window"}},
	KindTherapyDuration: {required: []string{"drug", "window"}},
	KindDiscontinuation: {required: []string{"drug", "window"}},
	KindSwitch:          {required: []string{"drug", "event", "window"}},
	KindClassify:        {allowed: []string{"labels", "reference"}, required: []string{"of", "cuts"}},
	KindAggregate:       {allowed: []string{"reference"}, required: []string{"of", "classes"}},
	KindCombine:         {required: []string{"of", "op"}},
	KindSum:             {required: []string{"of"}},
}

// CovariateKinds is every covariate kind, in documentation order.
var CovariateKinds = []string{KindAge, KindSex, KindASL, KindMunicipality, KindGP, KindCalendarYear,
	KindIndexGroup, KindPresence, KindCount, KindDaysSinceLast, KindCharlson, KindMCS, KindCost,
	KindCurrentUse, KindAdherence, KindTherapyDuration, KindDiscontinuation, KindSwitch,
	KindClassify, KindAggregate, KindCombine, KindSum}

func covSet(c *Covariate) map[string]bool {
	return map[string]bool{
		"timing": c.Timing != "", "event": c.Event != "", "window": c.Window != nil, "match": c.Match != "", "drug": c.Drug != nil,
		"method": c.Method != "", "flows": len(c.Flows) > 0, "of": len(c.Of) > 0, "cuts": len(c.Cuts) > 0,
		"labels": len(c.Labels) > 0, "classes": len(c.Classes) > 0, "op": c.Op != "", "reference": c.Reference != "",
	}
}

var covFieldOrder = []string{"timing", "event", "window", "match", "drug", "method", "flows", "of", "cuts", "labels", "classes", "op", "reference"}

// timeDependentKinds is the covariate kinds that take "timing", in
// documentation order.
func timeDependentKinds() []string {
	var out []string
	for _, k := range CovariateKinds {
		if slices.Contains(covFields[k].allowed, "timing") {
			out = append(out, k)
		}
	}
	return out
}

func isTransform(kind string) bool {
	return kind == KindClassify || kind == KindAggregate || kind == KindCombine || kind == KindSum
}

func (v *validator) covariate(path string, c *Covariate) {
	spec, ok := covFields[c.Kind]
	if !ok {
		v.e.add(field(path, "kind"), "must be one of %s, got %q", quoteList(CovariateKinds), c.Kind)
		return
	}
	set := covSet(c)
	for _, f := range covFieldOrder {
		switch {
		case slices.Contains(spec.required, f) && !set[f]:
			v.e.add(field(path, f), "required for kind %q", c.Kind)
		case f == "timing" && set[f] && !slices.Contains(spec.allowed, f) && isTransform(c.Kind):
			v.e.add(field(path, f), "not used by kind %q: a transformation is time-dependent when one of its inputs is", c.Kind)
		case f == "timing" && set[f] && !slices.Contains(spec.allowed, f):
			v.e.add(field(path, f), "not used by kind %q: only kinds %s can be time-dependent (and the transformations of a time-dependent covariate)", c.Kind, quoteList(timeDependentKinds()))
		case set[f] && !slices.Contains(spec.required, f) && !slices.Contains(spec.allowed, f):
			v.e.add(field(path, f), "not used by kind %q", c.Kind)
		}
	}
	td := c.Timing == TimingTimeDependent
	if c.Timing != "" {
		v.oneOf(field(path, "timing"), c.Timing, TimingBaseline, TimingTimeDependent)
	}
	if c.Window != nil {
		v.window(field(path, "window"), c.Window, !td)
		if c.Kind == KindAdherence && (c.Window.Start == nil || c.Window.End == nil) {
			v.e.add(field(path, "window"), "adherence needs a closed window (start and end)")
		}
	}
	if c.Match != "" && v.oneOf(field(path, "match"), c.Match, "start", "overlap") && td && c.Match == "overlap" {
		v.e.add(field(path, "match"), `"overlap" is for baseline covariates; a time-dependent one counts the occurrences starting in its window`)
	}
	if c.Event != "" {
		v.eventRef(field(path, "event"), c.Event)
	}
	if c.Drug != nil {
		dp := field(path, "drug")
		v.eventRef(field(dp, "event"), c.Drug.Event, SourceDispensing)
		if c.Drug.DailyDDD != nil && !(*c.Drug.DailyDDD > 0 && *c.Drug.DailyDDD <= 1000) {
			v.e.add(field(dp, "daily_ddd"), "must be > 0 and ≤ 1000, got %g", *c.Drug.DailyDDD)
		}
		v.intVal(field(dp, "grace_days"), c.Drug.GraceDays, 0, maxDays)
	}
	if c.Method != "" {
		v.oneOf(field(path, "method"), c.Method, "pdc", "mpr")
	}
	seen := map[string]bool{}
	for i, f := range c.Flows {
		if v.oneOf(index(field(path, "flows"), i), f, "hospital", "pharmacy", "direct_distribution", "outpatient") && seen[f] {
			v.e.add(index(field(path, "flows"), i), "duplicate flow %q", f)
		}
		seen[f] = true
	}
	if c.Kind == KindIndexGroup && len(v.p.Phases.Index.Groups) == 0 {
		v.e.add(field(path, "kind"), "index_group needs exposure groups in phases.index.groups")
	}
	if isTransform(c.Kind) {
		v.transform(path, c)
	}
	if c.Reference != "" {
		v.reference(path, c)
	}
}

func (v *validator) transform(path string, c *Covariate) {
	for i, name := range c.Of {
		if _, ok := v.covs[name]; !ok {
			v.e.add(index(field(path, "of"), i), "unknown covariate %q", name)
		} else if name == c.Name {
			v.e.add(index(field(path, "of"), i), "a covariate cannot transform itself")
		}
	}
	if v.covType(c.Name) == "" { // part of a cycle: each member reports it
		if v.cyclic[c.Name] {
			v.e.add(field(path, "of"), "covariate %q depends on itself through %s", c.Name, strings.Join(v.cyclePath(c.Name), " → "))
		}
		return
	}
	inTypes := make([]string, len(c.Of))
	for i, name := range c.Of {
		inTypes[i] = v.covType(name)
	}
	wantN := func(min, max int) {
		if len(c.Of) < min || len(c.Of) > max {
			if min == max {
				v.e.add(field(path, "of"), "kind %q transforms exactly %d covariate(s), got %d", c.Kind, min, len(c.Of))
			} else {
				v.e.add(field(path, "of"), "kind %q needs at least %d covariates, got %d", c.Kind, min, len(c.Of))
			}
		}
	}
	wantType := func(types ...string) {
		for i, t := range inTypes {
			if t != "" && !slices.Contains(types, t) {
				v.e.add(index(field(path, "of"), i), "covariate %q is %s; kind %q needs %s", c.Of[i], t, c.Kind, strings.Join(types, " or "))
			}
		}
	}
	switch c.Kind {
	case KindClassify:
		wantN(1, 1)
		wantType(TypeContinuous)
		for i := 1; i < len(c.Cuts); i++ {
			if !(c.Cuts[i] > c.Cuts[i-1]) {
				v.e.add(index(field(path, "cuts"), i), "cut points must be strictly ascending")
			}
		}
		if len(c.Labels) > 0 && len(c.Labels) != len(c.Cuts)+1 {
			v.e.add(field(path, "labels"), "needs len(cuts)+1 = %d labels, got %d", len(c.Cuts)+1, len(c.Labels))
		}
		v.uniqueLabels(field(path, "labels"), c.Labels)
	case KindAggregate:
		wantN(1, 1)
		wantType(TypeCategorical)
		used := map[string]bool{}
		labels := make([]string, len(c.Classes))
		for i, m := range c.Classes {
			mp := index(field(path, "classes"), i)
			labels[i] = m.Label
			v.label(field(mp, "label"), m.Label)
			if len(m.From) == 0 {
				v.e.add(field(mp, "from"), "required: the classes merged")
			}
			for j, f := range m.From {
				if used[f] {
					v.e.add(index(field(mp, "from"), j), "class %q is already merged into another class", f)
				}
				used[f] = true
			}
		}
		v.uniqueLabels(field(path, "classes"), labels)
	case KindCombine:
		if !v.oneOf(field(path, "op"), c.Op, "and", "or", "not", "add", "subtract", "multiply", "divide", "min", "max") {
			return
		}
		switch c.Op {
		case "not":
			wantN(1, 1)
			wantType(TypeBinary)
		case "and", "or":
			wantN(2, 1<<20)
			wantType(TypeBinary)
		case "subtract", "divide":
			wantN(2, 2)
			wantType(TypeContinuous, TypeBinary)
		default:
			wantN(2, 1<<20)
			wantType(TypeContinuous, TypeBinary)
		}
	case KindSum:
		wantN(2, 1<<20)
		wantType(TypeContinuous, TypeBinary)
	}
}

func (v *validator) uniqueLabels(path string, labels []string) {
	seen := map[string]bool{}
	for i, l := range labels {
		v.label(index(path, i), l)
		if seen[l] {
			v.e.add(index(path, i), "duplicate label %q", l)
		}
		seen[l] = true
	}
}

func (v *validator) reference(path string, c *Covariate) {
	var levels []string
	switch c.Kind {
	case KindSex:
		levels = []string{"M", "F"}
	case KindIndexGroup:
		for _, g := range v.p.Phases.Index.Groups {
			levels = append(levels, g.Name)
		}
	case KindClassify:
		levels = c.Labels
		if len(levels) == 0 && len(c.Cuts) > 0 {
			levels = classLabels(c.Cuts) // the default labels
		}
	case KindAggregate:
		for _, m := range c.Classes {
			levels = append(levels, m.Label)
		}
	}
	if len(levels) > 0 && !slices.Contains(levels, c.Reference) && !(c.Kind == KindAggregate) {
		v.e.add(field(path, "reference"), "must be one of the levels %s, got %q", quoteList(levels), c.Reference)
	}
}

// covType returns a covariate's value type, or "" when it is unknown or
// part of a cycle (then cyclic marks it).
func (v *validator) covType(name string) string {
	c, ok := v.covs[name]
	if !ok {
		return ""
	}
	switch v.state[name] {
	case 1:
		v.cyclic[name] = true
		return ""
	case 2:
		return v.types[name]
	}
	v.state[name] = 1
	t, timing := "", c.Timing
	if timing == "" {
		timing = TimingBaseline
	}
	switch c.Kind {
	case KindAge, KindCount, KindDaysSinceLast, KindCharlson, KindMCS, KindCost, KindAdherence, KindTherapyDuration, KindSum:
		t = TypeContinuous
	case KindSex, KindASL, KindMunicipality, KindGP, KindCalendarYear, KindIndexGroup, KindClassify, KindAggregate:
		t = TypeCategorical
	case KindPresence, KindCurrentUse, KindDiscontinuation, KindSwitch:
		t = TypeBinary
	case KindCombine:
		t = TypeContinuous
		if slices.Contains([]string{"and", "or", "not"}, c.Op) {
			t = TypeBinary
		}
	}
	if isTransform(c.Kind) {
		timing = TimingBaseline
		for _, in := range c.Of {
			if in == name {
				continue
			}
			if v.covType(in) == "" && v.cyclic[in] {
				v.cyclic[name] = true
			}
			if v.timing[in] == TimingTimeDependent {
				timing = TimingTimeDependent
			}
		}
		if v.cyclic[name] {
			t = ""
		}
	}
	v.state[name] = 2
	v.types[name] = t
	v.timing[name] = timing
	return t
}

// cyclePath follows "of" from name back to name.
func (v *validator) cyclePath(name string) []string {
	visited := map[string]bool{}
	var walk func(cur string, path []string) []string
	walk = func(cur string, path []string) []string {
		for _, in := range v.covs[cur].Of {
			if in == name {
				return append(path, in)
			}
			if _, ok := v.covs[in]; !ok || visited[in] {
				continue
			}
			visited[in] = true
			if r := walk(in, append(path, in)); r != nil {
				return r
			}
		}
		return nil
	}
	if r := walk(name, []string{name}); r != nil {
		return r
	}
	return []string{name}
}

// covRef checks a reference to a covariate in an analysis and returns its
// type ("" when unknown).
func (v *validator) covRef(path, name string, types ...string) string {
	if _, ok := v.covs[name]; !ok {
		v.e.add(path, "unknown covariate %q", name)
		return ""
	}
	t := v.covType(name)
	if t != "" && len(types) > 0 && !slices.Contains(types, t) {
		what := strings.Join(types, " or ")
		v.e.add(path, "covariate %q is %s; here a %s covariate is needed", name, t, what)
	}
	return t
}

func (v *validator) baselineOnly(path, name, kind string) {
	if _, ok := v.covs[name]; ok && v.covType(name) != "" && v.timing[name] == TimingTimeDependent {
		if kind == AnalysisCox {
			v.e.add(path, "covariate %q is time-dependent; a cox analysis's strata must be baseline covariates (a time-dependent covariate may be one of its covariates)", name)
			return
		}
		v.e.add(path, "covariate %q is time-dependent; only a cox analysis can use it, as one of its covariates", name)
	}
}

// countsRecurrent is the analysis kinds that use the count of an outcome
// with occurrence "all" (every occurrence in follow-up): none yet. Rates
// read the first event of each entry, so an "all" outcome is refused
// wherever it is used (issue 14, point 9) instead of being silently
// computed as "first".
var countsRecurrent = map[string]bool{}

// analysisFields is, per analysis kind, the fields it takes and requires.
var analysisFields = map[string]struct{ allowed, required []string }{
	AnalysisAttrition:   {},
	AnalysisDescriptive: {allowed: []string{"by", "stratify_by"}, required: []string{"covariates"}},
	AnalysisKaplanMeier: {allowed: []string{"by", "stratify_by"}, required: []string{"outcome"}},
	AnalysisCox:         {allowed: []string{"strata", "ties", "ci", "stratify_by"}, required: []string{"outcome", "covariates"}},
	AnalysisLogistic:    {allowed: []string{"stratify_by"}, required: []string{"outcome", "horizon", "covariates"}},
	AnalysisLinear:      {allowed: []string{"stratify_by"}, required: []string{"dependent", "covariates"}},
	AnalysisRates:       {allowed: []string{"by", "per", "standardize", "stratify_by"}, required: []string{"outcome"}},
}

// AnalysisKinds is every analysis kind, in documentation order.
var AnalysisKinds = []string{AnalysisAttrition, AnalysisDescriptive, AnalysisKaplanMeier, AnalysisCox,
	AnalysisLogistic, AnalysisLinear, AnalysisRates}

var analysisFieldOrder = []string{"outcome", "covariates", "by", "strata", "ties", "ci", "horizon", "dependent", "per", "standardize", "stratify_by"}

func (v *validator) analysis(path string, a *Analysis) {
	spec, ok := analysisFields[a.Kind]
	if !ok {
		v.e.add(field(path, "kind"), "must be one of %s, got %q", quoteList(AnalysisKinds), a.Kind)
		return
	}
	set := map[string]bool{"outcome": a.Outcome != "", "covariates": len(a.Covariates) > 0, "by": a.By != "",
		"strata": len(a.Strata) > 0, "ties": a.Ties != "", "ci": a.CI != "", "horizon": a.Horizon != nil, "dependent": a.Dependent != "",
		"per": a.Per != 0, "standardize": a.Standardize != nil, "stratify_by": a.StratifyBy != ""}
	for _, f := range analysisFieldOrder {
		switch {
		case slices.Contains(spec.required, f) && !set[f]:
			v.e.add(field(path, f), "required for kind %q", a.Kind)
		case set[f] && !slices.Contains(spec.required, f) && !slices.Contains(spec.allowed, f):
			v.e.add(field(path, f), "not used by kind %q", a.Kind)
		}
	}
	if a.Outcome != "" {
		if o, ok := v.outcomes[a.Outcome]; !ok {
			v.e.add(field(path, "outcome"), "unknown outcome %q", a.Outcome)
		} else if o.Occurrence == "all" && !countsRecurrent[a.Kind] {
			if a.Kind == AnalysisRates {
				v.e.add(field(path, "outcome"), "outcome %q counts all occurrences (occurrence \"all\"), but rates count only the first event of each entry: recurrent events are not computed yet; use \"first\"", a.Outcome)
			} else {
				v.e.add(field(path, "outcome"), "outcome %q counts all occurrences; kind %q needs the first (time to event)", a.Outcome, a.Kind)
			}
		}
	}
	cox := a.Kind == AnalysisCox
	seen := map[string]bool{}
	for i, name := range a.Covariates {
		cp := index(field(path, "covariates"), i)
		v.covRef(cp, name)
		if seen[name] {
			v.e.add(cp, "duplicate covariate %q", name)
		}
		seen[name] = true
		if !cox {
			v.baselineOnly(cp, name, a.Kind)
		}
	}
	if a.By != "" {
		v.covRef(field(path, "by"), a.By, TypeCategorical, TypeBinary)
		v.baselineOnly(field(path, "by"), a.By, a.Kind)
	}
	for i, name := range a.Strata {
		v.covRef(index(field(path, "strata"), i), name, TypeCategorical, TypeBinary)
		v.baselineOnly(index(field(path, "strata"), i), name, a.Kind)
	}
	if a.CI != "" {
		v.oneOf(field(path, "ci"), a.CI, "wald", "profile")
	}
	if a.Ties != "" {
		v.oneOf(field(path, "ties"), a.Ties, "efron", "breslow")
	}
	v.intVal(field(path, "horizon"), a.Horizon, 1, maxDays)
	if a.Dependent != "" {
		v.covRef(field(path, "dependent"), a.Dependent, TypeContinuous)
		v.baselineOnly(field(path, "dependent"), a.Dependent, a.Kind)
	}
	if a.Per < 0 {
		v.e.add(field(path, "per"), "must be > 0, got %g", a.Per)
	}
	if s := a.Standardize; s != nil {
		v.standardize(field(path, "standardize"), s)
	}
	if a.StratifyBy != "" {
		v.covRef(field(path, "stratify_by"), a.StratifyBy, TypeCategorical, TypeBinary)
		v.baselineOnly(field(path, "stratify_by"), a.StratifyBy, a.Kind)
	}
}

// demographicKinds may feed a registry standard population.
var demographicKinds = []string{KindAge, KindSex, KindASL, KindMunicipality}

func (v *validator) standardize(path string, s *Standardization) {
	if len(s.By) == 0 {
		v.e.add(field(path, "by"), "required: the covariates defining the strata (e.g. age class and sex)")
	}
	for i, name := range s.By {
		bp := index(field(path, "by"), i)
		if v.covRef(bp, name, TypeCategorical, TypeBinary) == "" {
			continue
		}
		v.baselineOnly(bp, name, AnalysisRates)
		if s.Standard.RegistryDate != nil {
			if bad := v.nonDemographic(name); bad != "" {
				v.e.add(bp, "covariate %q depends on %q (kind %q): a registry standard population can be classified only by age, sex, ASL and municipality", name, bad, v.covs[bad].Kind)
			}
		}
	}
	sp := field(path, "standard")
	switch {
	case s.Standard.RegistryDate != nil && len(s.Standard.Population) > 0:
		v.e.add(sp, "give either registry_date or population, not both")
	case s.Standard.RegistryDate == nil && len(s.Standard.Population) == 0:
		v.e.add(sp, "give registry_date or population")
	}
	v.dateVal(field(sp, "registry_date"), s.Standard.RegistryDate)
	for i, st := range s.Standard.Population {
		pp := index(field(sp, "population"), i)
		if !(st.Persons > 0) {
			v.e.add(field(pp, "persons"), "must be > 0, got %g", st.Persons)
		}
		for _, name := range s.By {
			if _, ok := st.Levels[name]; !ok {
				v.e.add(field(pp, "levels"), "missing the class of %q", name)
			}
		}
		for _, k := range sortedKeys(anyMap(st.Levels)) {
			if !slices.Contains(s.By, k) {
				v.e.add(field(field(pp, "levels"), k), "not one of the standardization covariates %s", quoteList(s.By))
			}
		}
	}
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, x := range m {
		out[k] = x
	}
	return out
}

// nonDemographic returns a covariate that name depends on and that is not
// demographic, or "".
func (v *validator) nonDemographic(name string) string {
	seen := map[string]bool{}
	var walk func(n string) string
	walk = func(n string) string {
		if seen[n] {
			return ""
		}
		seen[n] = true
		c, ok := v.covs[n]
		if !ok {
			return ""
		}
		if isTransform(c.Kind) {
			for _, in := range c.Of {
				if r := walk(in); r != "" {
					return r
				}
			}
			return ""
		}
		if slices.Contains(demographicKinds, c.Kind) {
			return ""
		}
		return n
	}
	return walk(name)
}
