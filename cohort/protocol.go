package cohort

// Version is the only protocol version this package reads.
const Version = 1

// Protocol is a whole study: its template parameters, named code lists and
// event definitions, and the phases that use them. Its JSON form is the
// reference (docs/protocol.md); names are stable.
type Protocol struct {
	Version     int         `json:"version"`               // must be 1
	Name        string      `json:"name"`                  // identifier of the study, e.g. "comparator-new-users"
	Title       string      `json:"title,omitempty"`       // human title
	Description string      `json:"description,omitempty"` // free text
	Parameters  []Parameter `json:"parameters,omitempty"`  // template parameters filled by Bind
	CodeLists   []CodeList  `json:"code_lists"`            // named sets of codes
	Events      []EventDef  `json:"events"`                // named event definitions over the flows
	Phases      Phases      `json:"phases"`                // the study, phase by phase
}

// Phases are the study's phases in the order they run.
type Phases struct {
	Population Population  `json:"population"`           // who may enter
	Index      IndexEvent  `json:"index"`                // when they enter (day 0)
	Criteria   []Criterion `json:"criteria,omitempty"`   // inclusion and exclusion rules, each one attrition step
	FollowUp   FollowUp    `json:"follow_up"`            // when time at risk starts and ends
	Covariates []Covariate `json:"covariates,omitempty"` // variables at index or during follow-up
	Outcomes   []Outcome   `json:"outcomes,omitempty"`   // events of interest during follow-up
	Analyses   []Analysis  `json:"analyses,omitempty"`   // statistics on the analysis dataset
}

// Parameter is a typed template parameter, filled at run time by Bind.
type Parameter struct {
	Name    string   `json:"name"`              // referenced as {"param": name}
	Type    string   `json:"type"`              // "integer", "date" or "text"
	Title   string   `json:"title,omitempty"`   // label in the editor
	Default any      `json:"default,omitempty"` // value used when Bind is given none
	Min     *int     `json:"min,omitempty"`     // integer: smallest value allowed
	Max     *int     `json:"max,omitempty"`     // integer: largest value allowed
	Values  []string `json:"values,omitempty"`  // text: the values allowed
}

// Parameter types.
const (
	ParamInteger = "integer"
	ParamDate    = "date"
	ParamText    = "text"
)

// CodeList is a named, versioned set of codes of one coding system: written
// out, or a reference to a shipped list of cohort/library ("library":
// "diabetes_drugs@1"), which then supplies the system, codes, version and
// source (the title too, unless given).
type CodeList struct {
	Name     string   `json:"name"`                // identifier, referenced by events
	Title    string   `json:"title,omitempty"`     // human title
	Library  string   `json:"library,omitempty"`   // "name@version" of a shipped list; then no system, include, exclude, version, source
	System   string   `json:"system,omitempty"`    // see the System* constants
	Version  string   `json:"version,omitempty"`   // version of the list, e.g. "2024-01"
	Source   string   `json:"source,omitempty"`    // citation of where the codes come from
	Include  CodeSet  `json:"include,omitzero"`    // codes in the list
	Exclude  *CodeSet `json:"exclude,omitempty"`   // codes removed from Include
	DailyDDD *float64 `json:"daily_ddd,omitempty"` // ATC/AIC: defined daily doses taken per day (default 1)
	Validity string   `json:"validity,omitempty"`  // "event_date" (default): code valid in the dictionary at the event date; "ignore"
}

// Code systems.
const (
	SystemICD9Dx     = "icd9cm_dx"   // ICD-9-CM diagnoses, no dots ("4101", "V4581", "E8800")
	SystemICD9Proc   = "icd9cm_proc" // ICD-9-CM procedures, no dots ("3606")
	SystemATC        = "atc"         // ATC at any level (1, 3, 4, 5 or 7 characters)
	SystemAIC        = "aic"         // product codes (6 or 9 digits)
	SystemExemption  = "exemption"   // co-pay exemption codes ("013", "RF0100")
	SystemOutpatient = "outpatient"  // regional outpatient catalogue codes
)

// CodeSet is codes written exactly, by prefix, or by range.
type CodeSet struct {
	Codes    []string    `json:"codes,omitempty"`    // exact codes
	Prefixes []string    `json:"prefixes,omitempty"` // every code starting with one of these
	Ranges   []CodeRange `json:"ranges,omitempty"`   // every code whose first len(from) characters lie in [from, to]
}

