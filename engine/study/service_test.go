package study_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/report/results"
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
	proto2, err := svc.Protocol(ctx, ids[1])
	require.NoError(t, err)
	require.Equal(t, "comparator-new-users", proto2.Name)
	require.NotEmpty(t, proto2.Phases.Analyses, "the bound protocol, whole")
	_, err = svc.Protocol(ctx, 1<<40)
	require.ErrorIs(t, err, study.ErrNotFound)
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

// TestSubmitScope: a scoped submission restricts the population to the
// scope's ASLs (cohort.Options.Scope), records the scope, sorted and
// without duplicates, in the run and its document, and does not reuse the
// index steps of an unscoped run of the same protocol.
func TestSubmitScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	svc := service(pool, worker(t, pool, 2))
	proto := example(t, "comparator-new-users.json")
	run := func(scope []string) (int64, *results.Document) {
		sub, err := svc.Submit(ctx, study.SubmitRequest{Protocol: proto, Scope: scope})
		require.NoError(t, err)
		p, err := svc.Wait(ctx, sub.RunID, nil)
		require.NoError(t, err)
		require.Equal(t, study.StateDone, p.State, p.Error)
		doc, err := svc.Results(ctx, sub.RunID)
		require.NoError(t, err)
		return sub.RunID, doc
	}
	_, whole := run(nil)
	require.Nil(t, whole.Scope)
	id, scoped := run([]string{"302", "301", "302"})
	require.Equal(t, []string{"301", "302"}, scoped.Scope)
	p, err := svc.Status(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []string{"301", "302"}, p.Scope)
	for _, st := range p.Steps {
		if strings.HasPrefix(st.Name, "index_p") {
			require.Nil(t, st.ReusedFrom, "step %s of a scoped run reused an unscoped run's table", st.Name)
		}
	}
	// The population at the end of the attrition: the lines before the
	// scope's own line count the whole region.
	all, part := whole.Attrition[len(whole.Attrition)-1].Persons, scoped.Attrition[len(scoped.Attrition)-1].Persons
	require.NotNil(t, all)
	require.NotNil(t, part, "no person of the region in ASLs 301, 302?")
	require.Less(t, *part, *all, "the scope removed nobody")
}

// TestDataEndEnrolment: a protocol whose follow-up ends at the end of
// enrolment (follow_up.end.data_end "enrolment", issue 15 point 3) is
// compiled with the data version's latest end of enrolment, and its
// document says the end used and why. Before, the engine gave the
// compiler no end of enrolment and the submission failed.
func TestDataEndEnrolment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := region(t)
	svc := service(pool, worker(t, pool, 2))
	var p map[string]any
	require.NoError(t, json.Unmarshal(example(t, "comparator-new-users.json"), &p))
	end := p["phases"].(map[string]any)["follow_up"].(map[string]any)["end"].(map[string]any)
	end["data_end"] = "enrolment"
	b, err := json.Marshal(p)
	require.NoError(t, err)
	sub, err := svc.Submit(ctx, study.SubmitRequest{Protocol: b})
	require.NoError(t, err)
	pr, err := svc.Wait(ctx, sub.RunID, nil)
	require.NoError(t, err)
	require.Equal(t, study.StateDone, pr.State, pr.Error)
	doc, err := svc.Results(ctx, sub.RunID)
	require.NoError(t, err)
	require.Equal(t, "enrolment", doc.DataEndRule)
	var want string
	require.NoError(t, pool.QueryRow(ctx, `SELECT max(coalesce(e.end_date, i.import_date))::text FROM enrolment e,
		etl_data_version v JOIN etl_import i ON i.id = v.import_id`).Scan(&want))
	require.Equal(t, want, doc.DataEnd)
	require.Greater(t, doc.DataEnd, "2019-12-31", "the flows' end (the region's last year)")
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
