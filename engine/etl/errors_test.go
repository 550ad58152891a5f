package etl

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/schema/errs"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// The package's errors wrap a kind of schema/errs, so that the CLI and the
// web API can tell bad input from a conflict or a bug without knowing the
// package, and carry the "etl: " prefix exactly once (issue 16: some had
// it, others — "create reject table" — did not).
func TestErrorKindsAndPrefix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	good := writeFiles(t, "person.csv", leafPersons)

	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockImport)
	require.NoError(t, err)
	_, running := Load(ctx, pool, good, leafOpts())
	_, err = conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", lockImport)
	require.NoError(t, err)
	conn.Release()

	badOpts := leafOpts()
	badOpts.Flow = "nope"
	_, badFlow := Load(ctx, pool, good, badOpts)
	_, missing := Load(ctx, pool, []string{filepath.Join(t.TempDir(), "absent.csv")}, leafOpts())
	_, badFile := Load(ctx, pool, writeFiles(t, "pharmacy.csv", "person_id;dispensing_date;packs\n1;2022-01-01;1\n"), leafOpts())
	_, refused := Load(ctx, pool, writeFiles(t, "person.csv", "person_id;sex;birth_date\nx;F;1950-01-01\n"), leafOpts())
	forced := leafOpts()
	forced.failBeforeCommit = errors.New("forced failure before commit")
	_, internal := Load(ctx, pool, good, forced)
	_, noVersion := Diagnose(ctx, pool, 99)
	_, noDir := ExpandPaths([]string{filepath.Join(t.TempDir(), "absent")})

	cases := []struct {
		name string
		err  error
		kind *errs.Kind
		is   error
	}{
		{"another import running", running, errs.Conflict, ErrImportRunning},
		{"unknown flow", badFlow, errs.Invalid, nil},
		{"missing file", missing, errs.NotFound, nil},
		{"bad file", badFile, errs.Invalid, nil},
		{"every row refused", refused, errs.Invalid, ErrNothingToPublish},
		{"failure in the publish", internal, errs.Internal, nil},
		{"no such data version", noVersion, errs.NotFound, nil},
		{"no such directory", noDir, errs.NotFound, nil},
	}
	for _, c := range cases {
		require.Error(t, c.err, c.name)
		require.Equal(t, c.kind, errs.KindOf(c.err), "%s: %v", c.name, c.err)
		if c.is != nil {
			require.ErrorIs(t, c.err, c.is, c.name)
		}
		msg := c.err.Error()
		require.True(t, strings.HasPrefix(msg, "etl: "), "%s: %q", c.name, msg)
		require.Equal(t, 1, strings.Count(msg, "etl: "), "%s: %q", c.name, msg)
	}
	var fe *FileError
	require.ErrorAs(t, badFile, &fe)
	require.Contains(t, internal.Error(), "etl: publish: forced failure before commit")
}

// A failure of a file's load says which stage failed, except a FileError,
// which already names the file and the line for the user.
func TestStageErr(t *testing.T) {
	t.Parallel()
	fr := &FileResult{Path: "pharmacy.csv"}
	cause := errors.New("connection reset")
	err := stageErr(fr, "copy into the leaves", cause)
	require.EqualError(t, err, "pharmacy.csv: copy into the leaves: connection reset")
	require.ErrorIs(t, err, cause)
	fe := &FileError{Path: "pharmacy.csv", Line: 3, Msg: "wrong delimiter"}
	require.Same(t, fe, stageErr(fr, "read", fe))
	require.NoError(t, stageErr(fr, "read", nil))
}
