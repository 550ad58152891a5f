package cohort

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options are what Compile needs besides the protocol: where the study's
// tables go, how the flows are partitioned, and which data version is read.
type Options struct {
	// Schema is the study's own schema; every step writes one table in it.
	Schema string
	// Partitions is the flows' hash-partition count (etl_setting
	// "partitions"). Steps of partition i read the flow partitions
	// "<table>_p<i>". With 1, steps read the parent tables (the whole
	// database as one partition, whatever its real partition count).
	Partitions int
	// DataVersion is the published data version read: rows with
	// data_version <= DataVersion.
	DataVersion int64
	// DataEnd is the last day of data ("YYYY-MM-DD"): the latest event
	// date in the flows. Follow-up and observation end on it at the
	// latest, unless the protocol's follow_up.end.data_end says otherwise.
	// Empty: no such limit.
	DataEnd string
	// EnrolmentEnd is the latest end of enrolment of the data version
	// ("YYYY-MM-DD"), the data end of a protocol whose
	// follow_up.end.data_end is "enrolment"; Compile fails without it
	// then. Empty otherwise.
	EnrolmentEnd string
	// Scope is the data scope of the user running the study: ASL codes.
	// When not empty, the index step keeps only entries whose person is
	// resident in one of them on day 0 (an enrolment record of that ASL
	// covers day 0, as population.asl reads it), whatever the protocol
	// says, so no protocol reaches persons outside the user's scope. The
	// codes are bound as one array, sorted and without duplicates (the
	// same scope in any order gives the same steps). Empty: the whole
	// region. The engine must pass the same scope every time it compiles
	// a run's protocol.
	Scope []string
	// Distributed says the flows and the study's tables are distributed by
	// person on Citus (schema.InitCitus). The steps are then written so
	// that Citus runs each whole on every shard: their CTEs are inlined
	// (NOT MATERIALIZED: Citus computes a materialized CTE once, on the
	// coordinator, from rows pulled from the shards) and a set operation
	// at the top of an INSERT is wrapped in a subquery. The results are
	// the same either way; only the plans differ.
	Distributed bool
}

// validate reports what is wrong with the options.
func (o Options) validate() error {
	if o.Schema == "" || len(o.Schema) > 63 {
		return fmt.Errorf("cohort: compile: options: schema %q must be 1 to 63 characters", o.Schema)
	}
	if o.Partitions < 1 || o.Partitions > 256 {
		return fmt.Errorf("cohort: compile: options: partition count %d: use 1 to 256", o.Partitions)
	}
	if o.DataVersion < 0 {
		return fmt.Errorf("cohort: compile: options: data version %d is negative", o.DataVersion)
	}
	for i, a := range o.Scope {
		if strings.TrimSpace(a) == "" || len(a) > 63 {
			return fmt.Errorf("cohort: compile: options: scope[%d] %q is not an ASL code", i, a)
		}
	}
	if o.DataEnd != "" {
		if _, err := time.Parse(dateFmt, o.DataEnd); err != nil {
			return fmt.Errorf("cohort: compile: options: data end %q is not a date YYYY-MM-DD", o.DataEnd)
		}
	}
	if o.EnrolmentEnd != "" {
		if _, err := time.Parse(dateFmt, o.EnrolmentEnd); err != nil {
			return fmt.Errorf("cohort: compile: options: enrolment end %q is not a date YYYY-MM-DD", o.EnrolmentEnd)
		}
	}
	return nil
}

// Plan is a compiled protocol: steps in an order that respects DependsOn,
// each writing one table of the study's schema.
type Plan struct {
	Schema      string   // the study's schema
	Partitions  int      // partition count the plan was compiled for
	DataVersion int64    // data version read
	Scope       []string // the data scope applied (Options.Scope, sorted), nil for the whole region
	// DataEnd is the last day of data the plan uses ("YYYY-MM-DD"; empty:
	// none): follow-up (end_reason "data_end") and covariate observation
	// end on it at the latest. It is Options.DataEnd, Options.EnrolmentEnd
	// or the protocol's date, as follow_up.end.data_end says (DataEndRule).
	DataEnd string
	// DataEndRule is how DataEnd was chosen: "flows", "enrolment" or
	// "date".
	DataEndRule string
	Steps       []Step // in dependency order
	// Attrition holds the label of each attrition line, in line order
	// (the attrition table's label column is its Text).
	Attrition []Label
	// NotCompiled lists, with protocol paths, what the plan leaves out
	// because the compiler does not handle it. Every valid protocol
	// compiles whole now, so it is empty; it stays for a construct a later
	// protocol version may add before its compiler does.
	NotCompiled []string
}

