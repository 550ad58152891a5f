package study_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/cohort/cohorttest"
	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/engine/synth"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// region loads a small synthetic region (a few hundred persons, 2012-2019)
// into a fresh database.
func region(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	dir := t.TempDir()
	_, err := synth.WriteCSV(ctx, synth.Config{Persons: 400, Years: 8, Seed: 3}, dir, nil)
	require.NoError(t, err)
	paths, err := synth.Files(dir)
	require.NoError(t, err)
	_, err = etl.Load(ctx, pool, paths, etl.Options{StartedBy: "test", Partitions: 2, Logger: slog.New(slog.DiscardHandler),
		AfterPublish: func(ctx context.Context, v int64) error { return etl.AfterPublish(ctx, pool, v) }})
	require.NoError(t, err)
	return pool
}

// worker starts a River client working study steps with n workers.
func worker(t *testing.T, pool *pgxpool.Pool, n int) *engine.Client {
	t.Helper()
	c, err := engine.NewClient(pool, engine.Config{Workers: n, Logger: slog.New(slog.DiscardHandler)}, true)
	require.NoError(t, err)
	require.NoError(t, c.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = engine.Stop(ctx, c, time.Second)
	})
	return c
}

// insertOnly is a client that enqueues without working.
func insertOnly(t *testing.T, pool *pgxpool.Pool) *engine.Client {
	t.Helper()
	c, err := engine.NewClient(pool, engine.Config{Logger: slog.New(slog.DiscardHandler)}, false)
	require.NoError(t, err)
	return c
}

// service is the study service on pool with River client c (nil: one
// that only reads).
func service(pool *pgxpool.Pool, c *engine.Client) *study.Service {
	return &study.Service{Pool: pool, River: c, Logger: slog.New(slog.DiscardHandler)}
}

// submit submits a protocol with params by submitter (0: none) and
// returns the run's id.
func submit(ctx context.Context, pool *pgxpool.Pool, c *engine.Client, protocol []byte, params map[string]string, by int64) (int64, error) {
	return submitWith(ctx, pool, c, study.SubmitRequest{Protocol: protocol, Params: params, SubmittedBy: by})
}

// submitWith submits a request and returns the run's id.
func submitWith(ctx context.Context, pool *pgxpool.Pool, c *engine.Client, req study.SubmitRequest) (int64, error) {
	s, err := service(pool, c).Submit(ctx, req)
	return s.RunID, err
}

func wait(t *testing.T, pool *pgxpool.Pool, runID int64) *study.Progress {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		p, err := service(pool, nil).Status(context.Background(), runID)
		require.NoError(t, err)
		if p.Ended() {
			return p
		}
		require.True(t, time.Now().Before(deadline), "run %d did not end: %+v", runID, p)
		time.Sleep(50 * time.Millisecond)
	}
}

func example(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", name))
	require.NoError(t, err)
	return b
}

// sameTables requires every table of plan a to hold the same rows (as a
// multiset) as the same step's table of plan b.
func sameTables(t *testing.T, pool *pgxpool.Pool, a, b *cohort.Plan) {
	t.Helper()
	require.Equal(t, len(a.Steps), len(b.Steps))
	for i, s := range a.Steps {
		r := b.Steps[i]
		require.Equal(t, s.Name, r.Name)
		var diff, n int64
		q := fmt.Sprintf(`SELECT (SELECT count(*) FROM ((TABLE %[1]s EXCEPT ALL TABLE %[2]s) UNION ALL (TABLE %[2]s EXCEPT ALL TABLE %[1]s)) x),
			(SELECT count(*) FROM %[1]s)`, s.Table, r.Table)
		require.NoError(t, pool.QueryRow(context.Background(), q).Scan(&diff, &n), s.Name)
		require.Zero(t, diff, "step %s: %d rows differ from the sequential run", s.Name, diff)
	}
}

