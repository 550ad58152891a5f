package cohort

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

var (
	nameRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	dayRe  = regexp.MustCompile(`^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`)
	// dateLike is what is meant as a date, checked further by parseDate.
	dateLike = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	dateFmt  = "2006-01-02"
)

// Limits on the number of top-level criteria, covariates and outcomes:
// each becomes one or two columns of a study table, and PostgreSQL allows
// 1,600 columns per table (the analysis dataset holds 7 columns, two per
// outcome, one per covariate and one more per cost or adherence
// covariate: at most 1,207 within these limits).
const (
	MaxCriteria   = 500
	MaxCovariates = 500
	MaxOutcomes   = 100
)

// Value types of covariates.
const (
	TypeContinuous  = "continuous"
	TypeBinary      = "binary"
	TypeCategorical = "categorical"
)

// validator holds the protocol's name tables while it is checked.
type validator struct {
	p        *Protocol
	e        errs
	params   map[string]*Parameter
	lists    map[string]*CodeList
	events   map[string]*EventDef
	covs     map[string]*Covariate
	covPath  map[string]string
	outcomes map[string]*Outcome
	groups   map[string]bool
	types    map[string]string // covariate → type, filled by covType
	timing   map[string]string // covariate → effective timing
	state    map[string]int    // cycle detection: 1 visiting, 2 done
	cyclic   map[string]bool
}

// Validate checks the protocol's meaning and returns every problem found as
// ValidationErrors (nil when there is none). Placeholders are checked
// against the declared parameters; values that are placeholders are checked
// again by Bind once they are known.
func (p *Protocol) Validate() error {
	v := newValidator(p)
	v.validate()
	return v.e.err()
}

func newValidator(p *Protocol) *validator {
	return &validator{p: p, params: map[string]*Parameter{}, lists: map[string]*CodeList{},
		events: map[string]*EventDef{}, covs: map[string]*Covariate{}, covPath: map[string]string{},
		outcomes: map[string]*Outcome{}, groups: map[string]bool{}, types: map[string]string{},
		timing: map[string]string{}, state: map[string]int{}, cyclic: map[string]bool{}}
}

func (v *validator) validate() {
	p := v.p
	if p.Version != Version {
		v.e.add("version", "must be %d, got %d", Version, p.Version)
	}
	v.name("name", p.Name)
	for i := range p.Parameters {
		v.parameter(index("parameters", i), &p.Parameters[i])
	}
	for i := range p.CodeLists {
		v.codeList(index("code_lists", i), &p.CodeLists[i])
	}
	for i := range p.Events {
		v.eventDef(index("events", i), &p.Events[i])
	}
	ph := &p.Phases
	// Register names before checking references, so order does not matter.
	for i := range ph.Index.Groups {
		v.groups[ph.Index.Groups[i].Name] = true
	}
	for i := range ph.Outcomes {
		o := &ph.Outcomes[i]
		path := index("phases.outcomes", i)
		if v.name(field(path, "name"), o.Name) {
			if _, dup := v.outcomes[o.Name]; dup {
				v.e.add(field(path, "name"), "duplicate outcome name %q", o.Name)
			}
			v.outcomes[o.Name] = o
		}
	}
	for i := range ph.Covariates {
		c := &ph.Covariates[i]
		path := index("phases.covariates", i)
		if v.name(field(path, "name"), c.Name) {
			if _, dup := v.covs[c.Name]; dup {
				v.e.add(field(path, "name"), "duplicate covariate name %q", c.Name)
				continue
			}
			v.covs[c.Name] = c
			v.covPath[c.Name] = path
		}
	}
	for _, lim := range []struct {
		path, what string
		n, max     int
	}{
		{"phases.criteria", "top-level criteria (each is a column of the criteria table and a line of attrition; a group counts once)", len(ph.Criteria), MaxCriteria},
		{"phases.covariates", "covariates (each is a column of the analysis dataset)", len(ph.Covariates), MaxCovariates},
		{"phases.outcomes", "outcomes (each is two columns of the analysis dataset)", len(ph.Outcomes), MaxOutcomes},
	} {
		if lim.n > lim.max {
			v.e.add(lim.path, "at most %d %s, got %d", lim.max, lim.what, lim.n)
		}
	}
	v.population("phases.population", &ph.Population)
	v.index("phases.index", &ph.Index)
	seen := map[string]bool{}
	for i := range ph.Criteria {
		path := index("phases.criteria", i)
		c := &ph.Criteria[i]
		if strings.TrimSpace(c.Name) == "" {
			v.e.add(field(path, "name"), "required: a top-level criterion is a line of the attrition table")
		} else if seen[c.Name] {
			v.e.add(field(path, "name"), "duplicate criterion name %q", c.Name)
		}
		seen[c.Name] = true
		v.criterion(path, c)
	}
	v.followUp("phases.follow_up", &ph.FollowUp)
	for i := range ph.Covariates {
		v.covariate(index("phases.covariates", i), &ph.Covariates[i])
		v.covType(ph.Covariates[i].Name) // type and timing of every covariate, referenced or not
	}
	for i := range ph.Outcomes {
		v.outcome(index("phases.outcomes", i), &ph.Outcomes[i])
	}
	anames := map[string]bool{}
	for i := range ph.Analyses {
		a := &ph.Analyses[i]
		path := index("phases.analyses", i)
		if v.name(field(path, "name"), a.Name) {
			if anames[a.Name] {
				v.e.add(field(path, "name"), "duplicate analysis name %q", a.Name)
			}
			anames[a.Name] = true
		}
		v.analysis(path, a)
	}
}

