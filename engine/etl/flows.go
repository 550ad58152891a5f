package etl

import (
	"fmt"
	"sort"
	"strings"
)

// Type is the type of a column in a flow's file layout.
type Type int

// The column types a file layout can use.
const (
	TypeText     Type = iota // text, kept exactly as given (surrounding blanks trimmed)
	TypeCode                 // a code of a code system, text exactly as given
	TypeInt                  // a 64-bit integer (identifiers)
	TypeSmallInt             // a small integer (weeks, scores, positions)
	TypeFloat                // a number; a decimal comma is accepted when there is no dot
	TypeDate                 // YYYY-MM-DD or DD/MM/YYYY
	TypeTime                 // HH:MM or HH:MM:SS
	TypeBool                 // 1/0, S/N, Y/N, true/false
)

// SQL returns the PostgreSQL type the column is stored as.
func (t Type) SQL() string {
	switch t {
	case TypeInt:
		return "bigint"
	case TypeSmallInt:
		return "integer"
	case TypeFloat:
		return "double precision"
	case TypeDate:
		return "date"
	case TypeTime:
		return "time"
	case TypeBool:
		return "boolean"
	default:
		return "text"
	}
}

// MaxLen is the longest field, in bytes (after trimming blanks), a column
// of the type accepts: a longer one is quarantined (field_too_long) before
// its value is read. Codes are short in every code system (a 10-character
// AIC, a 9-character exemption); text holds identifiers and names.
func (t Type) MaxLen() int {
	switch t {
	case TypeText:
		return 1000
	case TypeCode:
		return 32
	default:
		return 64
	}
}

// String names the type in documentation and error messages.
func (t Type) String() string {
	return [...]string{"text", "code", "integer", "integer", "number", "date", "time", "boolean"}[t]
}

// Code systems a code column can be checked against.
const (
	CodeICD9Dx     = "icd9cm_dx"   // ICD-9-CM diagnoses, Italian 2007 version (dict_icd9cm kind dx)
	CodeICD9Proc   = "icd9cm_proc" // ICD-9-CM procedures, Italian 2007 version (dict_icd9cm kind proc)
	CodeExemption  = "exemption"   // national co-pay exemption codes (dict_exemption)
	CodeProduct    = "aic"         // AIC product codes as supplied by the region (dict_product)
	CodeOutpatient = "outpatient"  // regional outpatient catalogue (dict_outpatient)
	CodeATC        = "atc"         // ATC codes as supplied (dict_atc)
)

// Column is one column of a flow's file layout.
type Column struct {
	Name     string // header name in the file (lower case) and column name in the tables
	Type     Type
	Required bool
	// Code names the code system the value must belong to (Code* constants),
	// valid at the date in column CodeDate.
	Code     string
	CodeDate string
	// Positive requires a number > 0.
	Positive bool
	// Values lists the accepted values of a text column (nil: any).
	Values []string
	// Future allows dates after the import date (validity ends, 9999-12-31).
	Future bool
	// Child marks a column that is stored only in a child table (diagnosis
	// and procedure positions), not in the flow's own table.
	Child bool
	// Doc is a one-line description for docs/flows.md.
	Doc string
}

// Child is a child table filled from repeated groups of a flow's columns
// (the principal and secondary diagnoses of a discharge, for instance).
type Child struct {
	Table string
	// Copy are the parent's columns copied into every child row (the key
	// and the event date).
	Copy []string
	// Fields are the child's own columns besides position; Groups gives, for
	// each position (0, 1, ...), the file column feeding each field. A group
	// whose first field is empty makes no row.
	Fields []string
	Groups [][]string
}

// Flow is one kind of input file and the table it is published to.
type Flow struct {
	Name  string // the --flow name and the file name prefix
	Title string
	Table string
	// Dictionary flows are code lists (not partitioned, no person).
	Dictionary bool
	// Upsert flows replace rows with the same key (registry, dictionaries);
	// other flows append and refuse keys already published.
	Upsert bool
	// Key is the natural key checked for duplicates (nil: the flow has no
	// natural key and rows get an event_id).
	Key []string
	// EventDate is the column checked against the person's birth and death.
	EventDate string
	// Ordered pairs of date columns: the first may not be after the second.
	Ordered  [][2]string
	Columns  []Column
	Children []Child
}

