package schema_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/beaver-analytics/beaver/schema"
)

// TestNodeUnreachable tells Citus's errors for a worker it cannot reach
// (seen in the scale-out tests, SQLSTATE XX000 or 08006) from other
// errors.
func TestNodeUnreachable(t *testing.T) {
	for _, msg := range []string{
		"connection to the remote node postgres@/tmp/w2/run:5432 failed with the following error: FATAL:  the database system is shutting down",
		"failure on connection marked as essential: /tmp/w2/run:5432",
		"server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally",
		"terminating connection due to administrator command",
	} {
		err := fmt.Errorf("distribute x: %w", &pgconn.PgError{Code: "XX000", Message: msg})
		if !schema.NodeUnreachable(err) {
			t.Errorf("NodeUnreachable(%q) = false", msg)
		}
	}
	for _, err := range []error{nil, errors.New("duplicate key value violates unique constraint"),
		&pgconn.PgError{Code: "0A000", Message: "complex joins are only supported when all distributed tables are co-located"}} {
		if schema.NodeUnreachable(err) {
			t.Errorf("NodeUnreachable(%v) = true", err)
		}
	}
}