// Step is one SQL statement pair that writes one modular table. It is run
// as: DROP TABLE IF EXISTS Table; Create; SQL with Args — in one
// transaction, so a step is idempotent and a table is never half written.
type Step struct {
	Name      string   // unique in the plan, e.g. "index_p3"
	Kind      string   // the stage that made it: "event", "spells", "index", ...
	Partition int      // the partition whose rows it reads and writes
	Table     string   // the table written, schema-qualified and quoted
	Create    string   // SET LOCAL jit = off; then the CREATE TABLE statement (no arguments; run as one simple-protocol Exec)
	SQL       string   // INSERT ... SELECT filling the table, with $n arguments
	Args      []any    // bound arguments of SQL
	DependsOn []string // names of the steps whose tables SQL reads
	ID        string   // hex SHA-256 of the definition, the inputs' IDs and the data version
	// Distribute says the table, made empty by Create, becomes a
	// distributed table co-located with the flows before SQL runs
	// (schema.DistributeTable): with Options.Distributed, every table with
	// person_id. The attrition's counts stay on the coordinator.
	Distribute bool
}

// Step kinds, in stage order.
const (
	StepEvent           = "event"           // occurrences of one event definition
	StepSpells          = "spells"          // continuous enrolment spells
	StepIndex           = "index"           // index entries (day 0)
	StepCriteria        = "criteria"        // one flag per top-level criterion and entry
	StepCohort          = "cohort"          // entries that pass every criterion
	StepAttrition       = "attrition"       // persons and entries left after each criterion
	StepFollowUp        = "followup"        // start and end of follow-up
	StepDiscontinuation = "discontinuation" // end of the first treatment episode plus grace
	StepOutcome         = "outcome"         // first occurrence and time to event of one outcome
	StepDataset         = "dataset"         // the analysis dataset: one row per entry
	StepCovariate       = "covariate"       // one covariate's value per entry
)

// Step returns the step with the given name, or nil.
func (p *Plan) Step(name string) *Step {
	for i := range p.Steps {
		if p.Steps[i].Name == name {
			return &p.Steps[i]
		}
	}
	return nil
}

// stepID hashes a step's definition, its inputs' identities and the data
// version.
func stepID(s *Step, inputs []string, dataVersion int64) string {
	h := sha256.New()
	fmt.Fprintf(h, "beaver-step-v1\x00%s\x00%s\x00%s\x00%s\x00", s.Kind, s.Table, s.Create, s.SQL)
	for _, a := range s.Args {
		b, err := json.Marshal(a)
		if err != nil {
			panic("cohort: step argument not encodable: " + err.Error())
		}
		fmt.Fprintf(h, "%T:%s\x00", a, b)
	}
	for _, in := range inputs {
		fmt.Fprintf(h, "in:%s\x00", in)
	}
	fmt.Fprintf(h, "dv:%d", dataVersion)
	return hex.EncodeToString(h.Sum(nil))
}

// sqlb builds one statement whose values are bound arguments.
type sqlb struct {
	args []any
}

// arg binds v and returns its placeholder with an explicit cast, so that the
// statement's types never depend on inference.
func (b *sqlb) arg(v any, cast string) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d::%s", len(b.args), cast)
}

// date binds a "YYYY-MM-DD" date.
func (b *sqlb) date(s string) string {
	t, err := time.Parse(dateFmt, s)
	if err != nil {
		panic("cohort: unvalidated date " + s)
	}
	return b.arg(t, "date")
}

// ident quotes a qualified identifier.
func ident(parts ...string) string { return pgx.Identifier(parts).Sanitize() }

// dedent removes the common tab indentation of a multi-line SQL literal
// and trims it, so golden files read well.
func dedent(s string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(strings.TrimLeft(l, "\t"), " ")
	}
	return strings.Join(lines, "\n")
}
