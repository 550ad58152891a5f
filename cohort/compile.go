package cohort

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	schemaerrs "github.com/beaver-analytics/beaver/schema/errs"
)

// Compile turns a bound, valid protocol into a plan of SQL steps, per
// partition, in fixed stages (as OHDSI circe-be): event extraction (code
// lists matched in SQL), enrolment spells, index events. It is pure: no
// database, no clock. Every value is a bound argument; identifiers are the
// known flow tables and the study's own tables, quoted.
//
// Stages compiled: events, spells, index, criteria (with attrition),
// cohort, discontinuation, follow-up, outcomes and baseline covariates of
// the simpler kinds. The covariates the plan leaves out are listed in
// Plan.NotCompiled, with protocol paths: the engine must refuse to run
// such a plan for results. Analyses are not SQL: the engine runs them on
// the tables, starting from the dataset step (the analysis dataset).
func Compile(p *Protocol, opts Options) (*Plan, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if len(p.Parameters) > 0 {
		return nil, schemaerrs.Wrap(schemaerrs.Invalid, fmt.Errorf("cohort: compile: parameters: the protocol is a template; Bind it first"))
	}
	v := newValidator(p)
	v.validate()
	if err := v.e.err(); err != nil {
		return nil, err // "cohort: invalid protocol: <path>: <reason>"
	}
	c := &compiler{p: p, opts: opts, lists: map[string]*CodeList{}, events: map[string]*EventDef{},
		types: v.types, timing: v.timing}
	for i := range p.CodeLists {
		cl, err := resolveCodeList(&p.CodeLists[i])
		if err != nil { // validated above, so only a library changed under us
			return nil, fmt.Errorf("cohort: compile: code_lists[%d]: %w", i, err)
		}
		c.lists[cl.Name] = cl
	}
	for i := range p.Events {
		c.events[p.Events[i].Name] = &p.Events[i]
	}
	plan := &Plan{Schema: opts.Schema, Partitions: opts.Partitions, DataVersion: opts.DataVersion}
	plan.Scope = c.scope()
	var err error
	if plan.DataEndRule, c.dataEnd, err = dataEnd(p, opts); err != nil {
		return nil, err
	}
	plan.DataEnd = c.dataEnd
	for part := 0; part < opts.Partitions; part++ {
		c.part = part
		steps, err := c.partition()
		if err != nil {
			return nil, err
		}
		plan.Steps = append(plan.Steps, steps...)
	}
	plan.NotCompiled = c.pending
	plan.Attrition = c.labels
	ids := map[string]string{}
	for i := range plan.Steps {
		s := &plan.Steps[i]
		inputs := make([]string, len(s.DependsOn))
		for j, d := range s.DependsOn {
			id, ok := ids[d]
			if !ok {
				return nil, fmt.Errorf("cohort: compile: step %s depends on %s, which comes later or does not exist", s.Name, d)
			}
			inputs[j] = id
		}
		s.ID = stepID(s, inputs, opts.DataVersion)
		ids[s.Name] = s.ID
		if len(s.Args) > MaxArgs {
			return nil, schemaerrs.Wrap(schemaerrs.Invalid, fmt.Errorf("cohort: compile: step %s would bind %d values, more than PostgreSQL's %d: the protocol has too many criteria, code lists or covariates for one step; split it into studies or merge code lists",
				s.Name, len(s.Args), MaxArgs))
		}
	}
	return plan, nil
}

// MaxArgs is the most bound arguments PostgreSQL's protocol allows in one
// statement. Code lists are bound as arrays, so no number of codes or
// ranges comes near it; a step that would still pass it (tens of
// thousands of criteria or code lists in one step) is refused at compile
// time, as an invalid protocol, instead of failing when it runs.
const MaxArgs = 65535

// compiler holds the protocol's name tables and the partition being built.
type compiler struct {
	p       *Protocol
	opts    Options
	lists   map[string]*CodeList
	events  map[string]*EventDef
	part    int
	steps   []Step
	types   map[string]string // covariate → value type (from validation)
	timing  map[string]string // covariate → effective timing
	pending []string          // constructs left out of the plan, with their paths
	dataEnd string            // the last day of data used ("" none), see dataEnd
	labels  []Label           // the attrition lines' labels (attritionStep)
}