// CodeRange is an inclusive range of code prefixes of equal length.
type CodeRange struct {
	From string `json:"from"` // first prefix, e.g. "410"
	To   string `json:"to"`   // last prefix, e.g. "414"
}

// EventDef is a named kind of event in the flows: a source and the code
// lists that select its rows. Every criterion, outcome, covariate and
// censoring rule refers to events by name.
type EventDef struct {
	Name      string   `json:"name"`                 // identifier
	Title     string   `json:"title,omitempty"`      // human title
	Source    string   `json:"source"`               // see the Source* constants
	CodeLists []string `json:"code_lists,omitempty"` // union of these lists (none for death, hospital_admission, er_access)
	Position  string   `json:"position,omitempty"`   // diagnoses/procedures: "principal", "secondary" or "any" (default)
	Date      string   `json:"date,omitempty"`       // hospital sources: day 0 of the event is "admission" (default) or "discharge"
	Channels  []string `json:"channels,omitempty"`   // dispensing: "pharmacy", "direct_distribution" (default both)
}

// Event sources.
const (
	SourceHospitalDiagnosis = "hospital_diagnosis" // sdo_diagnosis; lasts admission to discharge
	SourceHospitalProcedure = "hospital_procedure" // sdo_procedure; lasts admission to discharge
	SourceHospitalAdmission = "hospital_admission" // any discharge record (no code list)
	SourceERDiagnosis       = "er_diagnosis"       // er_diagnosis; one day
	SourceERAccess          = "er_access"          // any ER access (no code list); one day
	SourceDispensing        = "dispensing"         // pharmacy and direct distribution; one day (coverage is a covariate)
	SourceExemption         = "exemption"          // lasts start to end (open end: to the end of data)
	SourceOutpatient        = "outpatient"         // outpatient services; one day
	SourceDeath             = "death"              // registry death date (no code list)
	SourceDelivery          = "delivery"           // CeDAP delivery of the mother (no code list)
)

// Population is who may enter the study: area, accrual period, age, sex,
// ASL and continuous enrolment around the index date.
type Population struct {
	Area      *Text     `json:"area,omitempty"` // area of interest; omitted: the whole registry
	Accrual   DateRange `json:"accrual"`        // index dates allowed, both bounds inclusive and required
	Age       *IntRange `json:"age,omitempty"`  // age in completed years at index, bounds inclusive
	Sex       string    `json:"sex,omitempty"`  // "M" or "F"; omitted: both
	ASLs      []Text    `json:"asl,omitempty"`  // ASL of residence at index; omitted: all
	Enrolment Enrolment `json:"enrolment"`      // continuous enrolment required
}

// Enrolment is the continuous enrolment a person needs around day 0.
type Enrolment struct {
	Before *Int `json:"before,omitempty"`  // days enrolled before day 0 (days −before..0 all covered); default 0
	After  *Int `json:"after,omitempty"`   // days enrolled after day 0 (days 0..after all covered); default 0
	MaxGap *Int `json:"max_gap,omitempty"` // days of a gap between spells still counted as continuous; default 0
}

// IndexEvent is what puts a person in the cohort: the first or every
// occurrence, in the accrual period, of one of the events; or a fixed
// calendar date for everyone enrolled on it.
type IndexEvent struct {
	Date       *Date        `json:"date,omitempty"`       // a calendar date, day 0 of everyone (a population cohort)
	Events     []string     `json:"events,omitempty"`     // index events (OR); or Groups
	Groups     []IndexGroup `json:"groups,omitempty"`     // exposure groups, each with its own index events
	Occurrence string       `json:"occurrence,omitempty"` // events and groups: "first" or "all" qualifying occurrences
	Washout    *Washout     `json:"washout,omitempty"`    // new-user washout
}

// IndexGroup is an exposure group: its name and the events that put a
// person in it. A person with events of two groups on day 0 is excluded.
type IndexGroup struct {
	Name   string   `json:"name"`   // level of the index_group covariate, e.g. "A"
	Events []string `json:"events"` // index events of this group (OR)
}

// Washout makes an occurrence qualify only when no event of the same kind
// happened in the days before it (new users).
type Washout struct {
	Days  Int    `json:"days"`            // days −days..−1 must be free
	Scope string `json:"scope,omitempty"` // "same" (default): the same event definition; "all": any index event
}

// DateRange is an interval of calendar dates, bounds inclusive; an omitted
// bound is open.
type DateRange struct {
	Start *Date `json:"start,omitempty"` // first day
	End   *Date `json:"end,omitempty"`   // last day
}