// name checks an identifier and reports whether it is one.
func (v *validator) name(path, s string) bool {
	if s == "" {
		v.e.add(path, "required")
		return false
	}
	if !nameRe.MatchString(s) {
		v.e.add(path, "%q is not a name: use 1 to 63 lower-case letters, digits, '_' or '-', starting with a letter", s)
		return false
	}
	return true
}

// label checks a class or group label.
func (v *validator) label(path, s string) {
	switch {
	case strings.TrimSpace(s) == "":
		v.e.add(path, "required")
	case len(s) > 63:
		v.e.add(path, "must be at most 63 characters")
	case strings.ContainsAny(s, "=\n\t"):
		v.e.add(path, "must not contain '=' or control characters (it becomes part of term names like exposure=A)")
	}
}

func (v *validator) oneOf(path, s string, allowed ...string) bool {
	if slices.Contains(allowed, s) {
		return true
	}
	v.e.add(path, "must be one of %s, got %q", quoteList(allowed), s)
	return false
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

// --- placeholders and values ---

func (v *validator) paramRef(path, name string, want ...string) *Parameter {
	prm, ok := v.params[name]
	if !ok {
		v.e.add(path, "unknown parameter %q (declare it in \"parameters\")", name)
		return nil
	}
	if !slices.Contains(want, prm.Type) {
		v.e.add(path, "parameter %q is of type %s; here a %s is needed", name, prm.Type, strings.Join(want, " or "))
		return nil
	}
	return prm
}

// intVal checks an Int against [lo, hi] and returns its value when literal.
func (v *validator) intVal(path string, x *Int, lo, hi int) (int, bool) {
	if x == nil {
		return 0, false
	}
	if x.IsParam() {
		v.paramRef(path, x.Param, ParamInteger)
		return 0, false
	}
	if x.V < lo || x.V > hi {
		v.e.add(path, "out of range: must be between %d and %d, got %d", lo, hi, x.V)
	}
	return x.V, true
}

// dateVal checks a Date and returns it when literal and valid.
func (v *validator) dateVal(path string, d *Date) (time.Time, bool) {
	if d == nil {
		return time.Time{}, false
	}
	if d.IsParam() {
		prm := v.paramRef(path, d.Param, ParamDate, ParamInteger)
		if prm == nil {
			return time.Time{}, false
		}
		if prm.Type == ParamDate && (d.Day != "" || d.AddYears != 0) {
			v.e.add(path, "\"day\" and \"add_years\" apply to an integer (year) parameter; %q is a date", d.Param)
		}
		if prm.Type == ParamInteger && !dayRe.MatchString(d.Day) {
			v.e.add(field(path, "day"), "a year parameter in a date needs \"day\": \"MM-DD\", got %q", d.Day)
		}
		return time.Time{}, false
	}
	t, err := parseDate(d.V)
	if err != nil {
		v.e.add(path, "%s", err.Error())
		return time.Time{}, false
	}
	return t, true
}

func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(dateFmt, s)
	if err != nil || len(s) != 10 {
		return time.Time{}, fmt.Errorf("must be a date \"YYYY-MM-DD\", got %q", s)
	}
	if t.Year() < 1900 || t.Year() > 2199 {
		return time.Time{}, fmt.Errorf("year must be between 1900 and 2199, got %q", s)
	}
	return t, nil
}