// dataEnd is the rule and the last day of data a plan uses, as the
// protocol's follow_up.end.data_end says: "flows" (default), the latest
// event in the flows (Options.DataEnd, maybe empty); "enrolment", the
// latest end of enrolment (Options.EnrolmentEnd, required then); or its
// date.
func dataEnd(p *Protocol, opts Options) (rule, end string, err error) {
	d := p.Phases.FollowUp.End.DataEnd
	switch {
	case d == nil || d.V == DataEndFlows:
		return DataEndFlows, opts.DataEnd, nil
	case d.V == DataEndEnrolment:
		if opts.EnrolmentEnd == "" {
			return "", "", fmt.Errorf("cohort: compile: phases.follow_up.end.data_end is %q, but the options give no end of enrolment (Options.EnrolmentEnd)", DataEndEnrolment)
		}
		return DataEndEnrolment, opts.EnrolmentEnd, nil
	}
	return "date", d.V, nil
}

// partition builds the steps of the current partition.
func (c *compiler) partition() ([]Step, error) {
	c.steps = nil
	for _, name := range c.usedEvents() {
		if err := c.eventStep(name); err != nil {
			return nil, err
		}
	}
	c.spellsStep()
	c.candidatesStep()
	if err := c.indexStep(); err != nil {
		return nil, err
	}
	if err := c.criteriaStep(); err != nil {
		return nil, err
	}
	c.cohortStep()
	c.attritionStep()
	c.discontinuationStep()
	if err := c.followUpStep([]string{c.stepName("cohort")}); err != nil {
		return nil, err
	}
	c.outcomeSteps()
	c.covariateSteps()
	return c.steps, nil
}

// usedEvents is every event definition the compiled phases read, in the
// protocol's order.
func (c *compiler) usedEvents() []string {
	used := map[string]bool{}
	ix := c.p.Phases.Index
	for _, e := range ix.Events {
		used[e] = true
	}
	for _, g := range ix.Groups {
		for _, e := range g.Events {
			used[e] = true
		}
	}
	var walk func(cs []Criterion)
	walk = func(cs []Criterion) {
		for _, cr := range cs {
			used[cr.Event] = true
			if cr.Distance != nil {
				used[cr.Distance.Event] = true
			}
			if cr.Gap != nil {
				used[cr.Gap.Event] = true
			}
			if cr.Group != nil {
				walk(cr.Group.Criteria)
			}
		}
	}
	walk(c.p.Phases.Criteria)
	for _, o := range c.p.Phases.Outcomes {
		for _, e := range o.Events {
			used[e] = true
		}
	}
	for _, cv := range c.p.Phases.Covariates {
		switch cv.Kind {
		case KindPresence, KindCount, KindDaysSinceLast:
			used[cv.Event] = true
		case KindCurrentUse, KindAdherence, KindTherapyDuration, KindDiscontinuation:
			used[cv.Drug.Event] = true
		case KindSwitch:
			used[cv.Event], used[cv.Drug.Event] = true, true
		}
	}
	end := &c.p.Phases.FollowUp.End
	for _, e := range end.Censoring {
		used[e] = true
	}
	if end.Switch != nil {
		for _, e := range end.Switch.Events {
			used[e] = true
		}
	}
	if end.Discontinuation != nil {
		for _, e := range end.Discontinuation.Events {
			used[e] = true
		}
	}
	var out []string
	for _, ev := range c.p.Events {
		if used[ev.Name] {
			out = append(out, ev.Name)
		}
	}
	return out
}

// flow is the table name of a flow for the current partition: the parent
// table when the plan has one partition.
func (c *compiler) flow(table string) string {
	if c.opts.Partitions == 1 {
		return ident(table)
	}
	return ident(fmt.Sprintf("%s_p%d", table, c.part))
}

// tableName is the name of a study table for the current partition, kept
// within PostgreSQL's 63 bytes by shortening long names with a hash.
func (c *compiler) tableName(base string) string {
	suffix := fmt.Sprintf("_p%d", c.part)
	if len(base)+len(suffix) > 63 {
		h := sha256.Sum256([]byte(base))
		base = base[:63-len(suffix)-9] + "_" + hex.EncodeToString(h[:4])
	}
	return base + suffix
}

