package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/web"
)

// world is what the access test acts on: ana's study (shared with vic) and
// a finished run of it.
type world struct {
	f       *fixture
	studyID int64
	runID   int64
	version int
}

// createStudy saves the comparator example as one of c's studies.
func createStudy(t testing.TB, c *client, name string) (int64, int) {
	t.Helper()
	var st struct {
		ID      int64 `json:"id"`
		Version int   `json:"version"`
	}
	c.json(t, http.MethodPost, "/api/v1/studies", map[string]any{"name": name, "description": "test",
		"protocol": example(t, "comparator-new-users.json")}, http.StatusCreated, &st)
	return st.ID, st.Version
}

// submit runs a study and returns the run's id.
func submit(t testing.TB, c *client, studyID int64) int64 {
	t.Helper()
	var acc struct {
		ID    int64  `json:"id"`
		State string `json:"state"`
	}
	c.json(t, http.MethodPost, fmt.Sprintf("/api/v1/studies/%d/runs", studyID), map[string]any{"params": map[string]string{}}, http.StatusAccepted, &acc)
	require.Contains(t, []string{"queued", "running", "done"}, acc.State, "a run whose steps are all reused may be done at once")
	return acc.ID
}

// follow reads a run's /events stream to its end and returns the states
// seen, the last first-class event's run view and the number of events.
func follow(t testing.TB, c *client, runID int64) (states []string, last web.RunView) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/runs/%d/events", c.base, runID), nil)
	require.NoError(t, err)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "run":
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &last))
			if len(states) == 0 || states[len(states)-1] != last.State {
				states = append(states, last.State)
			}
		case strings.HasPrefix(line, "data: ") && event == "end":
			return states, last
		}
	}
	require.NoError(t, sc.Err())
	t.Fatalf("the event stream of run %d ended without an end event (states %v)", runID, states)
	return nil, last
}

// request is how the access test calls one route: a path with ids filled
// in and a body, made fresh for each call (a delete needs its own object).
type request func(t testing.TB, w *world) (path string, body any)

func fixed(path string, body any) request {
	return func(testing.TB, *world) (string, any) { return path, body }
}

// requests has an entry for every route of the table; a route without one
// fails TestAccessMatrix.
var requests = map[string]request{
	"GET /healthz":             fixed("/healthz", nil),
	"GET /readyz":              fixed("/readyz", nil),
	"GET /metrics":             fixed("/metrics", nil),
	"GET /":                    fixed("/", nil),
	"GET /static/*":            fixed("/static/nope.js", nil),
	"GET /api/v1/openapi.json": fixed("/api/v1/openapi.json", nil),
	"POST /api/v1/session":     fixed("/api/v1/session", map[string]string{"username": "nobody", "password": "x"}),
	"DELETE /api/v1/session":   nil, // signs the caller out: tested in TestCSRFAndTokens
	"GET /api/v1/me":           fixed("/api/v1/me", nil),
	"GET /api/v1/tokens":       fixed("/api/v1/tokens", nil),
	"POST /api/v1/tokens":      fixed("/api/v1/tokens", map[string]any{"name": "t"}),
	"DELETE /api/v1/tokens/{id}": func(t testing.TB, w *world) (string, any) {
		return "/api/v1/tokens/999999", nil // nobody's: 404 for every signed-in caller
	},
	"GET /api/v1/studies":  fixed("/api/v1/studies?q=comparator", nil),
	"POST /api/v1/studies": fixed("/api/v1/studies", map[string]any{"name": "new", "protocol": map[string]any{"version": 1}}),
	"GET /api/v1/studies/{id}": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/studies/%d", w.studyID), nil
	},
	"PUT /api/v1/studies/{id}": func(t testing.TB, w *world) (string, any) {
		id, v := createStudy(t, w.f.ana, "to edit")
		return fmt.Sprintf("/api/v1/studies/%d", id), map[string]any{"name": "edited", "version": v, "protocol": map[string]any{"version": 1}}
	},
	"DELETE /api/v1/studies/{id}": func(t testing.TB, w *world) (string, any) {
		id, _ := createStudy(t, w.f.ana, "to delete")
		return fmt.Sprintf("/api/v1/studies/%d", id), nil
	},
	"GET /api/v1/studies/{id}/versions": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/studies/%d/versions", w.studyID), nil
	},
	"POST /api/v1/studies/{id}/share": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/studies/%d/share", w.studyID), map[string]string{"username": "vic", "access": "read"}
	},
	"GET /api/v1/studies/{id}/shares": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/studies/%d/shares", w.studyID), nil
	},
	"POST /api/v1/protocols/validate": fixed("/api/v1/protocols/validate", map[string]any{"version": 1}),
	"POST /api/v1/studies/{id}/runs": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/studies/%d/runs", w.studyID), map[string]any{}
	},
	"GET /api/v1/studies/{id}/runs": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/studies/%d/runs", w.studyID), nil
	},
	"GET /api/v1/runs/{id}": func(t testing.TB, w *world) (string, any) { return fmt.Sprintf("/api/v1/runs/%d", w.runID), nil },
	"GET /api/v1/runs/{id}/events": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/runs/%d/events", w.runID), nil
	},
	"POST /api/v1/runs/{id}/cancel": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/runs/%d/cancel", w.runID), nil // ended: cancelling changes nothing
	},
	"DELETE /api/v1/runs/{id}": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/runs/%d", submit(t, w.f.ana, w.studyID)), nil
	},
	"GET /api/v1/runs/{id}/results": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/runs/%d/results", w.runID), nil
	},
	"GET /api/v1/runs/{id}/results.csv": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/runs/%d/results.csv", w.runID), nil
	},
	"GET /api/v1/runs/{id}/charts/{chart}": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/runs/%d/charts/km.svg", w.runID), nil
	},
	"GET /api/v1/runs/{id}/report.html": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/runs/%d/report.html?lang=it", w.runID), nil
	},
	"GET /api/v1/runs/{id}/report.pdf": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/runs/%d/report.pdf", w.runID), nil
	},
	"POST /api/v1/protocols/diagram": func(t testing.TB, w *world) (string, any) {
		return "/api/v1/protocols/diagram", example(t, "comparator-new-users.json")
	},
	"GET /api/v1/runs/{id}/results.xlsx": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/runs/%d/results.xlsx", w.runID), nil
	},
	"GET /api/v1/codes":     fixed("/api/v1/codes?system=icd9cm_dx&q=infarto", nil),
	"GET /api/v1/codelists": fixed("/api/v1/codelists", nil),
	"GET /api/v1/areas":     fixed("/api/v1/areas", nil),
	"GET /api/v1/users":     fixed("/api/v1/users", nil),
	"POST /api/v1/users": func(t testing.TB, w *world) (string, any) {
		return "/api/v1/users", map[string]any{"username": fmt.Sprintf("u%d", time.Now().UnixNano()), "role": "viewer", "password": "long-enough-1"}
	},
	"PATCH /api/v1/users/{id}": func(t testing.TB, w *world) (string, any) {
		return fmt.Sprintf("/api/v1/users/%d", w.f.bob.user.ID), map[string]any{"scope": []string{}}
	},
	"POST /api/v1/imports":                  nil, // multipart: TestUploads
	"GET /api/v1/imports":                   fixed("/api/v1/imports", nil),
	"GET /api/v1/imports/{id}":              fixed("/api/v1/imports/999999", nil),
	"GET /api/v1/imports/{id}/quarantine":   fixed("/api/v1/imports/999999/quarantine", nil),
	"GET /api/v1/data/diagnostics":          fixed("/api/v1/data/diagnostics", nil),
	"GET /api/v1/data/diagnostics/rows.svg": fixed("/api/v1/data/diagnostics/rows.svg?lang=it", nil),
	"GET /api/v1/settings":                  fixed("/api/v1/settings", nil),
	"PUT /api/v1/settings":                  fixed("/api/v1/settings", map[string]any{"min_count": 5}),
	"GET /api/v1/audit":                     fixed("/api/v1/audit?limit=5", nil),
}