func (v *validator) textVal(path string, x Text) {
	if x.IsParam() {
		v.paramRef(path, x.Param, ParamText)
		return
	}
	if strings.TrimSpace(x.V) == "" {
		v.e.add(path, "must not be empty")
	}
}

func (v *validator) dateRange(path string, r *DateRange, required bool) {
	if required {
		if r.Start == nil {
			v.e.add(field(path, "start"), "required")
		}
		if r.End == nil {
			v.e.add(field(path, "end"), "required")
		}
	}
	s, okS := v.dateVal(field(path, "start"), r.Start)
	e, okE := v.dateVal(field(path, "end"), r.End)
	if okS && okE && s.After(e) {
		v.e.add(field(path, "start"), "must be ≤ end (%s)", r.End.V)
	}
}

const maxDays = 36600 // 100 years

func (v *validator) window(path string, w *Window, allowAnchor bool) {
	s, okS := v.intVal(field(path, "start"), w.Start, -maxDays, maxDays)
	e, okE := v.intVal(field(path, "end"), w.End, -maxDays, maxDays)
	if okS && okE && s > e {
		v.e.add(field(path, "start"), "must be ≤ end (%d)", e)
	}
	if w.Anchor != "" {
		if !allowAnchor {
			v.e.add(field(path, "anchor"), "not used here: a time-dependent window is relative to each day of follow-up")
		} else {
			v.oneOf(field(path, "anchor"), w.Anchor, AnchorIndexStart, AnchorIndexEnd)
		}
	}
}

// --- declarations ---

func (v *validator) parameter(path string, prm *Parameter) {
	if v.name(field(path, "name"), prm.Name) {
		if _, dup := v.params[prm.Name]; dup {
			v.e.add(field(path, "name"), "duplicate parameter name %q", prm.Name)
		} else {
			v.params[prm.Name] = prm
		}
	}
	if !v.oneOf(field(path, "type"), prm.Type, ParamInteger, ParamDate, ParamText) {
		return
	}
	if prm.Type != ParamInteger && (prm.Min != nil || prm.Max != nil) {
		v.e.add(path, "min and max apply only to integer parameters")
	}
	if prm.Min != nil && prm.Max != nil && *prm.Min > *prm.Max {
		v.e.add(field(path, "min"), "must be ≤ max (%d)", *prm.Max)
	}
	if prm.Type != ParamText && len(prm.Values) > 0 {
		v.e.add(field(path, "values"), "applies only to text parameters")
	}
	if prm.Default != nil {
		if _, err := prm.parse(defaultString(prm.Default)); err != nil {
			v.e.add(field(path, "default"), "%s", err.Error())
		}
	}
}

func defaultString(x any) string {
	switch d := x.(type) {
	case string:
		return d
	case int64:
		return fmt.Sprint(d)
	case float64:
		return fmt.Sprint(d)
	}
	return fmt.Sprintf("%v", x)
}