// Column returns the named column of the layout, or nil.
func (f *Flow) Column(name string) *Column {
	for i := range f.Columns {
		if f.Columns[i].Name == name {
			return &f.Columns[i]
		}
	}
	return nil
}

// HasPerson reports whether rows name a person of the registry.
func (f *Flow) HasPerson() bool { return !f.Dictionary }

// Stored returns the columns stored in the flow's own table.
func (f *Flow) Stored() []Column {
	var out []Column
	for _, c := range f.Columns {
		if !c.Child {
			out = append(out, c)
		}
	}
	return out
}

// Required returns the names of the required columns.
func (f *Flow) Required() []string {
	var out []string
	for _, c := range f.Columns {
		if c.Required {
			out = append(out, c.Name)
		}
	}
	return out
}

func seq(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s_%d", prefix, i+1)
	}
	return out
}

func person() Column {
	return Column{Name: "person_id", Type: TypeInt, Required: true, Doc: "pseudonymous person identifier of the registry"}
}

func dxColumns(prefix string, n int, date string) []Column {
	cols := []Column{{Name: prefix + "_princ", Type: TypeCode, Code: CodeICD9Dx, CodeDate: date, Child: true, Doc: "principal diagnosis"}}
	for _, name := range seq(prefix+"_sec", n) {
		cols = append(cols, Column{Name: name, Type: TypeCode, Code: CodeICD9Dx, CodeDate: date, Child: true, Doc: "secondary diagnosis"})
	}
	return cols
}

func groups(first string, rest []string, dates ...string) [][]string {
	g := [][]string{{first}}
	for _, r := range rest {
		g = append(g, []string{r})
	}
	if len(dates) > 0 {
		for i := range g {
			g[i] = append(g[i], dates[i])
		}
	}
	return g
}

// Flows lists every flow Beaver imports, in the order they are published
// (dictionaries, then the registry, then the events).
var Flows = buildFlows()