// IntRange is an interval of integers, bounds inclusive; an omitted bound
// is open.
type IntRange struct {
	Min *Int `json:"min,omitempty"` // smallest value
	Max *Int `json:"max,omitempty"` // largest value
}

// Window is an interval of days relative to the index, both bounds
// inclusive; day 0 is the anchor's date; an omitted bound is open.
type Window struct {
	Start  *Int   `json:"start,omitempty"`  // first day, e.g. −365
	End    *Int   `json:"end,omitempty"`    // last day, e.g. −1
	Anchor string `json:"anchor,omitempty"` // "index_start" (default) or "index_end"
}

// Anchors of windows.
const (
	AnchorIndexStart = "index_start"
	AnchorIndexEnd   = "index_end"
)

// Criterion is one inclusion or exclusion rule. It is exactly one of: an
// event criterion (Event, with Window or Dates, Count, Match and optional
// Distance), a Gap, a Demographic condition, or a Group of criteria.
type Criterion struct {
	Name        string       `json:"name,omitempty"`        // label in the attrition table; required at the top level
	Description string       `json:"description,omitempty"` // free text
	Event       string       `json:"event,omitempty"`       // event definition counted
	Window      *Window      `json:"window,omitempty"`      // days relative to the index
	Dates       *DateRange   `json:"dates,omitempty"`       // or absolute dates
	Match       string       `json:"match,omitempty"`       // "start" (default): the event starts in the window; "overlap": it overlaps it
	Count       *Count       `json:"count,omitempty"`       // how many occurrences; default at least 1
	Distance    *Distance    `json:"distance,omitempty"`    // occurrences count only with (or without) another event near them
	Gap         *Gap         `json:"gap,omitempty"`         // a period without an event
	Demographic *Demographic `json:"demographic,omitempty"` // age, sex, ASL, municipality at index
	Group       *Group       `json:"group,omitempty"`       // a nested group
}

// Count is how many occurrences a criterion needs: exactly one of AtLeast,
// AtMost, Exactly.
type Count struct {
	AtLeast       *int `json:"at_least,omitempty"`       // n or more
	AtMost        *int `json:"at_most,omitempty"`        // n or fewer (0: exclusion)
	Exactly       *int `json:"exactly,omitempty"`        // exactly n
	DistinctDates bool `json:"distinct_dates,omitempty"` // count distinct dates, not records
}

// Distance makes an occurrence of the criterion's event count only when an
// occurrence of Event lies between Start and End days after it (negative:
// before it), or, with Absent, only when none does.
type Distance struct {
	Event  string `json:"event"`            // the other event
	Start  *Int   `json:"start,omitempty"`  // first day relative to the occurrence, inclusive
	End    *Int   `json:"end,omitempty"`    // last day, inclusive
	Absent bool   `json:"absent,omitempty"` // require that no such event exists
}

// Gap is satisfied when the window holds at least Days consecutive days
// without any occurrence of Event (open bounds: the enrolment spell of day 0).
type Gap struct {
	Event string `json:"event"` // event definition
	Days  Int    `json:"days"`  // length of the gap
}

// Demographic is a condition on the person at day 0.
type Demographic struct {
	Age            *IntRange `json:"age,omitempty"`          // completed years, inclusive
	Sex            string    `json:"sex,omitempty"`          // "M" or "F"
	ASLs           []Text    `json:"asl,omitempty"`          // ASL of residence
	Municipalities []Text    `json:"municipality,omitempty"` // municipality of residence (ISTAT code)
}

// Group combines criteria: "all", "any", "at_least" N or "at_most" N of them.
type Group struct {
	Op       string      `json:"op"`          // "all", "any", "at_least", "at_most"
	N        *int        `json:"n,omitempty"` // for at_least and at_most
	Criteria []Criterion `json:"criteria"`    // the members, nestable
}

// Group operators.
const (
	OpAll     = "all"
	OpAny     = "any"
	OpAtLeast = "at_least"
	OpAtMost  = "at_most"
)

// FollowUp is when time at risk starts and what ends it.
type FollowUp struct {
	Start  Int         `json:"start"`            // first day of follow-up relative to the anchor (0: day 0 itself)
	Anchor string      `json:"anchor,omitempty"` // "index_start" (default) or "index_end"
	End    FollowUpEnd `json:"end"`              // what ends it: the first of these
}

