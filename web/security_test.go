package web_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/web"
)

func TestSignInFailuresAreAlikeAndRateLimited(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{limit: &web.RateLimit{PerName: 3, PerAddress: 5, Window: time.Minute}})
	status, wrong := f.anon.do(t, http.MethodPost, "/api/v1/session", `{"username":"ana","password":"wrong-password"}`)
	require.Equal(t, http.StatusUnauthorized, status)
	status, unknown := f.anon.do(t, http.MethodPost, "/api/v1/session", `{"username":"nobody","password":"wrong-password"}`)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, string(wrong), string(unknown), "an unknown user and a wrong password get the same answer")

	// Two more failures for ana reach the per-name limit of 3.
	f.anon.do(t, http.MethodPost, "/api/v1/session", `{"username":"ana","password":"wrong-password"}`)
	f.anon.do(t, http.MethodPost, "/api/v1/session", `{"username":"ana","password":"wrong-password"}`)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/v1/session", strings.NewReader(`{"username":"ana","password":"ana-password"}`))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "even the right password waits once the name is limited")
	require.NotEmpty(t, resp.Header.Get("Retry-After"))

	// The address limit (5) is reached by failures on other names.
	f.anon.do(t, http.MethodPost, "/api/v1/session", `{"username":"x1","password":"wrong-password"}`)
	status, _ = f.anon.do(t, http.MethodPost, "/api/v1/session", `{"username":"bob","password":"bob-password"}`)
	require.Equal(t, http.StatusTooManyRequests, status)

	// The failures are in the audit log, with the name cut short.
	var log struct {
		Events []struct{ Action, Target string } `json:"events"`
	}
	f.admin.json(t, http.MethodGet, "/api/v1/audit?action=login_failed", nil, http.StatusOK, &log)
	require.GreaterOrEqual(t, len(log.Events), 4)
}

// TestSignInLimitSharedByServers: two server processes on one database
// (behind one balancer) share the limit; the names are not stored.
func TestSignInLimitSharedByServers(t *testing.T) {
	t.Parallel()
	limit := &web.RateLimit{PerName: 2, PerAddress: 100, Window: time.Minute}
	f := newFixture(t, fixtureOpts{limit: limit})
	other := httptest.NewServer(web.New(web.Config{Pool: f.pool, Logger: slog.New(slog.DiscardHandler), DataDir: t.TempDir(), LoginLimit: limit}))
	t.Cleanup(other.Close)
	try := func(base, password string) int {
		resp, err := http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"username":"ana","password":"`+password+`"}`))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusUnauthorized, try(f.srv.URL, "wrong-password"))
	require.Equal(t, http.StatusUnauthorized, try(other.URL, "wrong-password"))
	require.Equal(t, http.StatusTooManyRequests, try(f.srv.URL, "ana-password"), "one failure on each server reaches the limit of 2")
	require.Equal(t, http.StatusTooManyRequests, try(other.URL, "ana-password"))
	var hashed, plain int
	require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE key_hash = sha256('name:ana'::bytea)),
		count(*) FILTER (WHERE position('ana'::bytea IN key_hash) > 0) FROM login_failure`).Scan(&hashed, &plain))
	require.Equal(t, 2, hashed, "two failures of the name, stored as its hash")
	require.Zero(t, plain, "the user name itself is not stored")
	// Another name is not limited; its sign-in clears nothing of ana's.
	require.Equal(t, http.StatusOK, func() int {
		resp, err := http.Post(other.URL+"/api/v1/session", "application/json", strings.NewReader(`{"username":"bob","password":"bob-password"}`))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}())
	require.Equal(t, http.StatusTooManyRequests, try(other.URL, "ana-password"))
}

func TestCSRFAndTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	draft := map[string]any{"name": "s", "protocol": map[string]any{"version": 1}}

	noCSRF := *f.ana
	noCSRF.noCSRF = true
	status, body := noCSRF.do(t, http.MethodPost, "/api/v1/studies", draft)
	require.Equal(t, http.StatusForbidden, status, "%s", body)
	require.Contains(t, string(body), "X-CSRF-Token")
	wrong := *f.ana
	wrong.csrf = f.bob.csrf
	status, _ = wrong.do(t, http.MethodPost, "/api/v1/studies", draft)
	require.Equal(t, http.StatusForbidden, status, "another session's CSRF token")
	f.ana.json(t, http.MethodPost, "/api/v1/studies", draft, http.StatusCreated, nil)

	// A token works on every route without CSRF, and is shown once.
	var tok struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	f.ana.json(t, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "script"}, http.StatusCreated, &tok)
	require.NotEmpty(t, tok.Token)
	script := &client{name: "token", http: &http.Client{}, base: f.srv.URL, token: tok.Token}
	script.json(t, http.MethodPost, "/api/v1/studies", draft, http.StatusCreated, nil)
	var me web.SessionInfo
	script.json(t, http.MethodGet, "/api/v1/me", nil, http.StatusOK, &me)
	require.Equal(t, "ana", me.User.Name)
	require.Empty(t, me.CSRFToken)
	status, list := f.ana.do(t, http.MethodGet, "/api/v1/tokens", nil)
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, string(list), tok.Token, "the secret is never listed")

	// Revoked: 401 everywhere.
	f.ana.json(t, http.MethodDelete, "/api/v1/tokens/"+itoa(tok.ID), nil, http.StatusNoContent, nil)
	status, _ = script.do(t, http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusUnauthorized, status)

	// Sign-out ends the session.
	f.bob.json(t, http.MethodDelete, "/api/v1/session", nil, http.StatusNoContent, nil)
	status, _ = f.bob.do(t, http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusUnauthorized, status)

	// A password reset by an admin ends the user's sessions.
	f.admin.json(t, http.MethodPatch, "/api/v1/users/"+itoa(f.vic.user.ID), map[string]any{"password": "a-new-password"}, http.StatusOK, nil)
	status, _ = f.vic.do(t, http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusUnauthorized, status)
}

func TestHeadersLimitsAndErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	for _, path := range []string{"/", "/api/v1/me", "/healthz", "/nope"} {
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
		resp, err := f.ana.http.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		require.Regexp(t, `script-src 'self' 'sha256-[A-Za-z0-9+/=]+';`, csp, path)
		require.NotContains(t, csp, "unsafe-inline", path)
		require.Contains(t, csp, "frame-ancestors 'none'", path)
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
		require.NotEmpty(t, resp.Header.Get("Referrer-Policy"), path)
	}
	// The page has no inline script and its assets carry their hash.
	status, page := f.anon.do(t, http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, string(page), "<script>")
	require.Equal(t, 1, strings.Count(string(page), "<script type=\"importmap\">"), "the import map is the one inline script")
	require.Regexp(t, `/static/app\.[0-9a-f]{12}\.js`, string(page))

	// A 5 MB user name is refused before anything reads it whole.
	big := `{"username":"` + strings.Repeat("a", 5<<20) + `","password":"x"}`
	status, body := f.anon.do(t, http.MethodPost, "/api/v1/session", big)
	require.Equal(t, http.StatusRequestEntityTooLarge, status, "%.200s", body)
	var e apiError
	require.NoError(t, json.Unmarshal(body, &e))
	require.Equal(t, "too_large", e.Error.Code)

	// Bad JSON and unknown fields: 400 saying where.
	status, body = f.ana.do(t, http.MethodPost, "/api/v1/studies", `{"name": "x", "protocol": {}, "colour": 1}`)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, string(body), "colour")
	status, body = f.ana.do(t, http.MethodPost, "/api/v1/studies", `{"name": "x",`)
	require.Equal(t, http.StatusBadRequest, status, "%s", body)

	// Invented HTTP methods do not grow /metrics.
	for i := range 40 {
		req, _ := http.NewRequest("M"+strings.Repeat("X", i), f.srv.URL+"/api/v1/me", nil)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	status, metrics := f.admin.do(t, http.MethodGet, "/metrics", nil)
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, string(metrics), "MXX")
	require.Contains(t, string(metrics), `method="OTHER"`)
	require.Less(t, len(metrics), 64<<10)
	status, _ = f.ana.do(t, http.MethodGet, "/metrics", nil)
	require.Equal(t, http.StatusUnauthorized, status, "analysts do not read metrics")
	scraper := &client{name: "scraper", http: &http.Client{}, base: f.srv.URL, token: "scrape-me"}
	status, _ = scraper.do(t, http.MethodGet, "/metrics", nil)
	require.Equal(t, http.StatusOK, status)
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{})
	var doc map[string]any
	f.anon.json(t, http.MethodGet, "/api/v1/openapi.json", nil, http.StatusOK, &doc)
	require.Equal(t, "3.1.0", doc["openapi"])
	documented := web.DocumentedRoutes(doc)
	require.Equal(t, f.server.RegisteredRoutes(), documented)
	// Every referenced schema exists.
	b, _ := json.Marshal(doc)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, ref := range strings.Split(string(b), `"$ref":"#/components/schemas/`)[1:] {
		name := ref[:strings.IndexByte(ref, '"')]
		require.Contains(t, schemas, name)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