// stepName is the name of a step for the current partition.
func (c *compiler) stepName(base string) string { return fmt.Sprintf("%s_p%d", base, c.part) }

// add appends a step writing table base (for the current partition).
func (c *compiler) add(kind, base, columns string, b *sqlb, sql string, deps ...string) string {
	table := ident(c.opts.Schema, c.tableName(base))
	name := c.stepName(base)
	cols := dedent(columns)
	c.steps = append(c.steps, Step{
		Distribute: c.opts.Distributed && byPerson.MatchString(cols),
		Name:       name,
		Kind:       kind,
		Partition:  c.part,
		Table:      table,
		Create:     noJIT + "CREATE TABLE " + table + " (\n" + cols + "\n)",
		SQL:        "INSERT INTO " + table + "\n" + c.distributed(kind, dedent(sql)),
		Args:       b.args,
		DependsOn:  slices.Clone(deps),
	})
	return name
}

// byPerson finds the person_id column in a step's column list.
var byPerson = regexp.MustCompile(`(?m)^person_id `)

// cteHead is the head of a CTE as the compiler writes them: "WITH name AS
// (", ", name AS (" or "), name AS MATERIALIZED (" at the start of a line.
var cteHead = regexp.MustCompile(`(?m)^(WITH|\),) (\w+) AS (?:MATERIALIZED )?\(`)

// distributed rewrites a step's statement for Options.Distributed: every
// CTE NOT MATERIALIZED, and a top-level set operation ("(SELECT ...)
// UNION ALL (SELECT ...)") inside a subquery; unchanged otherwise. The
// attrition keeps its materialized CTEs: each is an aggregate over the
// shards, gathered once on the coordinator, where its table is.
func (c *compiler) distributed(kind, sql string) string {
	if !c.opts.Distributed || kind == StepAttrition {
		return sql
	}
	sql = cteHead.ReplaceAllString(sql, "$1 $2 AS NOT MATERIALIZED (")
	head, body, ok := strings.Cut(sql, "\n")
	if ok && strings.HasPrefix(body, "(SELECT") {
		sql = head + "\nSELECT * FROM (\n" + body + "\n) u"
	}
	return sql
}

// noJIT opens every step's Create: the step's transaction runs without
// JIT compilation. The study tables are new and never analysed, so
// PostgreSQL's cost estimates of a step are often far above the jit
// thresholds; measured on the 100 k region, compiling took 0.6–1.7 s of
// steps that then ran in 0.05–0.5 s, and 28 s of the 28.7 s of a
// follow-up stage (docs/compiler.md, Speed). Create runs without
// arguments (pgx sends it by the simple protocol, which allows two
// statements), and SET LOCAL ends with the transaction.
const noJIT = "SET LOCAL jit = off;\n"

// eventTable is the quoted table of an event definition's occurrences.
func (c *compiler) eventTable(name string) string {
	return ident(c.opts.Schema, c.tableName("ev_"+name))
}

// dv binds the data version and returns the condition on alias's rows.
func (c *compiler) dv(b *sqlb, alias string) string {
	return fmt.Sprintf("%s.data_version <= %s", alias, b.arg(c.opts.DataVersion, "bigint"))
}