// wantAccess is who may call each route, written here independently of
// the route table: a route whose rule differs fails TestAccessMatrix.
var wantAccess = map[string]string{
	"GET /healthz": "public", "GET /readyz": "public", "GET /metrics": "public", "GET /": "public",
	"GET /static/*": "public", "GET /api/v1/openapi.json": "public", "POST /api/v1/session": "public",
	"DELETE /api/v1/session": "any signed-in user", "GET /api/v1/me": "any signed-in user",
	"GET /api/v1/tokens": "any signed-in user", "POST /api/v1/tokens": "any signed-in user", "DELETE /api/v1/tokens/{id}": "any signed-in user",
	"GET /api/v1/studies": "any signed-in user", "POST /api/v1/studies": "analysts and admins",
	"GET /api/v1/studies/{id}": "any signed-in user", "PUT /api/v1/studies/{id}": "analysts and admins", "DELETE /api/v1/studies/{id}": "analysts and admins",
	"GET /api/v1/studies/{id}/versions": "any signed-in user", "POST /api/v1/studies/{id}/share": "analysts and admins",
	"GET /api/v1/studies/{id}/shares": "analysts and admins", "POST /api/v1/protocols/validate": "any signed-in user",
	"POST /api/v1/studies/{id}/runs": "analysts and admins", "GET /api/v1/studies/{id}/runs": "any signed-in user",
	"GET /api/v1/runs/{id}": "any signed-in user", "GET /api/v1/runs/{id}/events": "any signed-in user",
	"POST /api/v1/runs/{id}/cancel": "analysts and admins", "DELETE /api/v1/runs/{id}": "analysts and admins",
	"GET /api/v1/runs/{id}/results": "any signed-in user", "GET /api/v1/runs/{id}/results.csv": "any signed-in user",
	"GET /api/v1/runs/{id}/results.xlsx":   "any signed-in user",
	"GET /api/v1/runs/{id}/charts/{chart}": "any signed-in user", "GET /api/v1/runs/{id}/report.html": "any signed-in user",
	"GET /api/v1/runs/{id}/report.pdf": "any signed-in user", "POST /api/v1/protocols/diagram": "any signed-in user",
	"GET /api/v1/codes": "any signed-in user", "GET /api/v1/codelists": "any signed-in user", "GET /api/v1/areas": "any signed-in user",
	"GET /api/v1/users": "admins", "POST /api/v1/users": "admins", "PATCH /api/v1/users/{id}": "admins",
	"POST /api/v1/imports": "admins", "GET /api/v1/imports": "admins", "GET /api/v1/imports/{id}": "admins",
	"GET /api/v1/imports/{id}/quarantine": "admins", "GET /api/v1/data/diagnostics": "admins",
	"GET /api/v1/data/diagnostics/rows.svg": "admins",
	"GET /api/v1/settings":                  "admins", "PUT /api/v1/settings": "admins", "GET /api/v1/audit": "admins",
}