// FollowUpEnd lists what ends follow-up; the earliest applies.
type FollowUpEnd struct {
	Outcomes        []string         `json:"outcomes,omitempty"`        // outcomes whose first occurrence ends follow-up
	Death           *bool            `json:"death,omitempty"`           // default true
	EnrolmentEnd    *bool            `json:"enrolment_end,omitempty"`   // end of the enrolment spell; default true
	StudyEnd        *Date            `json:"study_end,omitempty"`       // administrative end of the study
	DataEnd         *Date            `json:"data_end,omitempty"`        // the end of data: "flows" (default), "enrolment" or a date (DataEnd* constants)
	MaxDays         *Int             `json:"max_days,omitempty"`        // maximum duration in days
	Censoring       []string         `json:"censoring,omitempty"`       // events whose first occurrence ends follow-up
	Discontinuation *Discontinuation `json:"discontinuation,omitempty"` // end of the exposure's first episode
	Switch          *Switch          `json:"switch,omitempty"`          // start of another treatment
}

// Values of FollowUpEnd.DataEnd besides a date.
const (
	DataEndFlows     = "flows"     // the latest event in the flows (Options.DataEnd); the default
	DataEndEnrolment = "enrolment" // the latest end of enrolment of the data version (Options.EnrolmentEnd)
)

// Discontinuation ends follow-up at the end of the exposure's first
// treatment episode (last covered day plus the grace period).
type Discontinuation struct {
	Events    []string `json:"events,omitempty"` // dispensing events of the exposure; default: the person's index events
	GraceDays Int      `json:"grace_days"`       // gap allowed between supplies
}

// Switch ends follow-up at the first dispensing of another treatment.
type Switch struct {
	Events      []string `json:"events,omitempty"`       // events that are a switch
	OtherGroups bool     `json:"other_groups,omitempty"` // the index events of the other exposure groups are a switch
}

// Covariate is a named variable of the analysis dataset. Which fields apply
// depends on Kind (docs/protocol.md lists them).
type Covariate struct {
	Name      string       `json:"name"`                // identifier, used in analyses and in term names
	Title     string       `json:"title,omitempty"`     // human label
	Kind      string       `json:"kind"`                // see the Kind* constants
	Timing    string       `json:"timing,omitempty"`    // "baseline" (default) or "time_dependent"
	Event     string       `json:"event,omitempty"`     // presence, count, days_since_last, switch (the event switched to)
	Window    *Window      `json:"window,omitempty"`    // where the value is measured
	Match     string       `json:"match,omitempty"`     // presence, count: "start" (default) or "overlap", as a criterion's
	Drug      *Drug        `json:"drug,omitempty"`      // drug-exposure kinds
	Method    string       `json:"method,omitempty"`    // adherence: "pdc" or "mpr"
	Flows     []string     `json:"flows,omitempty"`     // cost: "hospital", "pharmacy", "direct_distribution", "outpatient"
	Of        []string     `json:"of,omitempty"`        // transformations: the covariates transformed
	Cuts      []float64    `json:"cuts,omitempty"`      // classify: ascending cut points, classes [c_i, c_{i+1})
	Labels    []string     `json:"labels,omitempty"`    // classify: len(cuts)+1 class labels
	Classes   []ClassMerge `json:"classes,omitempty"`   // aggregate: merged classes
	Op        string       `json:"op,omitempty"`        // combine: and, or, not, add, subtract, multiply, divide, min, max
	Reference string       `json:"reference,omitempty"` // categorical: the reference level
}

// Covariate kinds.
const (
	KindAge             = "age"              // continuous: completed years at day 0
	KindSex             = "sex"              // categorical: M, F
	KindASL             = "asl"              // categorical: ASL of residence at day 0
	KindMunicipality    = "municipality"     // categorical: municipality at day 0
	KindGP              = "gp"               // categorical: GP at day 0
	KindCalendarYear    = "calendar_year"    // categorical: year of day 0
	KindIndexGroup      = "index_group"      // categorical: the exposure group
	KindPresence        = "presence"         // binary: an event in the window
	KindCount           = "count"            // continuous: occurrences in the window
	KindDaysSinceLast   = "days_since_last"  // continuous: days from the last occurrence in the window to day 0
	KindCharlson        = "charlson"         // continuous: Charlson index (Quan 2005 ICD-9-CM) from hospital diagnoses in the window
	KindMCS             = "mcs"              // continuous: Multisource Comorbidity Score (Corrao 2017) in the window
	KindCost            = "cost"             // continuous: sum of tariffs and costs of the flows in the window
	KindCurrentUse      = "current_use"      // binary: covered by a supply on the day
	KindAdherence       = "adherence"        // continuous: PDC or MPR over the window, 0..1
	KindTherapyDuration = "therapy_duration" // continuous: days of the first episode starting in the window
	KindDiscontinuation = "discontinuation"  // binary: the episode covering day 0 ends within the window
	KindSwitch          = "switch"           // binary: a dispensing of Event in the window while the episode lasts
	KindClassify        = "classify"         // categorical: classes of a continuous covariate
	KindAggregate       = "aggregate"        // categorical: merged classes of a categorical covariate
	KindCombine         = "combine"          // binary or continuous: Op applied to the covariates in Of
	KindSum             = "sum"              // continuous: sum of the covariates in Of
)