// tableOIDs maps step names to their tables' OIDs: a step run again gets
// a new table (DROP and CREATE), so an unchanged OID proves it did not.
func tableOIDs(t *testing.T, pool *pgxpool.Pool, plan *cohort.Plan) map[string]uint32 {
	t.Helper()
	out := map[string]uint32{}
	for _, s := range plan.Steps {
		var oid uint32
		require.NoError(t, pool.QueryRow(context.Background(), "SELECT to_regclass($1)::oid", s.Table).Scan(&oid), s.Name)
		out[s.Name] = oid
	}
	return out
}

// TestRunEqualsSequential works the comparator example with River on a
// synthetic region, checks every table against cohorttest.Run of the same
// plan, then simulates a crash midway and checks that resuming recomputes
// only the steps that were not done.
func TestRunEqualsSequential(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	client := worker(t, pool, 4)

	runID, err := submit(ctx, pool, client, example(t, "comparator-new-users.json"), nil, 0)
	require.NoError(t, err)
	p := wait(t, pool, runID)
	require.Equal(t, study.StateDone, p.State, "error: %s", p.Error)
	require.Equal(t, p.StepsTotal, p.StepsDone)
	require.Equal(t, 100.0, p.Percent)
	require.Equal(t, study.SchemaName(runID), p.Schema)

	plan, err := service(pool, nil).Plan(ctx, runID)
	require.NoError(t, err)
	require.Equal(t, 2, plan.Partitions)
	var dataEnd time.Time
	require.NoError(t, pool.QueryRow(ctx, "SELECT data_end FROM study_run WHERE id = $1", runID).Scan(&dataEnd))
	var bound []byte
	require.NoError(t, pool.QueryRow(ctx, "SELECT protocol FROM study_run WHERE id = $1", runID).Scan(&bound))
	proto, err := cohort.DecodeBytes(bound)
	require.NoError(t, err)
	ref, err := cohort.Compile(proto, cohort.Options{Schema: "reference", Partitions: plan.Partitions,
		DataVersion: plan.DataVersion, DataEnd: dataEnd.Format(time.DateOnly)})
	require.NoError(t, err)
	require.NoError(t, cohorttest.Run(ctx, pool, ref))
	sameTables(t, pool, plan, ref)
	var cohortRows int64
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+plan.Step("cohort_p0").Table).Scan(&cohortRows))
	require.Positive(t, cohortRows, "the comparator cohort of partition 0 is empty: the test proves little")

	// A crash midway: every step from follow-up on is undone (state back to
	// waiting or queued, tables dropped), and River lost its jobs. Then
	// every step's job runs again, as an at-least-once queue may do.
	before := tableOIDs(t, pool, plan)
	undo := map[string]bool{}
	for _, s := range plan.Steps {
		switch s.Kind {
		case cohort.StepFollowUp, cohort.StepOutcome, cohort.StepDataset, cohort.StepCovariate, cohort.StepDiscontinuation:
			undo[s.Name] = true
		}
	}
	require.NotEmpty(t, undo)
	for name := range undo {
		_, err := pool.Exec(ctx, "DROP TABLE "+plan.Step(name).Table)
		require.NoError(t, err)
	}
	names := make([]string, 0, len(undo))
	for n := range undo {
		names = append(names, n)
	}
	_, err = pool.Exec(ctx, "UPDATE study_step SET state = 'waiting', rows = NULL WHERE run_id = $1 AND name = ANY($2)", runID, names)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "UPDATE study_run SET state = 'running', finished_at = NULL WHERE id = $1", runID)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "DELETE FROM river_job WHERE kind = 'beaver.study_step'")
	require.NoError(t, err)
	var attemptsBefore int64
	require.NoError(t, pool.QueryRow(ctx, "SELECT sum(attempts) FROM study_step WHERE run_id = $1 AND NOT (name = ANY($2))", runID, names).Scan(&attemptsBefore))
	for _, s := range plan.Steps {
		_, err := client.Insert(ctx, study.StepArgs{RunID: runID, Step: s.Name}, nil)
		require.NoError(t, err)
	}
	p = wait(t, pool, runID)
	require.Equal(t, study.StateDone, p.State, "error: %s", p.Error)
	after := tableOIDs(t, pool, plan)
	for _, s := range plan.Steps {
		if undo[s.Name] {
			require.NotZero(t, after[s.Name], "step %s was not recomputed", s.Name)
			continue
		}
		require.Equal(t, before[s.Name], after[s.Name], "step %s was done and ran again", s.Name)
	}
	var attemptsAfter int64
	require.NoError(t, pool.QueryRow(ctx, "SELECT sum(attempts) FROM study_step WHERE run_id = $1 AND NOT (name = ANY($2))", runID, names).Scan(&attemptsAfter))
	require.Equal(t, attemptsBefore, attemptsAfter, "done steps were attempted again")
	sameTables(t, pool, plan, ref)
}