// callers of the matrix.
const (
	anonymous = "anonymous"
	viewer    = "viewer (shared)"
	owner     = "analyst owner"
	other     = "other analyst"
	admin     = "admin"
	token     = "owner's token"
	noCSRF    = "owner without CSRF"
)

// expected is the status a caller gets on a route, derived from the route's
// access rule and whether it acts on ana's study.
func expected(method, path, access, caller string, success int) int {
	if access == "public" {
		if path == "/metrics" && caller != admin {
			return http.StatusUnauthorized
		}
		return success
	}
	if caller == anonymous {
		return http.StatusUnauthorized
	}
	if caller == noCSRF && method != http.MethodGet {
		return http.StatusForbidden
	}
	if caller == noCSRF || caller == token {
		caller = owner
	}
	object := strings.Contains(path, "/studies/{id}") || strings.Contains(path, "/runs/{id}")
	switch access {
	case "admins":
		if caller != admin {
			return http.StatusForbidden
		}
		return success
	case "analysts and admins":
		if caller == viewer {
			return http.StatusForbidden
		}
	}
	if !object {
		return success
	}
	switch caller {
	case owner:
		return success
	case viewer: // shared to read: reads work, and owner-only routes are 403
		if method == http.MethodGet && path != "/api/v1/studies/{id}/shares" {
			return success
		}
		return http.StatusForbidden
	default: // other analyst, admin: the study does not exist for them
		return http.StatusNotFound
	}
}

func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{region: true})
	w := &world{f: f}
	w.studyID, w.version = createStudy(t, f.ana, "comparator")
	f.ana.json(t, http.MethodPost, fmt.Sprintf("/api/v1/studies/%d/share", w.studyID), map[string]string{"username": "vic", "access": "read"}, http.StatusNoContent, nil)
	w.runID = submit(t, f.ana, w.studyID)
	states, last := follow(t, f.ana, w.runID)
	require.Equal(t, "done", last.State, "states %v", states)

	var tok struct {
		Token string `json:"token"`
	}
	f.ana.json(t, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "matrix"}, http.StatusCreated, &tok)
	noCSRFClient := *f.ana
	noCSRFClient.noCSRF = true
	callers := []struct {
		name string
		c    *client
	}{
		{anonymous, f.anon}, {viewer, f.vic}, {owner, f.ana}, {other, f.bob}, {admin, f.admin},
		{token, &client{name: token, http: &http.Client{}, base: f.srv.URL, token: tok.Token}},
		{noCSRF, &noCSRFClient},
	}
	var doc map[string]any
	f.anon.json(t, http.MethodGet, "/api/v1/openapi.json", nil, http.StatusOK, &doc)
	paths := doc["paths"].(map[string]any)
	for _, key := range f.server.RegisteredRoutes() {
		method, path, _ := strings.Cut(key, " ")
		mk, ok := requests[key]
		require.True(t, ok, "route %s has no entry in the access test's requests: add one", key)
		if mk == nil {
			continue
		}
		op := paths[path].(map[string]any)[strings.ToLower(method)].(map[string]any)
		access, ok := wantAccess[key]
		require.True(t, ok, "route %s has no entry in wantAccess: add one", key)
		require.Equal(t, access, op["x-access"], "%s: the route table's access rule", key)
		success := http.StatusOK
		for code := range op["responses"].(map[string]any) {
			if code != "default" {
				fmt.Sscan(code, &success)
			}
		}
		switch key {
		case "GET /static/*", "DELETE /api/v1/tokens/{id}", "GET /api/v1/imports/{id}", "GET /api/v1/imports/{id}/quarantine":
			success = http.StatusNotFound // no such file or token, for anybody
		case "POST /api/v1/session":
			success = http.StatusUnauthorized // a wrong password
		}
		for _, cl := range callers {
			p, body := mk(t, w)
			want := expected(method, path, access, cl.name, success)
			if key == "POST /api/v1/studies/{id}/runs" && want == http.StatusAccepted {
				want = http.StatusAccepted
			}
			var status int
			var got []byte
			if key == "GET /api/v1/runs/{id}/events" && want == http.StatusOK {
				_, last := follow(t, cl.c, w.runID)
				require.Equal(t, "done", last.State)
				continue
			}
			status, got = cl.c.do(t, method, p, body)
			require.Equal(t, want, status, "%s %s as %s: %.300s", method, p, cl.name, got)
		}
	}
}