func buildFlows() []*Flow {
	const secDx, secProc, erDx = 5, 5, 2
	sdoCols := []Column{
		person(),
		{Name: "discharge_id", Type: TypeText, Required: true, Doc: "discharge identifier (hospital + progressive number), unique per person"},
		{Name: "hospital", Type: TypeText, Doc: "hospital code"},
		{Name: "admission_date", Type: TypeDate, Required: true, Doc: "date of admission"},
		{Name: "discharge_date", Type: TypeDate, Required: true, Doc: "date of discharge"},
		{Name: "regime", Type: TypeText, Doc: "1 ordinary, 2 day hospital"},
		{Name: "admission_type", Type: TypeText, Doc: "admission type (urgent, planned, ...)"},
		{Name: "discharge_mode", Type: TypeText, Doc: "discharge mode (1 deceased, 2 home, ...)"},
		{Name: "ward", Type: TypeText, Doc: "discharging ward"},
		{Name: "drg", Type: TypeText, Doc: "DRG"},
		{Name: "tariff", Type: TypeFloat, Doc: "tariff in euro"},
	}
	sdoCols = append(sdoCols, dxColumns("diag", secDx, "admission_date")...)
	sdoCols[len(sdoCols)-secDx-1].Required = true
	sdoCols = append(sdoCols,
		Column{Name: "proc_princ", Type: TypeCode, Code: CodeICD9Proc, CodeDate: "admission_date", Child: true, Doc: "principal procedure"},
		Column{Name: "proc_princ_date", Type: TypeDate, Child: true, Doc: "date of the principal procedure"})
	for i := 1; i <= secProc; i++ {
		sdoCols = append(sdoCols,
			Column{Name: fmt.Sprintf("proc_sec_%d", i), Type: TypeCode, Code: CodeICD9Proc, CodeDate: "admission_date", Child: true, Doc: "secondary procedure"},
			Column{Name: fmt.Sprintf("proc_sec_%d_date", i), Type: TypeDate, Child: true, Doc: "date of the secondary procedure"})
	}
	procCodes, procDates := []string{}, []string{"proc_princ_date"}
	for i := 1; i <= secProc; i++ {
		procCodes = append(procCodes, fmt.Sprintf("proc_sec_%d", i))
		procDates = append(procDates, fmt.Sprintf("proc_sec_%d_date", i))
	}

	drug := func(direct bool) []Column {
		cols := []Column{
			person(),
			{Name: "dispensing_date", Type: TypeDate, Required: true, Doc: "date of dispensing"},
			{Name: "aic", Type: TypeCode, Required: true, Code: CodeProduct, CodeDate: "dispensing_date", Doc: "AIC product code"},
			{Name: "atc", Type: TypeCode, Code: CodeATC, CodeDate: "dispensing_date", Doc: "ATC code as supplied"},
			{Name: "packs", Type: TypeFloat, Required: true, Positive: true, Doc: "number of packs"},
		}
		if direct {
			cols = append(cols,
				Column{Name: "units", Type: TypeFloat, Positive: true, Doc: "units dispensed"},
				Column{Name: "channel", Type: TypeText, Doc: "distribution channel (direct, on behalf, ...)"})
		}
		return append(cols,
			Column{Name: "prescriber_id", Type: TypeText, Doc: "prescriber identifier"},
			Column{Name: "cost", Type: TypeFloat, Doc: "cost in euro"},
			Column{Name: "copay", Type: TypeFloat, Doc: "co-payment in euro"})
	}

	flows := []*Flow{
		{
			Name: "atc", Title: "ATC structure (as supplied)", Table: "dict_atc", Dictionary: true, Upsert: true,
			Key: []string{"code"},
			Columns: []Column{
				{Name: "code", Type: TypeCode, Required: true, Doc: "ATC code, any level"},
				{Name: "name", Type: TypeText, Doc: "name"},
				{Name: "ddd", Type: TypeFloat, Positive: true, Doc: "defined daily dose"},
				{Name: "ddd_unit", Type: TypeText, Doc: "unit of the DDD"},
			},
		},
		{
			Name: "product", Title: "Products (AIC)", Table: "dict_product", Dictionary: true, Upsert: true,
			Key:     []string{"aic", "valid_from"},
			Ordered: [][2]string{{"valid_from", "valid_to"}},
			Columns: []Column{
				{Name: "aic", Type: TypeCode, Required: true, Doc: "AIC product code"},
				{Name: "atc", Type: TypeCode, Required: true, Doc: "ATC code of the product"},
				{Name: "name", Type: TypeText, Doc: "product name"},
				{Name: "units_per_pack", Type: TypeFloat, Positive: true, Doc: "units per pack"},
				{Name: "ddd_per_pack", Type: TypeFloat, Positive: true, Doc: "DDD per pack"},
				{Name: "valid_from", Type: TypeDate, Required: true, Doc: "first day of validity"},
				{Name: "valid_to", Type: TypeDate, Future: true, Doc: "last day of validity (empty: open)"},
			},
		},
		{
			Name: "outpatient_code", Title: "Regional outpatient catalogue", Table: "dict_outpatient", Dictionary: true, Upsert: true,
			Key:     []string{"code", "valid_from"},
			Ordered: [][2]string{{"valid_from", "valid_to"}},
			Columns: []Column{
				{Name: "code", Type: TypeCode, Required: true, Doc: "regional outpatient code"},
				{Name: "description", Type: TypeText, Doc: "description"},
				{Name: "tariff", Type: TypeFloat, Doc: "tariff in euro"},
				{Name: "valid_from", Type: TypeDate, Required: true, Doc: "first day of validity"},
				{Name: "valid_to", Type: TypeDate, Future: true, Doc: "last day of validity (empty: open)"},
			},
		},
		{
			Name: "person", Title: "Registry of persons", Table: "person", Upsert: true,
			Key:     []string{"person_id"},
			Ordered: [][2]string{{"birth_date", "death_date"}},
			Columns: []Column{
				person(),
				{Name: "sex", Type: TypeText, Required: true, Values: []string{"M", "F"}, Doc: "M or F"},
				{Name: "birth_date", Type: TypeDate, Required: true, Doc: "date of birth"},
				{Name: "death_date", Type: TypeDate, Doc: "date of death"},
				{Name: "birth_municipality", Type: TypeCode, Doc: "ISTAT code of the municipality of birth"},
			},
		},
		{
			Name: "enrolment", Title: "Enrolment spells", Table: "enrolment",
			EventDate: "start_date",
			Ordered:   [][2]string{{"start_date", "end_date"}},
			Columns: []Column{
				person(),
				{Name: "start_date", Type: TypeDate, Required: true, Doc: "first day of the spell"},
				{Name: "end_date", Type: TypeDate, Doc: "last day of the spell (empty: open)"},
				{Name: "asl", Type: TypeCode, Required: true, Doc: "local health authority (ASL) code"},
				{Name: "municipality", Type: TypeCode, Doc: "ISTAT code of the municipality of residence"},
				{Name: "gp_id", Type: TypeText, Doc: "general practitioner identifier"},
				{Name: "end_reason", Type: TypeText, Doc: "reason the spell ended (death, emigration, ...)"},
			},
		},
		{
			Name: "sdo", Title: "Hospital discharges (SDO)", Table: "sdo",
			Key:       []string{"person_id", "discharge_id"},
			EventDate: "admission_date",
			Ordered:   [][2]string{{"admission_date", "discharge_date"}},
			Columns:   sdoCols,
			Children: []Child{
				{Table: "sdo_diagnosis", Copy: []string{"person_id", "discharge_id", "admission_date"},
					Fields: []string{"code"}, Groups: groups("diag_princ", seq("diag_sec", secDx))},
				{Table: "sdo_procedure", Copy: []string{"person_id", "discharge_id", "admission_date"},
					Fields: []string{"code", "procedure_date"}, Groups: groups("proc_princ", procCodes, procDates...)},
			},
		},
		{
			Name: "pharmacy", Title: "Outpatient pharmacy dispensing", Table: "pharmacy",
			EventDate: "dispensing_date", Columns: drug(false),
		},
		{
			Name: "direct_distribution", Title: "Direct distribution of drugs", Table: "direct_distribution",
			EventDate: "dispensing_date", Columns: drug(true),
		},
		{
			Name: "exemption", Title: "Co-pay exemptions", Table: "exemption",
			EventDate: "start_date",
			Ordered:   [][2]string{{"start_date", "end_date"}},
			Columns: []Column{
				person(),
				{Name: "code", Type: TypeCode, Required: true, Code: CodeExemption, CodeDate: "start_date", Doc: "exemption code"},
				{Name: "start_date", Type: TypeDate, Required: true, Doc: "first day of the exemption"},
				{Name: "end_date", Type: TypeDate, Future: true, Doc: "last day of the exemption (empty: open)"},
			},
		},
		{
			Name: "er", Title: "Emergency room accesses", Table: "er",
			Key:       []string{"person_id", "access_id"},
			EventDate: "arrival_date",
			Columns: append([]Column{
				person(),
				{Name: "access_id", Type: TypeText, Required: true, Doc: "access identifier, unique per person"},
				{Name: "arrival_date", Type: TypeDate, Required: true, Doc: "date of arrival"},
				{Name: "arrival_time", Type: TypeTime, Doc: "time of arrival"},
				{Name: "triage", Type: TypeText, Doc: "triage code at arrival"},
				{Name: "outcome", Type: TypeText, Doc: "outcome of the access"},
				{Name: "admitted", Type: TypeBool, Doc: "admitted to hospital"},
			}, dxColumns("diag", erDx, "arrival_date")...),
			Children: []Child{
				{Table: "er_diagnosis", Copy: []string{"person_id", "access_id", "arrival_date"},
					Fields: []string{"code"}, Groups: groups("diag_princ", seq("diag_sec", erDx))},
			},
		},
		{
			Name: "outpatient", Title: "Outpatient specialist care", Table: "outpatient",
			EventDate: "service_date",
			Columns: []Column{
				person(),
				{Name: "service_date", Type: TypeDate, Required: true, Doc: "date of the service"},
				{Name: "code", Type: TypeCode, Required: true, Code: CodeOutpatient, CodeDate: "service_date", Doc: "regional outpatient code"},
				{Name: "quantity", Type: TypeFloat, Required: true, Positive: true, Doc: "quantity"},
				{Name: "tariff", Type: TypeFloat, Doc: "tariff in euro"},
			},
		},
		{
			Name: "cedap", Title: "Birth certificates (CeDAP)", Table: "cedap",
			Key:       []string{"person_id", "cedap_id"},
			EventDate: "delivery_date",
			Columns: []Column{
				{Name: "person_id", Type: TypeInt, Required: true, Doc: "the mother's person identifier"},
				{Name: "cedap_id", Type: TypeText, Required: true, Doc: "certificate identifier, unique per mother"},
				{Name: "delivery_date", Type: TypeDate, Required: true, Doc: "date of delivery"},
				{Name: "gestational_weeks", Type: TypeSmallInt, Positive: true, Doc: "completed weeks of gestation"},
				{Name: "delivery_mode", Type: TypeText, Doc: "vaginal, caesarean, ..."},
				{Name: "plurality", Type: TypeSmallInt, Positive: true, Doc: "number of newborns"},
				{Name: "newborn_person_id", Type: TypeInt, Doc: "the newborn's person identifier"},
				{Name: "newborn_sex", Type: TypeText, Values: []string{"M", "F"}, Doc: "M or F"},
				{Name: "birth_weight_g", Type: TypeSmallInt, Positive: true, Doc: "birth weight in grams"},
				{Name: "apgar_5", Type: TypeSmallInt, Doc: "Apgar score at 5 minutes"},
			},
		},
	}
	return flows
}

