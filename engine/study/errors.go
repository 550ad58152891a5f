package study

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/beaver-analytics/beaver/schema"
)

// transient reports whether an error of a step may go away when the step
// is retried: a lost connection, a serialization failure or deadlock, a
// server shutting down or short of resources. An error that is neither a
// server's answer nor a failure to reach the server is the client's own
// (a value that cannot be encoded, more bind parameters than the protocol
// allows, a type that cannot be scanned): the same statement fails the
// same way every time, so it is permanent (issue 14, point 8: such a step
// was retried with backoff for hours).
func transient(err error) bool {
	if schema.NodeUnreachable(err) {
		return true // a Citus worker node down or restarting
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "40", "53", "57", "58": // connection, rollback, resources, operator intervention, system
			return pgErr.Code != "53100" // disk full needs a person
		}
		return pgErr.Code == "55P03" // lock not available
	}
	return connectionFailure(err)
}

// connectionFailure reports whether err is a failure to reach the server
// or to keep talking to it (or a cancelled or expired context), rather
// than a server's answer or the client's own refusal.
func connectionFailure(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	// SafeToRetry: failed before anything was sent (a connection refused);
	// Timeout: a network or context timeout inside pgconn.
	if pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return true
	}
	var connect *pgconn.ConnectError
	var netErr net.Error
	var errno syscall.Errno
	if errors.As(err, &connect) || errors.As(err, &netErr) || errors.As(err, &errno) {
		return true
	}
	// pgx and its pool say these without a type of their own.
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "closed pool")
}

// retryMessage says why a step waits for its next attempt: the database's
// words for a transient failure (a lost connection, a node of the cluster
// that cannot be reached, a server shutting down), without SQL text.
func retryMessage(err error, attempt, max int) string {
	why := err.Error()
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		why = pgErr.Message
	}
	if len(why) > 300 {
		why = why[:300] + "…"
	}
	return fmt.Sprintf("waiting to retry (attempt %d of %d failed): %s", attempt, max, why)
}

// clientError is the message of a step's permanent client-side failure:
// the driver's own words (they hold no SQL text), for a report.
func clientError(err error) string {
	return fmt.Sprintf("the step's statement could not be sent to the database (%v): report it with the run id", err)
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