// eventStep writes ev_<name>: one row per occurrence (a hospital
// discharge, a dispensing, an exemption, ...), with its first and last day.
// end_date is NULL for an exemption without an end (open: to the end of
// data).
func (c *compiler) eventStep(name string) error {
	ev := c.events[name]
	b := &sqlb{}
	var sql string
	switch ev.Source {
	case SourceHospitalDiagnosis, SourceHospitalProcedure:
		child := "sdo_diagnosis"
		if ev.Source == SourceHospitalProcedure {
			child = "sdo_procedure"
		}
		day := "s.admission_date"
		if ev.Date == "discharge" {
			day = "s.discharge_date"
		}
		sql = fmt.Sprintf(`SELECT s.person_id, s.discharge_id, %[1]s, %[2]s, NULL::double precision, NULL::double precision
FROM %[3]s s
WHERE %[4]s
  AND EXISTS (SELECT 1 FROM %[5]s d
              WHERE d.person_id = s.person_id AND d.discharge_id = s.discharge_id
                AND %[6]s%[7]s
                AND %[8]s)`, day, endOf(ev, "s.discharge_date", day), c.flow("sdo"), c.dv(b, "s"), c.flow(child), c.dv(b, "d"),
			position(ev.Position), c.codeLists(b, ev, "d.code", day))
	case SourceHospitalAdmission:
		day := "s.admission_date"
		if ev.Date == "discharge" {
			day = "s.discharge_date"
		}
		sql = fmt.Sprintf("SELECT s.person_id, s.discharge_id, %s, %s, NULL::double precision, NULL::double precision\nFROM %s s\nWHERE %s",
			day, endOf(ev, "s.discharge_date", day), c.flow("sdo"), c.dv(b, "s"))
	case SourceERDiagnosis:
		sql = fmt.Sprintf(`SELECT e.person_id, e.access_id, e.arrival_date, e.arrival_date, NULL::double precision, NULL::double precision
FROM %s e
WHERE %s
  AND EXISTS (SELECT 1 FROM %s d
              WHERE d.person_id = e.person_id AND d.access_id = e.access_id
                AND %s%s
                AND %s)`, c.flow("er"), c.dv(b, "e"), c.flow("er_diagnosis"), c.dv(b, "d"),
			position(ev.Position), c.codeLists(b, ev, "d.code", "e.arrival_date"))
	case SourceERAccess:
		sql = fmt.Sprintf("SELECT e.person_id, e.access_id, e.arrival_date, e.arrival_date, NULL::double precision, NULL::double precision\nFROM %s e\nWHERE %s",
			c.flow("er"), c.dv(b, "e"))
	case SourceDispensing:
		channels := ev.Channels
		if len(channels) == 0 {
			channels = []string{"pharmacy", "direct_distribution"}
		}
		var parts []string
		for _, ch := range channels {
			prefix := "P"
			if ch == "direct_distribution" {
				prefix = "D"
			}
			// The product's DDD per pack: the dictionary row valid on the
			// dispensing date, else the latest of the AIC (DISTINCT ON picks
			// the first in that order). A join and one sort, not a lookup
			// subquery per dispensing (1.1 s of 2.1 s per partition of the
			// 100 k region).
			parts = append(parts, fmt.Sprintf(`(SELECT DISTINCT ON (x.person_id, x.event_id)
       x.person_id, '%s' || x.event_id, x.dispensing_date, x.dispensing_date,
       x.packs * coalesce(v.ddd_per_pack, 1),
       %s
FROM %s x
LEFT JOIN %s v ON v.aic = x.aic AND %s
WHERE %s
  AND %s
ORDER BY x.person_id, x.event_id, (v.valid_from <= x.dispensing_date AND (v.valid_to IS NULL OR x.dispensing_date <= v.valid_to)) DESC, v.valid_from DESC)`,
				prefix, c.dailyDDD(b, ev), c.flow(ch), ident("dict_product"), c.dv(b, "v"), c.dv(b, "x"), c.codeLists(b, ev, "", "x.dispensing_date")))
		}
		sql = strings.Join(parts, "\nUNION ALL\n")
	case SourceExemption:
		sql = fmt.Sprintf("SELECT x.person_id, x.event_id::text, x.start_date, x.end_date, NULL::double precision, NULL::double precision\nFROM %s x\nWHERE %s\n  AND %s",
			c.flow("exemption"), c.dv(b, "x"), c.codeLists(b, ev, "x.code", "x.start_date"))
	case SourceOutpatient:
		sql = fmt.Sprintf("SELECT x.person_id, x.event_id::text, x.service_date, x.service_date, NULL::double precision, NULL::double precision\nFROM %s x\nWHERE %s\n  AND %s",
			c.flow("outpatient"), c.dv(b, "x"), c.codeLists(b, ev, "x.code", "x.service_date"))
	case SourceDeath:
		sql = fmt.Sprintf("SELECT x.person_id, 'death', x.death_date, x.death_date, NULL::double precision, NULL::double precision\nFROM %s x\nWHERE %s\n  AND x.death_date IS NOT NULL",
			c.flow("person"), c.dv(b, "x"))
	case SourceDelivery:
		sql = fmt.Sprintf("SELECT x.person_id, x.cedap_id, x.delivery_date, x.delivery_date, NULL::double precision, NULL::double precision\nFROM %s x\nWHERE %s",
			c.flow("cedap"), c.dv(b, "x"))
	default:
		return fmt.Errorf("cohort: compile: events[%q]: source %q is not compiled", name, ev.Source)
	}
	c.add(StepEvent, "ev_"+name, `person_id bigint NOT NULL,
record_id text NOT NULL,
start_date date NOT NULL,
end_date date,
ddd double precision,
daily_ddd double precision,
PRIMARY KEY (person_id, record_id)`, b, "(person_id, record_id, start_date, end_date, ddd, daily_ddd)\n"+sql)
	return nil
}

