package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/beaver-analytics/beaver/report/suppress"
	"github.com/beaver-analytics/beaver/web"
)

// idOffset makes the region's person ids 13-digit numbers that cannot be
// mistaken for a count in a response.
const idOffset = 7_300_000_000_000

// TestScenario is an analyst's session through the API: save the
// comparator example, check it, run it, follow the run to its end, read
// and export the results; another analyst sees none of it; no response of
// the whole session holds a person identifier.
func TestScenario(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{region: true, idOffset: idOffset})
	ctx := context.Background()

	var v web.Validation
	f.ana.json(t, http.MethodPost, "/api/v1/protocols/validate", example(t, "comparator-new-users.json"), http.StatusOK, &v)
	require.Empty(t, v.Errors)
	require.Contains(t, v.Methods["en"], "cohort")
	require.NotEmpty(t, v.Methods["it"])
	require.NotEqual(t, v.Methods["en"], v.Methods["it"])
	// A broken protocol: errors with their JSON paths, no methods.
	v = web.Validation{}
	f.ana.json(t, http.MethodPost, "/api/v1/protocols/validate", `{"version": 1, "phases": {"follow_up": {"end": {"exposure_end": true}}}}`, http.StatusOK, &v)
	require.NotEmpty(t, v.Errors)
	require.Empty(t, v.Methods)
	paths := []string{}
	for _, e := range v.Errors {
		paths = append(paths, e.Path)
	}
	require.Contains(t, strings.Join(paths, " "), "phases.follow_up.end")

	// An unfinished protocol may be saved, but not run: 422 with every
	// problem at its JSON path.
	draftID, _ := func() (int64, int) {
		var st struct {
			ID      int64 `json:"id"`
			Version int   `json:"version"`
		}
		f.ana.json(t, http.MethodPost, "/api/v1/studies", map[string]any{"name": "draft", "protocol": map[string]any{"version": 1, "name": "draft"}}, http.StatusCreated, &st)
		return st.ID, st.Version
	}()
	var unproc apiError
	f.ana.json(t, http.MethodPost, fmt.Sprintf("/api/v1/studies/%d/runs", draftID), map[string]any{}, http.StatusUnprocessableEntity, &unproc)
	require.Equal(t, "invalid", unproc.Error.Code)
	require.NotEmpty(t, unproc.Error.Details)
	require.NotEmpty(t, unproc.Error.Details[0].Path)

	studyID, version := createStudy(t, f.ana, "Comparator, new users")
	// Save a second version; an edit of the first one is then a conflict.
	var st struct {
		Version int `json:"version"`
	}
	f.ana.json(t, http.MethodPut, fmt.Sprintf("/api/v1/studies/%d", studyID), map[string]any{"name": "Comparator, new users (v2)", "version": version,
		"protocol": example(t, "comparator-new-users.json")}, http.StatusOK, &st)
	require.Equal(t, version+1, st.Version)
	var conflict struct {
		Error          struct{ Code string } `json:"error"`
		CurrentVersion int                   `json:"current_version"`
	}
	f.ana.json(t, http.MethodPut, fmt.Sprintf("/api/v1/studies/%d", studyID), map[string]any{"name": "stale", "version": version,
		"protocol": map[string]any{"version": 1}}, http.StatusConflict, &conflict)
	require.Equal(t, "conflict", conflict.Error.Code)
	require.Equal(t, version+1, conflict.CurrentVersion)
	var versions struct {
		Versions []struct{ Version int } `json:"versions"`
	}
	f.ana.json(t, http.MethodGet, fmt.Sprintf("/api/v1/studies/%d/versions", studyID), nil, http.StatusOK, &versions)
	require.Len(t, versions.Versions, 2)

	// Run and follow.
	runID := submit(t, f.ana, studyID)
	states, last := follow(t, f.ana, runID)
	require.Equal(t, "done", states[len(states)-1], "states %v", states)
	require.Equal(t, 100.0, last.Percent)
	require.NotEmpty(t, last.Phases)
	for _, ph := range last.Phases {
		require.Equal(t, ph.Total, ph.Done, "phase %s", ph.Phase)
	}
	var list struct {
		Studies []struct {
			ID      int64 `json:"id"`
			LastRun *struct {
				ID    int64  `json:"id"`
				State string `json:"state"`
			} `json:"last_run"`
		} `json:"studies"`
		Total int `json:"total"`
	}
	f.ana.json(t, http.MethodGet, "/api/v1/studies?q=comparator", nil, http.StatusOK, &list)
	require.Equal(t, 1, list.Total)
	require.Equal(t, runID, list.Studies[0].LastRun.ID)
	require.Equal(t, "done", list.Studies[0].LastRun.State)
	// The run says which version of the study it ran.
	var rv struct {
		StudyVersion *int `json:"study_version"`
	}
	f.ana.json(t, http.MethodGet, fmt.Sprintf("/api/v1/runs/%d", runID), nil, http.StatusOK, &rv)
	require.NotNil(t, rv.StudyVersion)
	require.Equal(t, version+1, *rv.StudyVersion)
	var runList struct {
		Runs []struct {
			ID           int64 `json:"id"`
			StudyVersion *int  `json:"study_version"`
		} `json:"runs"`
	}
	f.ana.json(t, http.MethodGet, fmt.Sprintf("/api/v1/studies/%d/runs", studyID), nil, http.StatusOK, &runList)
	require.Equal(t, runID, runList.Runs[0].ID)
	require.NotNil(t, runList.Runs[0].StudyVersion)
	require.Equal(t, version+1, *runList.Runs[0].StudyVersion)

	// Results, CSV and XLSX agree.
	var doc struct {
		Attrition []struct {
			Label   string `json:"label"`
			Persons *int64 `json:"persons"`
		} `json:"attrition"`
		Analyses map[string]json.RawMessage `json:"analyses"`
	}
	f.ana.json(t, http.MethodGet, fmt.Sprintf("/api/v1/runs/%d/results", runID), nil, http.StatusOK, &doc)
	require.NotEmpty(t, doc.Analyses)
	require.NotNil(t, doc.Attrition[0].Persons)
	firstPersons := *doc.Attrition[0].Persons

	status, csvBody := f.ana.do(t, http.MethodGet, fmt.Sprintf("/api/v1/runs/%d/results.csv", runID), nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(csvBody), "# attrition\n")
	require.Contains(t, string(csvBody), doc.Attrition[0].Label)

	status, xlsx := f.ana.do(t, http.MethodGet, fmt.Sprintf("/api/v1/runs/%d/results.xlsx", runID), nil)
	require.Equal(t, http.StatusOK, status)
	book, err := excelize.OpenReader(bytes.NewReader(xlsx))
	require.NoError(t, err)
	defer book.Close()
	require.Contains(t, book.GetSheetList(), "attrition")
	rows, err := book.GetRows("attrition")
	require.NoError(t, err)
	col := -1
	for i, h := range rows[0] {
		if h == "persons" {
			col = i
		}
	}
	require.GreaterOrEqual(t, col, 0, "attrition sheet header %v", rows[0])
	require.Equal(t, strconv.FormatInt(firstPersons, 10), rows[1][col], "the XLSX holds the document's number")
	require.Greater(t, len(book.GetSheetList()), 3, "one sheet per table")
	for _, sh := range book.GetSheetList() {
		require.NotContains(t, sh, "args", "an attrition line's label arguments are no table of their own")
	}

	// At k = 10 (an admin's setting) the served document, CSV and XLSX hold
	// no count from 1 to 9.
	f.admin.json(t, http.MethodPut, "/api/v1/settings", map[string]any{"min_count": 10}, http.StatusOK, nil)
	status, served := f.ana.do(t, http.MethodGet, fmt.Sprintf("/api/v1/runs/%d/results", runID), nil)
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, smallCounts(t, served, 10))
	require.Contains(t, string(served), `"min_count":10`)
	status, csv10 := f.ana.do(t, http.MethodGet, fmt.Sprintf("/api/v1/runs/%d/results.csv", runID), nil)
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, string(csv10), "\nmin_count,5\n")

	// Another analyst: every route of the study and the run is a 404.
	for _, p := range []string{
		fmt.Sprintf("/api/v1/studies/%d", studyID), fmt.Sprintf("/api/v1/studies/%d/runs", studyID),
		fmt.Sprintf("/api/v1/studies/%d/versions", studyID), fmt.Sprintf("/api/v1/runs/%d", runID),
		fmt.Sprintf("/api/v1/runs/%d/events", runID), fmt.Sprintf("/api/v1/runs/%d/results", runID),
		fmt.Sprintf("/api/v1/runs/%d/results.csv", runID), fmt.Sprintf("/api/v1/runs/%d/results.xlsx", runID),
	} {
		status, body := f.bob.do(t, http.MethodGet, p, nil)
		require.Equal(t, http.StatusNotFound, status, "%s: %s", p, body)
	}
	f.bob.json(t, http.MethodGet, "/api/v1/studies", nil, http.StatusOK, &list)
	require.Zero(t, list.Total)

	// A user scoped to ASL 301 runs the same protocol: fewer persons, from
	// the first line of the attrition on, and the document names the scope.
	samStudy, _ := createStudy(t, f.sam, "Comparator, ASL 301")
	samRun := submit(t, f.sam, samStudy)
	_, samLast := follow(t, f.sam, samRun)
	require.Equal(t, "done", samLast.State)
	require.Equal(t, []string{"301"}, samLast.Scope)
	var scoped struct {
		Scope     []string `json:"scope"`
		Attrition []struct {
			Label   string `json:"label"`
			Persons *int64 `json:"persons"`
		} `json:"attrition"`
	}
	f.sam.json(t, http.MethodGet, fmt.Sprintf("/api/v1/runs/%d/results", samRun), nil, http.StatusOK, &scoped)
	require.Equal(t, []string{"301"}, scoped.Scope)
	require.Contains(t, scoped.Attrition[0].Label, "data scope (301)")
	require.NotNil(t, scoped.Attrition[0].Persons)
	require.Less(t, *scoped.Attrition[0].Persons, firstPersons, "a scoped run counts fewer persons from its first line on")
	require.Greater(t, *scoped.Attrition[0].Persons, int64(0))

	// The admin reads the audit trail of it all.
	var audit struct {
		Events []struct{ Action string } `json:"events"`
	}
	f.admin.json(t, http.MethodGet, "/api/v1/audit?limit=200", nil, http.StatusOK, &audit)
	seen := map[string]bool{}
	for _, e := range audit.Events {
		seen[e.Action] = true
	}
	for _, a := range []string{"login", "study_create", "study_edit", "run_submit", "results_read", "results_export"} {
		require.True(t, seen[a], "audit log lacks %s", a)
	}

	// Code search and areas, as an editor uses them.
	var codes struct {
		Codes []struct{ Code, Description string } `json:"codes"`
	}
	f.ana.json(t, http.MethodGet, "/api/v1/codes?system=icd9cm_dx&q=410", nil, http.StatusOK, &codes)
	require.NotEmpty(t, codes.Codes)
	require.True(t, strings.HasPrefix(codes.Codes[0].Code, "410"))
	f.ana.json(t, http.MethodGet, "/api/v1/codes?system=icd9cm_dx&q=MYOCARDIAL+acute", nil, http.StatusOK, &codes)
	require.NotEmpty(t, codes.Codes, "words of the description, any order and case")
	// Exemptions have Italian descriptions: accents do not matter.
	f.ana.json(t, http.MethodGet, "/api/v1/codes?system=exemption&q=diabete", nil, http.StatusOK, &codes)
	require.NotEmpty(t, codes.Codes)
	f.ana.json(t, http.MethodGet, "/api/v1/areas", nil, http.StatusOK, nil)
	f.ana.json(t, http.MethodGet, "/api/v1/codelists", nil, http.StatusOK, nil)

	// No response of the session holds a person identifier or an event id.
	var ids []string
	rowsIDs, err := f.pool.Query(ctx, `SELECT person_id::text FROM person
		UNION SELECT discharge_id FROM sdo UNION SELECT access_id FROM er`)
	require.NoError(t, err)
	for rowsIDs.Next() {
		var s string
		require.NoError(t, rowsIDs.Scan(&s))
		ids = append(ids, s)
	}
	require.NoError(t, rowsIDs.Err())
	require.Greater(t, len(ids), 400)
	f.rec.mu.Lock()
	bodies := f.rec.bodies
	f.rec.mu.Unlock()
	require.Greater(t, len(bodies), 20)
	for i, b := range bodies {
		for _, id := range ids {
			require.False(t, bytes.Contains(b, []byte(id)), "response %d holds the identifier %s", i, id)
		}
	}
}

// smallCounts lists every count from 1 to k-1 in a JSON document.
func smallCounts(t testing.TB, b []byte, k float64) []string {
	t.Helper()
	out, err := suppress.SmallCounts(b, int64(k))
	require.NoError(t, err)
	return out
}