// FlowByName returns the flow with that name, or nil.
func FlowByName(name string) *Flow {
	for _, f := range Flows {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// FlowNames lists the flow names.
func FlowNames() []string {
	var out []string
	for _, f := range Flows {
		out = append(out, f.Name)
	}
	return out
}

// flowFromFileName finds the flow whose name starts the file's base name,
// followed by the end of the name or one of "._-" or a digit; the longest
// matching name wins ("direct_distribution_2022.csv" is not "d...").
func flowFromFileName(base string) *Flow {
	base = strings.ToLower(base)
	var best *Flow
	for _, f := range Flows {
		if !strings.HasPrefix(base, f.Name) {
			continue
		}
		rest := base[len(f.Name):]
		if rest != "" && !strings.ContainsAny(rest[:1], "._-0123456789") {
			continue
		}
		if best == nil || len(f.Name) > len(best.Name) {
			best = f
		}
	}
	return best
}

// flowFromHeader finds the flow whose required columns the header has,
// preferring the one that matches the most columns. When none fits it
// returns the closest flow and its missing required columns.
func flowFromHeader(header []string) (*Flow, []string, error) {
	have := map[string]bool{}
	for _, h := range header {
		have[h] = true
	}
	type cand struct {
		f       *Flow
		matched int
		missing []string
	}
	var cands []cand
	for _, f := range Flows {
		c := cand{f: f}
		for _, col := range f.Columns {
			if have[col.Name] {
				c.matched++
			} else if col.Required {
				c.missing = append(c.missing, col.Name)
			}
		}
		cands = append(cands, c)
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if (len(cands[i].missing) == 0) != (len(cands[j].missing) == 0) {
			return len(cands[i].missing) == 0
		}
		return cands[i].matched > cands[j].matched
	})
	best := cands[0]
	if best.matched == 0 {
		return nil, nil, fmt.Errorf("unknown header: no flow has any of its columns (%s); name the flow with --flow or in the file name", strings.Join(header, ", "))
	}
	if len(best.missing) > 0 {
		return best.f, best.missing, nil
	}
	if len(cands) > 1 && len(cands[1].missing) == 0 && cands[1].matched == best.matched {
		return nil, nil, fmt.Errorf("ambiguous header: it fits flows %s and %s; name the flow with --flow or in the file name", best.f.Name, cands[1].f.Name)
	}
	return best.f, nil, nil
}