// Covariate timings.
const (
	TimingBaseline      = "baseline"
	TimingTimeDependent = "time_dependent"
)

// Drug is how dispensings of an event become treatment episodes: each
// dispensing covers packs × DDD per pack ÷ daily DDD days from its date.
type Drug struct {
	Event     string   `json:"event"`                // a dispensing event definition
	DailyDDD  *float64 `json:"daily_ddd,omitempty"`  // DDD taken per day; default the code list's, else 1
	GraceDays *Int     `json:"grace_days,omitempty"` // a gap longer than this ends an episode; default 0
	CarryOver *bool    `json:"carry_over,omitempty"` // overlapping supplies are carried forward; default true
}

// ClassMerge is one class of an aggregation: the old classes it merges.
type ClassMerge struct {
	Label string   `json:"label"` // the new class
	From  []string `json:"from"`  // old classes merged into it
}

// Outcome is an event of interest during follow-up.
type Outcome struct {
	Name       string   `json:"name"`                 // identifier
	Title      string   `json:"title,omitempty"`      // human label
	Events     []string `json:"events"`               // event definitions (OR)
	Occurrence string   `json:"occurrence,omitempty"` // "first" (default; time to event) or "all" (recurrent, for rates)
}

// Analysis is one statistical analysis of the analysis dataset.
type Analysis struct {
	Name        string           `json:"name"`                  // identifier, e.g. "adjusted"
	Title       string           `json:"title,omitempty"`       // human label
	Kind        string           `json:"kind"`                  // see the Analysis* constants
	Outcome     string           `json:"outcome,omitempty"`     // kaplan_meier, cox, logistic, rates
	Covariates  []string         `json:"covariates,omitempty"`  // model terms, or rows of a descriptive table
	By          string           `json:"by,omitempty"`          // descriptive, kaplan_meier, rates: the grouping covariate
	Strata      []string         `json:"strata,omitempty"`      // cox: stratification of the baseline hazard
	Ties        string           `json:"ties,omitempty"`        // cox: "efron" (default) or "breslow"
	CI          string           `json:"ci,omitempty"`          // cox: "wald" (default) or "profile" (profile-likelihood intervals)
	Horizon     *Int             `json:"horizon,omitempty"`     // logistic: outcome within this many days of follow-up start
	Dependent   string           `json:"dependent,omitempty"`   // linear: the covariate explained
	Per         float64          `json:"per,omitempty"`         // rates: per this many person-years (default 1000)
	Standardize *Standardization `json:"standardize,omitempty"` // rates: direct standardization
	StratifyBy  string           `json:"stratify_by,omitempty"` // the same analysis within each class of this covariate
}

// Analysis kinds.
const (
	AnalysisAttrition   = "attrition"
	AnalysisDescriptive = "descriptive"
	AnalysisKaplanMeier = "kaplan_meier"
	AnalysisCox         = "cox"
	AnalysisLogistic    = "logistic"
	AnalysisLinear      = "linear"
	AnalysisRates       = "rates"
)

// Standardization is direct standardization of rates over the classes of
// the By covariates, with weights from Standard.
type Standardization struct {
	By       []string `json:"by"`       // categorical covariates defining the strata (e.g. age class, sex)
	Standard Standard `json:"standard"` // the standard population
}

// Standard is the standard population: the registry at a date, or one
// given stratum by stratum. Exactly one of the two.
type Standard struct {
	RegistryDate *Date             `json:"registry_date,omitempty"` // persons enrolled on that day
	Population   []StandardStratum `json:"population,omitempty"`    // supplied weights
}

// StandardStratum is one stratum of a supplied standard population.
type StandardStratum struct {
	Levels  map[string]string `json:"levels"`  // covariate name → class
	Persons float64           `json:"persons"` // its size (weights are normalised)
}