// parse checks a parameter's value given as text and returns its JSON value.
func (prm *Parameter) parse(s string) (any, error) {
	switch prm.Type {
	case ParamInteger:
		var n int
		if _, err := fmt.Sscanf(s, "%d", &n); err != nil || fmt.Sprint(n) != strings.TrimSpace(s) {
			return nil, fmt.Errorf("must be an integer, got %q", s)
		}
		if prm.Min != nil && n < *prm.Min {
			return nil, fmt.Errorf("must be ≥ %d, got %d", *prm.Min, n)
		}
		if prm.Max != nil && n > *prm.Max {
			return nil, fmt.Errorf("must be ≤ %d, got %d", *prm.Max, n)
		}
		return n, nil
	case ParamDate:
		if _, err := parseDate(s); err != nil {
			return nil, err
		}
		return s, nil
	case ParamText:
		if s == "" {
			return nil, fmt.Errorf("must not be empty")
		}
		if len(prm.Values) > 0 && !slices.Contains(prm.Values, s) {
			return nil, fmt.Errorf("must be one of %s, got %q", quoteList(prm.Values), s)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown parameter type %q", prm.Type)
}

func (v *validator) codeList(path string, cl *CodeList) {
	if cl.Library != "" {
		var err error
		if cl, err = v.libraryList(path, cl); err != nil {
			v.e.add(field(path, "library"), "%s", strings.TrimPrefix(err.Error(), "library: "))
			v.name(field(path, "name"), cl.Name)
			return
		}
	}
	if v.name(field(path, "name"), cl.Name) {
		if _, dup := v.lists[cl.Name]; dup {
			v.e.add(field(path, "name"), "duplicate code list name %q", cl.Name)
		} else {
			v.lists[cl.Name] = cl
		}
	}
	okSys := v.oneOf(field(path, "system"), cl.System, Systems...)
	if len(cl.Include.Codes)+len(cl.Include.Prefixes)+len(cl.Include.Ranges) == 0 {
		v.e.add(field(path, "include"), "must hold at least one code, prefix or range")
	}
	if okSys {
		v.codeSet(field(path, "include"), cl.System, &cl.Include)
		if cl.Exclude != nil {
			v.codeSet(field(path, "exclude"), cl.System, cl.Exclude)
		}
	}
	if cl.DailyDDD != nil {
		if cl.System != SystemATC && cl.System != SystemAIC {
			v.e.add(field(path, "daily_ddd"), "applies only to drug code lists (atc, aic)")
		} else if !(*cl.DailyDDD > 0 && *cl.DailyDDD <= 1000) {
			v.e.add(field(path, "daily_ddd"), "must be > 0 and ≤ 1000, got %g", *cl.DailyDDD)
		}
	}
	if cl.Validity != "" {
		v.oneOf(field(path, "validity"), cl.Validity, "event_date", "ignore")
	}
}

// libraryList checks that a code list referring to a shipped list sets
// nothing the library supplies, and returns the resolved list.
func (v *validator) libraryList(path string, cl *CodeList) (*CodeList, error) {
	set := map[string]bool{"system": cl.System != "", "version": cl.Version != "", "source": cl.Source != "",
		"include": len(cl.Include.Codes)+len(cl.Include.Prefixes)+len(cl.Include.Ranges) > 0, "exclude": cl.Exclude != nil}
	for _, f := range []string{"system", "version", "source", "include", "exclude"} {
		if set[f] {
			v.e.add(field(path, f), "must be absent with library: the shipped list %s supplies it", cl.Library)
		}
	}
	return resolveCodeList(cl)
}

func (v *validator) codeSet(path, system string, cs *CodeSet) {
	for i, c := range cs.Codes {
		if msg := checkCode(system, c, false); msg != "" {
			v.e.add(index(field(path, "codes"), i), "%s", msg)
		}
	}
	for i, c := range cs.Prefixes {
		if msg := checkCode(system, c, true); msg != "" {
			v.e.add(index(field(path, "prefixes"), i), "%s", msg)
		}
	}
	for i, r := range cs.Ranges {
		rp := index(field(path, "ranges"), i)
		m1, m2 := checkCode(system, r.From, true), checkCode(system, r.To, true)
		if m1 != "" {
			v.e.add(field(rp, "from"), "%s", m1)
		}
		if m2 != "" {
			v.e.add(field(rp, "to"), "%s", m2)
		}
		if m1 == "" && m2 == "" {
			if len(r.From) != len(r.To) {
				v.e.add(rp, "from and to must have the same length (%q, %q)", r.From, r.To)
			} else if r.From > r.To {
				v.e.add(field(rp, "from"), "must be ≤ to (%q)", r.To)
			}
		}
	}
}

func (v *validator) eventDef(path string, ev *EventDef) {
	if v.name(field(path, "name"), ev.Name) {
		if _, dup := v.events[ev.Name]; dup {
			v.e.add(field(path, "name"), "duplicate event name %q", ev.Name)
		} else {
			v.events[ev.Name] = ev
		}
	}
	if !v.oneOf(field(path, "source"), ev.Source, Sources...) {
		return
	}
	systems := sourceSystems[ev.Source]
	if systems == nil && len(ev.CodeLists) > 0 {
		v.e.add(field(path, "code_lists"), "source %q takes no code list", ev.Source)
	}
	if systems != nil && len(ev.CodeLists) == 0 {
		v.e.add(field(path, "code_lists"), "required for source %q", ev.Source)
	}
	if systems != nil {
		for i, name := range ev.CodeLists {
			cl, ok := v.lists[name]
			switch {
			case !ok:
				v.e.add(index(field(path, "code_lists"), i), "unknown code list %q", name)
			case !slices.Contains(systems, cl.System):
				v.e.add(index(field(path, "code_lists"), i), "code list %q is of system %q; source %q needs %s", name, cl.System, ev.Source, quoteList(systems))
			}
		}
	}
	if ev.Position != "" {
		if ev.Source != SourceHospitalDiagnosis && ev.Source != SourceHospitalProcedure && ev.Source != SourceERDiagnosis {
			v.e.add(field(path, "position"), "applies only to hospital_diagnosis, hospital_procedure and er_diagnosis")
		} else {
			v.oneOf(field(path, "position"), ev.Position, "principal", "secondary", "any")
		}
	}
	if ev.Date != "" {
		if !strings.HasPrefix(ev.Source, "hospital_") {
			v.e.add(field(path, "date"), "applies only to hospital sources")
		} else {
			v.oneOf(field(path, "date"), ev.Date, "admission", "discharge")
		}
	}
	if len(ev.Channels) > 0 {
		if ev.Source != SourceDispensing {
			v.e.add(field(path, "channels"), "applies only to source \"dispensing\"")
		}
		seen := map[string]bool{}
		for i, ch := range ev.Channels {
			if v.oneOf(index(field(path, "channels"), i), ch, "pharmacy", "direct_distribution") && seen[ch] {
				v.e.add(index(field(path, "channels"), i), "duplicate channel %q", ch)
			}
			seen[ch] = true
		}
	}
}

// eventRef checks a reference to an event definition.
func (v *validator) eventRef(path, name string, sources ...string) *EventDef {
	if name == "" {
		v.e.add(path, "required")
		return nil
	}
	ev, ok := v.events[name]
	if !ok {
		v.e.add(path, "unknown event %q", name)
		return nil
	}
	if len(sources) > 0 && !slices.Contains(sources, ev.Source) {
		v.e.add(path, "event %q has source %q; here %s is needed", name, ev.Source, quoteList(sources))
	}
	return ev
}

// --- phases ---

func (v *validator) population(path string, pop *Population) {
	if pop.Area != nil {
		v.textVal(field(path, "area"), *pop.Area)
	}
	v.dateRange(field(path, "accrual"), &pop.Accrual, true)
	if pop.Age != nil {
		v.intRange(field(path, "age"), pop.Age, 0, 130)
	}
	if pop.Sex != "" {
		v.oneOf(field(path, "sex"), pop.Sex, "M", "F")
	}
	v.texts(field(path, "asl"), pop.ASLs)
	v.intVal(field(path, "enrolment.before"), pop.Enrolment.Before, 0, maxDays)
	v.intVal(field(path, "enrolment.after"), pop.Enrolment.After, 0, maxDays)
	v.intVal(field(path, "enrolment.max_gap"), pop.Enrolment.MaxGap, 0, maxDays)
}

func (v *validator) texts(path string, xs []Text) {
	seen := map[string]bool{}
	for i, x := range xs {
		v.textVal(index(path, i), x)
		if !x.IsParam() && seen[x.V] {
			v.e.add(index(path, i), "duplicate value %q", x.V)
		}
		seen[x.V] = true
	}
}

func (v *validator) intRange(path string, r *IntRange, lo, hi int) {
	a, okA := v.intVal(field(path, "min"), r.Min, lo, hi)
	b, okB := v.intVal(field(path, "max"), r.Max, lo, hi)
	if okA && okB && a > b {
		v.e.add(field(path, "min"), "must be ≤ max (%d)", b)
	}
	if r.Min == nil && r.Max == nil {
		v.e.add(path, "give min, max or both")
	}
}

func (v *validator) index(path string, ix *IndexEvent) {
	given := 0
	for _, set := range []bool{ix.Date != nil, len(ix.Events) > 0, len(ix.Groups) > 0} {
		if set {
			given++
		}
	}
	switch {
	case given > 1:
		v.e.add(path, "give exactly one of date, events, groups")
	case given == 0:
		v.e.add(field(path, "events"), "required: at least one index event (or exposure groups, or a date)")
	}
	if ix.Date != nil {
		if d, ok := v.dateVal(field(path, "date"), ix.Date); ok {
			acc := v.p.Phases.Population.Accrual
			if acc.Start != nil && acc.End != nil && !acc.Start.IsParam() && !acc.End.IsParam() {
				s, err1 := parseDate(acc.Start.V)
				e, err2 := parseDate(acc.End.V)
				if err1 == nil && err2 == nil && (d.Before(s) || d.After(e)) {
					v.e.add(field(path, "date"), "must lie in the accrual period (%s to %s)", acc.Start.V, acc.End.V)
				}
			}
		}
		if ix.Occurrence != "" {
			v.e.add(field(path, "occurrence"), "not used with an index date")
		}
		if ix.Washout != nil {
			v.e.add(field(path, "washout"), "not used with an index date")
		}
		return
	}
	for i, name := range ix.Events {
		v.eventRef(index(field(path, "events"), i), name)
	}
	if len(ix.Groups) == 1 {
		v.e.add(field(path, "groups"), "needs at least two exposure groups; with one, use \"events\"")
	}
	gseen := map[string]bool{}
	eseen := map[string]string{}
	for i, g := range ix.Groups {
		gp := index(field(path, "groups"), i)
		v.label(field(gp, "name"), g.Name)
		if gseen[g.Name] {
			v.e.add(field(gp, "name"), "duplicate group name %q", g.Name)
		}
		gseen[g.Name] = true
		if len(g.Events) == 0 {
			v.e.add(field(gp, "events"), "required: at least one event")
		}
		for j, name := range g.Events {
			ep := index(field(gp, "events"), j)
			v.eventRef(ep, name)
			if other, dup := eseen[name]; dup {
				v.e.add(ep, "event %q is already in group %q: a person's group must follow from the event", name, other)
			}
			eseen[name] = g.Name
		}
	}
	v.oneOf(field(path, "occurrence"), ix.Occurrence, "first", "all")
	if ix.Washout != nil {
		v.intVal(field(path, "washout.days"), &ix.Washout.Days, 1, maxDays)
		if ix.Washout.Scope != "" {
			v.oneOf(field(path, "washout.scope"), ix.Washout.Scope, "same", "all")
		}
	}
}

func (v *validator) criterion(path string, c *Criterion) {
	kinds := 0
	for _, set := range []bool{c.Event != "", c.Gap != nil, c.Demographic != nil, c.Group != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		v.e.add(path, "must be exactly one of: an event criterion (\"event\"), \"gap\", \"demographic\" or \"group\"")
		return
	}
	only := func(allowed bool, name string, set bool) {
		if set && !allowed {
			v.e.add(field(path, name), "not used by this kind of criterion")
		}
	}
	isEvent, isGap := c.Event != "", c.Gap != nil
	only(isEvent || isGap, "window", c.Window != nil)
	only(isEvent || isGap, "dates", c.Dates != nil)
	only(isEvent, "match", c.Match != "")
	only(isEvent, "count", c.Count != nil)
	only(isEvent, "distance", c.Distance != nil)
	if isEvent || isGap {
		switch {
		case c.Window != nil && c.Dates != nil:
			v.e.add(path, "give either window or dates, not both")
		case c.Window == nil && c.Dates == nil:
			v.e.add(field(path, "window"), "required (or dates): where to look, e.g. {\"start\": -365, \"end\": -1}")
		}
		if c.Window != nil {
			v.window(field(path, "window"), c.Window, true)
		}
		if c.Dates != nil {
			v.dateRange(field(path, "dates"), c.Dates, false)
		}
	}
	switch {
	case isEvent:
		v.eventRef(field(path, "event"), c.Event)
		if c.Match != "" {
			v.oneOf(field(path, "match"), c.Match, "start", "overlap")
		}
		if c.Count != nil {
			v.count(field(path, "count"), c.Count)
		}
		if d := c.Distance; d != nil {
			dp := field(path, "distance")
			v.eventRef(field(dp, "event"), d.Event)
			s, okS := v.intVal(field(dp, "start"), d.Start, -maxDays, maxDays)
			e, okE := v.intVal(field(dp, "end"), d.End, -maxDays, maxDays)
			if okS && okE && s > e {
				v.e.add(field(dp, "start"), "must be ≤ end (%d)", e)
			}
			if d.Start == nil && d.End == nil {
				v.e.add(dp, "give start, end or both")
			}
		}
	case isGap:
		v.eventRef(field(path, "gap.event"), c.Gap.Event)
		v.intVal(field(path, "gap.days"), &c.Gap.Days, 1, maxDays)
	case c.Demographic != nil:
		d, dp := c.Demographic, field(path, "demographic")
		if d.Age == nil && d.Sex == "" && len(d.ASLs) == 0 && len(d.Municipalities) == 0 {
			v.e.add(dp, "give at least one of age, sex, asl, municipality")
		}
		if d.Age != nil {
			v.intRange(field(dp, "age"), d.Age, 0, 130)
		}
		if d.Sex != "" {
			v.oneOf(field(dp, "sex"), d.Sex, "M", "F")
		}
		v.texts(field(dp, "asl"), d.ASLs)
		v.texts(field(dp, "municipality"), d.Municipalities)
	case c.Group != nil:
		g, gp := c.Group, field(path, "group")
		if strings.Count(gp, ".group") > MaxGroupDepth {
			v.e.add(gp, "criteria groups nest at most %d levels deep", MaxGroupDepth)
			return
		}
		if v.oneOf(field(gp, "op"), g.Op, OpAll, OpAny, OpAtLeast, OpAtMost) {
			needN := g.Op == OpAtLeast || g.Op == OpAtMost
			switch {
			case needN && g.N == nil:
				v.e.add(field(gp, "n"), "required with op %q", g.Op)
			case !needN && g.N != nil:
				v.e.add(field(gp, "n"), "applies only to at_least and at_most")
			case needN && (*g.N < 0 || *g.N > len(g.Criteria)):
				v.e.add(field(gp, "n"), "must be between 0 and the number of criteria (%d), got %d", len(g.Criteria), *g.N)
			}
		}
		if len(g.Criteria) == 0 {
			v.e.add(field(gp, "criteria"), "required: at least one criterion")
		}
		for i := range g.Criteria {
			v.criterion(index(field(gp, "criteria"), i), &g.Criteria[i])
		}
	}
}

func (v *validator) count(path string, c *Count) {
	n := 0
	for i, x := range []*int{c.AtLeast, c.AtMost, c.Exactly} {
		name := [...]string{"at_least", "at_most", "exactly"}[i]
		if x != nil {
			n++
			if *x < 0 || *x > 100000 {
				v.e.add(field(path, name), "must be between 0 and 100000, got %d", *x)
			}
		}
	}
	if n != 1 {
		v.e.add(path, "give exactly one of at_least, at_most, exactly")
	}
	if c.AtLeast != nil && *c.AtLeast == 0 {
		v.e.add(field(path, "at_least"), "at_least 0 is always true; use at_least 1, or at_most 0 to exclude")
	}
}

func (v *validator) followUp(path string, f *FollowUp) {
	v.intVal(field(path, "start"), &f.Start, 0, maxDays)
	if f.Anchor != "" {
		v.oneOf(field(path, "anchor"), f.Anchor, AnchorIndexStart, AnchorIndexEnd)
	}
	ep := field(path, "end")
	for i, name := range f.End.Outcomes {
		if _, ok := v.outcomes[name]; !ok {
			v.e.add(index(field(ep, "outcomes"), i), "unknown outcome %q", name)
		}
	}
	if d, ok := v.dateVal(field(ep, "study_end"), f.End.StudyEnd); ok {
		acc := v.p.Phases.Population.Accrual.Start
		if acc != nil && !acc.IsParam() {
			if a, err := parseDate(acc.V); err == nil && d.Before(a) {
				v.e.add(field(ep, "study_end"), "must be ≥ the start of accrual (%s)", acc.V)
			}
		}
	}
	if d := f.End.DataEnd; d != nil && d.V != DataEndFlows && d.V != DataEndEnrolment {
		dp := field(ep, "data_end")
		if !d.IsParam() && !dateLike.MatchString(d.V) {
			v.e.add(dp, "must be %q (the latest event in the flows, the default), %q (the latest end of enrolment) or a date \"YYYY-MM-DD\", got %q", DataEndFlows, DataEndEnrolment, d.V)
		} else if t, ok := v.dateVal(dp, d); ok {
			acc := v.p.Phases.Population.Accrual.Start
			if acc != nil && !acc.IsParam() {
				if a, err := parseDate(acc.V); err == nil && t.Before(a) {
					v.e.add(dp, "must be ≥ the start of accrual (%s)", acc.V)
				}
			}
		}
	}
	v.intVal(field(ep, "max_days"), f.End.MaxDays, 1, maxDays)
	for i, name := range f.End.Censoring {
		v.eventRef(index(field(ep, "censoring"), i), name)
	}
	if d := f.End.Discontinuation; d != nil {
		dp := field(ep, "discontinuation")
		v.intVal(field(dp, "grace_days"), &d.GraceDays, 0, maxDays)
		for i, name := range d.Events {
			v.eventRef(index(field(dp, "events"), i), name, SourceDispensing)
		}
		if len(d.Events) == 0 {
			for _, name := range v.indexEvents() {
				if ev, ok := v.events[name]; ok && ev.Source != SourceDispensing {
					v.e.add(field(dp, "events"), "required: the index event %q is not a dispensing, so the exposure's episodes must be named", name)
					break
				}
			}
		}
	}
	if s := f.End.Switch; s != nil {
		sp := field(ep, "switch")
		for i, name := range s.Events {
			v.eventRef(index(field(sp, "events"), i), name)
		}
		if s.OtherGroups && len(v.p.Phases.Index.Groups) < 2 {
			v.e.add(field(sp, "other_groups"), "needs exposure groups in phases.index.groups")
		}
		if len(s.Events) == 0 && !s.OtherGroups {
			v.e.add(sp, "give events, other_groups or both")
		}
	}
}

// indexEvents is every index event, of every group.
func (v *validator) indexEvents() []string {
	ix := v.p.Phases.Index
	out := slices.Clone(ix.Events)
	for _, g := range ix.Groups {
		out = append(out, g.Events...)
	}
	return out
}

func (v *validator) outcome(path string, o *Outcome) {
	if len(o.Events) == 0 {
		v.e.add(field(path, "events"), "required: at least one event")
	}
	for i, name := range o.Events {
		v.eventRef(index(field(path, "events"), i), name)
	}
	if o.Occurrence != "" && v.oneOf(field(path, "occurrence"), o.Occurrence, "first", "all") && o.Occurrence == "all" {
		counted := false
		for _, a := range v.p.Phases.Analyses {
			counted = counted || (a.Outcome == o.Name && countsRecurrent[a.Kind])
		}
		if !counted {
			v.e.add(field(path, "occurrence"), "\"all\" (every occurrence, recurrent events) is not computed yet: no analysis counts the occurrences of %q (rates, Kaplan-Meier, Cox, logistic and the end of follow-up read its first one); use \"first\"", o.Name)
		}
	}
}