// TestFailingStep sabotages a run: one step is marked done without its
// table, so the step reading it fails. The run fails at once, with a
// message naming the phase and the step and no SQL text.
func TestFailingStep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	runID, err := submit(ctx, pool, insertOnly(t, pool), example(t, "comparator-new-users.json"), nil, 0)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "UPDATE study_step SET state = 'done' WHERE run_id = $1 AND name = 'spells_p0'", runID)
	require.NoError(t, err)
	worker(t, pool, 2)
	p := wait(t, pool, runID)
	require.Equal(t, study.StateFailed, p.State)
	require.Contains(t, p.Error, "index, step candidates_p0: a table this step reads is missing")
	for _, w := range []string{"SELECT", "FROM", "spells_p0\""} {
		require.NotContains(t, p.Error, w)
	}
	var failed, open int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'failed'),
		count(*) FILTER (WHERE state IN ('waiting', 'queued', 'running')) FROM study_step WHERE run_id = $1`, runID).Scan(&failed, &open))
	require.Equal(t, 1, failed)
	require.Zero(t, open, "steps of a failed run are cancelled")
}

// TestSubmitInvalid: protocol problems reach the caller with JSON paths,
// and nothing is stored.
func TestSubmitInvalid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	c := insertOnly(t, pool)
	b := example(t, "comparator-new-users.json")
	bad := strings.Replace(string(b), `"min": 40`, `"min": -4`, 1)
	_, err := submit(ctx, pool, c, []byte(bad), nil, 0)
	require.Error(t, err)
	require.Contains(t, err.Error(), "phases.population.age")
	_, err = submit(ctx, pool, c, b, map[string]string{"nope": "1"}, 0)
	require.ErrorContains(t, err, `unknown parameter "nope"`)
	runs, err := service(pool, c).List(ctx, study.ListFilter{})
	require.NoError(t, err)
	require.Empty(t, runs)
	_, err = pool.Exec(ctx, "SELECT 1")
	require.NoError(t, err)
	_ = pgx.Identifier{}
}

// TestCancel cancels a queued run: its steps are cancelled and no step
// runs afterwards.
func TestCancel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	c := insertOnly(t, pool)
	runID, err := submit(ctx, pool, c, example(t, "comparator-new-users.json"), nil, 0)
	require.NoError(t, err)
	require.NoError(t, service(pool, c).Cancel(ctx, runID))
	worker(t, pool, 2)
	time.Sleep(300 * time.Millisecond)
	p, err := service(pool, nil).Status(ctx, runID)
	require.NoError(t, err)
	require.Equal(t, study.StateCancelled, p.State)
	require.Zero(t, p.StepsDone)
	for _, s := range p.Steps {
		require.Equal(t, study.StateCancelled, s.State, s.Name)
	}
	require.ErrorIs(t, service(pool, c).Cancel(ctx, runID+100), study.ErrNotFound)
}
