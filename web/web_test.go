package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/schema/pgtest"
	"github.com/beaver-analytics/beaver/web"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type fixture struct {
	srv     *httptest.Server
	admin   *http.Client
	analyst *http.Client
	anon    *http.Client
}

func newFixture(t *testing.T, ready func(context.Context) []web.Check) *fixture {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	_, err := engine.CreateUser(ctx, pool, "root", engine.RoleAdmin, "admin-password")
	require.NoError(t, err)
	_, err = engine.CreateUser(ctx, pool, "ana", engine.RoleAnalyst, "analyst-password")
	require.NoError(t, err)
	srv := httptest.NewServer(web.New(web.Config{Pool: pool, Logger: slog.New(slog.DiscardHandler), Ready: ready, MetricsToken: "scrape-me"}))
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, anon: &http.Client{}}
	f.admin = f.login(t, "root", "admin-password", http.StatusOK)
	f.analyst = f.login(t, "ana", "analyst-password", http.StatusOK)
	return f
}

func (f *fixture) login(t *testing.T, name, password string, want int) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Post(f.srv.URL+"/api/session", "application/json", strings.NewReader(`{"name":"`+name+`","password":"`+password+`"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, want, resp.StatusCode)
	return c
}

func do(t *testing.T, c *http.Client, method, url string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(context.Context) []web.Check { return []web.Check{{Name: "database"}} })
	cases := []struct {
		name       string
		client     *http.Client
		method     string
		path       string
		header     map[string]string
		status     int
		contains   []string
		notContain []string
	}{
		{"healthz is public", f.anon, "GET", "/healthz", nil, 200, []string{`"status":"ok"`}, nil},
		{"readyz is public", f.anon, "GET", "/readyz", nil, 200, []string{`"database":"ok"`}, nil},
		{"login page is public", f.anon, "GET", "/", nil, 200, []string{"<title>Beaver</title>"}, nil},
		{"me needs a session", f.anon, "GET", "/api/me", nil, 401, []string{"log in first"}, []string{"ana"}},
		{"me with a session", f.analyst, "GET", "/api/me", nil, 200, []string{`"name":"ana"`, `"role":"analyst"`}, []string{"password"}},
		{"unknown route needs a session", f.anon, "GET", "/api/nothing", nil, 401, nil, nil},
		{"unknown route with a session", f.analyst, "GET", "/api/nothing", nil, 404, nil, nil},
		{"metrics refuse anonymous", f.anon, "GET", "/metrics", nil, 401, nil, []string{"beaver_http"}},
		{"metrics refuse analysts", f.analyst, "GET", "/metrics", nil, 401, nil, []string{"beaver_http"}},
		{"metrics refuse a wrong token", f.anon, "GET", "/metrics", map[string]string{"Authorization": "Bearer nope"}, 401, nil, nil},
		{"metrics for admins", f.admin, "GET", "/metrics", nil, 200, []string{"beaver_http_requests_total", `beaver_river_jobs{state="available"} 0`, "beaver_db_pool_max_conns"}, nil},
		{"metrics with the token", f.anon, "GET", "/metrics", map[string]string{"Authorization": "Bearer scrape-me"}, 200, []string{"# TYPE beaver_http_requests_total counter"}, nil},
	}
	for _, tc := range cases {
		status, body := do(t, tc.client, tc.method, f.srv.URL+tc.path, tc.header)
		require.Equal(t, tc.status, status, "%s: %s", tc.name, body)
		for _, s := range tc.contains {
			require.Contains(t, body, s, tc.name)
		}
		for _, s := range tc.notContain {
			require.NotContains(t, body, s, tc.name)
		}
	}
}

func TestLoginFailuresAndLogout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.login(t, "ana", "wrong-password", http.StatusUnauthorized)
	f.login(t, "nobody", "analyst-password", http.StatusUnauthorized)
	status, _ := do(t, f.analyst, "DELETE", f.srv.URL+"/api/session", nil)
	require.Equal(t, http.StatusNoContent, status)
	status, _ = do(t, f.analyst, "GET", f.srv.URL+"/api/me", nil)
	require.Equal(t, http.StatusUnauthorized, status, "the session is gone after logout")
}

func TestReadyzFailing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(context.Context) []web.Check {
		return []web.Check{{Name: "database"}, {Name: "workers", Err: errors.New("workers are not running")}}
	})
	status, body := do(t, f.anon, "GET", f.srv.URL+"/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Contains(t, body, `"workers":"failing: workers are not running"`)
	require.Contains(t, body, `"status":"unavailable"`)
}
