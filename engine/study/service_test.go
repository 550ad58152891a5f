package study_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/schema/errs"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// TestServiceList: runs are listed newest first, by saved study and by
// submitter, with what the web API shows of them.
func TestServiceList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	svc := service(pool, insertOnly(t, pool))
	var user, other, saved int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO app_user (name, role, password_hash) VALUES ('ann', 'analyst', 'x') RETURNING id`).Scan(&user))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO app_user (name, role, password_hash) VALUES ('bob', 'analyst', 'x') RETURNING id`).Scan(&other))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO study (owner_id, name, protocol) VALUES ($1, 's', '{}') RETURNING id`, user).Scan(&saved))
	proto := example(t, "comparator-new-users.json")
	var ids []int64
	for _, req := range []study.SubmitRequest{
		{Protocol: proto},
		{Protocol: proto, SubmittedBy: user, StudyID: saved},
		{Protocol: proto, SubmittedBy: other},
		{Protocol: proto, SubmittedBy: user},
	} {
		sub, err := svc.Submit(ctx, req)
		require.NoError(t, err)
		ids = append(ids, sub.RunID)
	}
	idsOf := func(f study.ListFilter) []int64 {
		runs, err := svc.List(ctx, f)
		require.NoError(t, err)
		out := []int64{}
		for _, r := range runs {
			out = append(out, r.ID)
			require.Equal(t, study.StateQueued, r.State)
			require.Equal(t, "comparator-new-users", r.ProtocolName)
		}
		return out
	}
	require.Equal(t, []int64{ids[3], ids[2], ids[1], ids[0]}, idsOf(study.ListFilter{}))
	require.Equal(t, []int64{ids[3], ids[1]}, idsOf(study.ListFilter{SubmittedBy: user}))
	require.Equal(t, []int64{ids[1]}, idsOf(study.ListFilter{StudyID: saved}))
	require.Equal(t, []int64{ids[3]}, idsOf(study.ListFilter{SubmittedBy: user, Limit: 1}))
	runs, err := svc.List(ctx, study.ListFilter{StudyID: saved})
	require.NoError(t, err)
	require.Equal(t, saved, runs[0].StudyID)
	require.Equal(t, user, runs[0].SubmittedBy)
	require.Equal(t, "ann", runs[0].SubmitterName)
	require.Zero(t, runs[0].Percent, "queued: no step done")
	require.Equal(t, []int64{ids[2]}, idsOf(study.ListFilter{RunID: ids[2]}))
	p, err := svc.Status(ctx, ids[1])
	require.NoError(t, err)
	require.Equal(t, saved, p.StudyID)
	require.Equal(t, user, p.SubmittedBy)
}

// TestServiceErrors: the service's errors wrap the kinds of schema/errs,
// and ErrNoData carries no instructions for a command line.
func TestServiceErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	empty := pgtest.Pool(t)
	svc := service(empty, insertOnly(t, empty))
	_, err := svc.Submit(ctx, study.SubmitRequest{Protocol: example(t, "comparator-new-users.json")})
	require.ErrorIs(t, err, study.ErrNoData)
	require.Equal(t, errs.Unavailable, errs.KindOf(err))
	require.NotContains(t, err.Error(), "beaver")

	_, err = svc.Status(ctx, 42)
	require.ErrorIs(t, err, study.ErrNotFound)
	require.Equal(t, errs.NotFound, errs.KindOf(err))
	require.EqualError(t, err, "study: no such run: 42")
	_, err = svc.Results(ctx, 42)
	require.Equal(t, errs.NotFound, errs.KindOf(err))

	_, err = svc.Submit(ctx, study.SubmitRequest{Protocol: []byte(`{`)})
	require.Error(t, err)
}

// TestSubmitScopeRefused: while the compiler cannot restrict a population
// to ASLs, a scoped submission is refused rather than run on the whole
// region.
func TestSubmitScopeRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	svc := service(pool, insertOnly(t, pool))
	_, err := svc.Submit(ctx, study.SubmitRequest{Protocol: example(t, "comparator-new-users.json"), Scope: []string{"301"}})
	require.Equal(t, errs.Unavailable, errs.KindOf(err), "%v", err)
	runs, err := svc.List(ctx, study.ListFilter{})
	require.NoError(t, err)
	require.Empty(t, runs)
}

// TestDesignWarnings: cohort.Check's warnings of a submitted protocol come
// back from Submit, are kept with the run (Status, List) and open the
// results document's warnings (issue 15, point 1: they were never shown).
func TestDesignWarnings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	svc := service(pool, worker(t, pool, 2))
	var p map[string]any
	require.NoError(t, json.Unmarshal(example(t, "comparator-new-users.json"), &p))
	phases := p["phases"].(map[string]any)
	covs := phases["covariates"].([]any)
	extra := map[string]any{}
	for k, v := range covs[len(covs)-1].(map[string]any) {
		extra[k] = v
	}
	extra["name"] = "unused_copy"
	phases["covariates"] = append(covs, extra)
	b, err := json.Marshal(p)
	require.NoError(t, err)

	const want = `phases.covariates[%d]: covariate "unused_copy" is not used by any analysis or transformation`
	w := fmt.Sprintf(want, len(covs))
	sub, err := svc.Submit(ctx, study.SubmitRequest{Protocol: b})
	require.NoError(t, err)
	require.Equal(t, []string{w}, sub.Warnings)
	p0, err := svc.Wait(ctx, sub.RunID, nil)
	require.NoError(t, err)
	require.Equal(t, study.StateDone, p0.State, p0.Error)
	require.Equal(t, []string{w}, p0.Warnings)
	runs, err := svc.List(ctx, study.ListFilter{})
	require.NoError(t, err)
	require.Equal(t, []string{w}, runs[0].Warnings)
	require.Equal(t, 100.0, runs[0].Percent)
	doc, err := svc.Results(ctx, sub.RunID)
	require.NoError(t, err)
	require.NotEmpty(t, doc.Warnings)
	require.Equal(t, w, doc.Warnings[0])
}
