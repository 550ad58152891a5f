package study

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// transient reports whether an error of a step may go away when the step
// is retried: a lost connection, a serialization failure or deadlock, a
// server shutting down or short of resources.
func transient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "40", "53", "57", "58": // connection, rollback, resources, operator intervention, system
			return pgErr.Code != "53100" // disk full needs a person
		}
		return pgErr.Code == "55P03" // lock not available
	}
	// Anything that is not an answer of the server (a broken connection,
	// a closed pool) is taken as transient: River retries with backoff and
	// gives up after MaxAttempts.
	return true
}

// explain turns a deterministic database error into words a user can act
// on, without the SQL text; the raw error goes to the log only.
func explain(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return "internal error (details in the server log)"
	}
	switch pgErr.Code {
	case "42P01":
		return "a table this step reads is missing; the run's tables were changed or dropped while it ran: submit the study again"
	case "42703", "42P07", "42804", "42883", "42601":
		return fmt.Sprintf("the generated query does not fit the database (SQLSTATE %s): the database schema may be older or newer than this software; report it with the run id", pgErr.Code)
	case "22012":
		return "a computed value divides by zero: check the protocol's combine and ratio covariates"
	case "22008", "22007":
		return "a date computed from the protocol is out of range: check the window offsets and study dates"
	case "22003":
		return "a computed number is out of range: check the protocol's thresholds and arithmetic"
	case "23505":
		return "the data holds duplicate rows where one per person and entry is expected: check the import's diagnostics"
	case "53100":
		return "the database's disk is full: free space, then submit the study again"
	}
	switch pgErr.Code[:2] {
	case "22":
		return fmt.Sprintf("the data holds a value the step cannot handle (SQLSTATE %s)", pgErr.Code)
	case "23":
		return fmt.Sprintf("a rule on the step's table was broken (SQLSTATE %s): the data may hold duplicates", pgErr.Code)
	case "42":
		return fmt.Sprintf("the generated query was refused (SQLSTATE %s): report it with the run id", pgErr.Code)
	}
	return fmt.Sprintf("the database refused the step (SQLSTATE %s); details in the server log", pgErr.Code)
}

// phaseOf names the protocol phase a step kind belongs to.
func phaseOf(kind string) string {
	switch kind {
	case "event":
		return "events"
	case "spells":
		return "population (enrolment spells)"
	case "index":
		return "index"
	case "criteria", "cohort", "attrition":
		return "criteria"
	case "followup", "discontinuation":
		return "follow-up"
	case "outcome":
		return "outcomes"
	case "covariate", "timedep", "episodes":
		return "covariates"
	case "dataset", "dataset_cp":
		return "analysis dataset"
	case "":
		return "plan"
	}
	return kind
}