// dailyDDD is the DDDs taken per day of a dispensing: the daily_ddd of the
// first of the event's code lists that matches it and has one, else NULL
// (1 is applied where days are computed, after any covariate's override).
func (c *compiler) dailyDDD(b *sqlb, ev *EventDef) string {
	var whens []string
	for _, name := range ev.CodeLists {
		cl := c.lists[name]
		if cl.DailyDDD == nil {
			continue
		}
		col := "x.atc"
		if cl.System == SystemAIC {
			col = "x.aic"
		}
		whens = append(whens, fmt.Sprintf("WHEN %s THEN %s", b.codeListExpr(cl, col, "x.dispensing_date"), b.arg(*cl.DailyDDD, "double precision")))
	}
	if len(whens) == 0 {
		return "NULL::double precision"
	}
	return "CASE " + strings.Join(whens, " ") + " END"
}

// endOf is the last day of a hospital event: the discharge, or the chosen
// day when the event is dated at discharge.
func endOf(ev *EventDef, discharge, day string) string {
	if ev.Date == "discharge" {
		return day
	}
	return discharge
}

// position is the condition on a diagnosis's position (0 is the principal).
func position(p string) string {
	switch p {
	case "principal":
		return "\n                AND d.position = 0"
	case "secondary":
		return "\n                AND d.position > 0"
	}
	return ""
}

// codeLists is the union of the event's code lists matched on col at
// dateExpr. For dispensing (col ""), ATC lists match the atc column and AIC
// lists the aic column.
func (c *compiler) codeLists(b *sqlb, ev *EventDef, col, dateExpr string) string {
	var ors []string
	for _, name := range ev.CodeLists {
		cl := c.lists[name]
		cc := col
		if cc == "" {
			cc = "x.atc"
			if cl.System == SystemAIC {
				cc = "x.aic"
			}
		}
		ors = append(ors, b.codeListExpr(cl, cc, dateExpr))
	}
	if len(ors) == 1 {
		return ors[0]
	}
	return "(" + strings.Join(ors, "\n       OR ") + ")"
}

// spellsStep writes spells: each person's continuous enrolment, spells
// closer than max_gap uncovered days merged (a gap of g days between a
// spell ending on day e and one starting on day s is s − e − 1). end_date
// NULL is open.
func (c *compiler) spellsStep() {
	b := &sqlb{}
	gap := 0
	if g := c.p.Phases.Population.Enrolment.MaxGap; g != nil {
		gap = g.V
	}
	sql := fmt.Sprintf(`(person_id, spell_no, start_date, end_date)
WITH e AS (
  SELECT x.person_id, x.start_date, coalesce(x.end_date, 'infinity'::date) AS end_date
  FROM %s x
  WHERE %s
), m AS (
  SELECT e.*, max(e.end_date) OVER (PARTITION BY e.person_id ORDER BY e.start_date, e.end_date
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
  FROM e
), g AS (
  SELECT m.*, sum(CASE WHEN m.prev_end IS NOT NULL AND m.start_date <= m.prev_end + %s + 1 THEN 0 ELSE 1 END)
                OVER (PARTITION BY m.person_id ORDER BY m.start_date, m.end_date ROWS UNBOUNDED PRECEDING) AS spell_no
  FROM m
)
SELECT g.person_id, g.spell_no, min(g.start_date), nullif(max(g.end_date), 'infinity'::date)
FROM g
GROUP BY g.person_id, g.spell_no`, c.flow("enrolment"), c.dv(b, "x"), b.arg(gap, "integer"))
	c.add(StepSpells, "spells", `person_id bigint NOT NULL,
spell_no integer NOT NULL,
start_date date NOT NULL,
end_date date,
PRIMARY KEY (person_id, spell_no)`, b, sql)
}
