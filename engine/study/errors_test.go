package study

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// TestTransient classifies real errors of pgx: the client's own refusals
// (too many bind parameters, a value it cannot encode, a value it cannot
// scan) are permanent, as are the server's answers to a wrong statement;
// a closed pool, an unreachable server and a cancelled context are
// transient. Before issue 14's point 8, every error that was not a
// server's answer was transient, and a step needing more than 65,535
// parameters was retried for hours.
func TestTransient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)

	args := make([]any, 70000)
	var q strings.Builder
	q.WriteString("SELECT 1 WHERE 1 IN (")
	for i := range args {
		args[i] = i
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("$" + itoa(i+1))
	}
	q.WriteString(")")
	_, err := pool.Exec(ctx, q.String(), args...)
	require.ErrorContains(t, err, "65535")
	require.False(t, transient(err), "too many parameters: %v", err)
	require.Contains(t, clientError(err), "65535")

	_, err = pool.Exec(ctx, "SELECT $1::int", struct{ X chan int }{})
	require.Error(t, err)
	require.False(t, transient(err), "encode: %v", err)

	var n int
	err = pool.QueryRow(ctx, "SELECT 'x'::text").Scan(&n)
	require.Error(t, err)
	require.False(t, transient(err), "scan: %v", err)

	_, err = pool.Exec(ctx, "SELECT * FROM no_such_table")
	require.Error(t, err)
	require.False(t, transient(err), "undefined table: %v", err)

	closed, err := pgxpool.New(ctx, pool.Config().ConnString())
	require.NoError(t, err)
	closed.Close()
	_, err = closed.Exec(ctx, "SELECT 1")
	require.Error(t, err)
	require.True(t, transient(err), "closed pool: %v", err)

	nowhere, err := pgxpool.New(ctx, "postgres://beaver@127.0.0.1:1/none?connect_timeout=2")
	require.NoError(t, err)
	defer nowhere.Close()
	_, err = nowhere.Exec(ctx, "SELECT 1")
	require.Error(t, err)
	require.True(t, transient(err), "unreachable: %v", err)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = pool.Exec(cctx, "SELECT 1")
	require.Error(t, err)
	require.True(t, transient(err), "cancelled: %v", err)
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
