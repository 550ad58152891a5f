package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/engine/access"
	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/engine/synth"
	"github.com/beaver-analytics/beaver/schema/pgtest"
	"github.com/beaver-analytics/beaver/web"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// client is a signed-in (or anonymous, or token) caller of the test server.
type client struct {
	name  string
	http  *http.Client
	base  string
	csrf  string // sent on state-changing requests unless noCSRF
	token string // bearer token instead of the cookie
	user  *access.User
	// noCSRF leaves the X-CSRF-Token header out.
	noCSRF bool
}

// do sends a request and returns the status and body.
func (c *client) do(t testing.TB, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		r, ctype = strings.NewReader(b), "application/json"
	case []byte:
		r, ctype = bytes.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		require.NoError(t, err)
		r, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, c.base+path, r)
	require.NoError(t, err)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.csrf != "" && !c.noCSRF && method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// json sends a request, requires the status and decodes the answer.
func (c *client) json(t testing.TB, method, path string, body any, want int, into any) {
	t.Helper()
	status, b := c.do(t, method, path, body)
	require.Equal(t, want, status, "%s %s as %s: %s", method, path, c.name, b)
	if into != nil {
		require.NoError(t, json.Unmarshal(b, into), "%s", b)
	}
}

type fixture struct {
	pool   *pgxpool.Pool
	srv    *httptest.Server
	server *web.Server
	anon   *client
	// admin, ana (analyst, owner of the studies), bob (another analyst),
	// vic (a viewer the studies are shared with), sam (an analyst scoped
	// to one ASL).
	admin, ana, bob, vic, sam *client
	accounts                  *access.Service
	// rec keeps every response body any client of the fixture received.
	rec *recorder
	// river is the fixture's job client (nil without a region).
	river *engine.Client
}

// recorder is a transport that keeps a copy of every response body.
type recorder struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, b)
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

type fixtureOpts struct {
	ready  func(context.Context) []web.Check
	region bool // load a small synthetic region and run workers
	// idle enqueues without working: runs stay queued.
	idle bool
	// idOffset is added to every person id of the region, so that ids
	// are distinctive strings a leak test can look for.
	idOffset int64
	limit    *web.RateLimit
	// maxUpload bounds an upload's bytes (0: the server's default).
	maxUpload int64
}

func newFixture(t testing.TB, o fixtureOpts) *fixture {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	f := &fixture{pool: pool, accounts: &access.Service{Pool: pool}, rec: &recorder{}}
	var river *engine.Client
	if o.region {
		loadRegion(t, pool, o.idOffset)
		var err error
		river, err = engine.NewClient(pool, engine.Config{Workers: 2, Logger: slog.New(slog.DiscardHandler)}, !o.idle)
		require.NoError(t, err)
		if !o.idle {
			require.NoError(t, river.Start(ctx))
		}
		if !o.idle {
			t.Cleanup(func() {
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = engine.Stop(sctx, river, time.Second)
			})
		}
	}
	users := []struct {
		name  string
		role  access.Role
		scope []string
	}{{"root", access.RoleAdmin, nil}, {"ana", access.RoleAnalyst, nil}, {"bob", access.RoleAnalyst, nil},
		{"vic", access.RoleViewer, nil}, {"sam", access.RoleAnalyst, []string{"301"}}}
	for _, u := range users {
		_, err := f.accounts.CreateUser(ctx, access.NewUser{Name: u.name, Role: u.role, Password: u.name + "-password", Scope: u.scope})
		require.NoError(t, err)
	}
	f.river = river
	f.server = web.New(web.Config{Pool: pool, River: river, Logger: slog.New(slog.DiscardHandler),
		Ready: o.ready, MetricsToken: "scrape-me", DataDir: t.TempDir(), LoginLimit: o.limit, MaxUpload: o.maxUpload})
	f.srv = httptest.NewServer(f.server)
	t.Cleanup(f.srv.Close)
	f.anon = &client{name: "anonymous", http: &http.Client{Transport: f.rec}, base: f.srv.URL}
	f.admin = f.login(t, "root")
	f.ana = f.login(t, "ana")
	f.bob = f.login(t, "bob")
	f.vic = f.login(t, "vic")
	f.sam = f.login(t, "sam")
	return f
}

// login signs a user in with a cookie jar and keeps the CSRF token.
func (f *fixture) login(t testing.TB, name string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{name: name, http: &http.Client{Jar: jar, Transport: f.rec}, base: f.srv.URL}
	var info web.SessionInfo
	c.json(t, http.MethodPost, "/api/v1/session", map[string]string{"username": name, "password": name + "-password"}, http.StatusOK, &info)
	require.NotEmpty(t, info.CSRFToken)
	c.csrf, c.user = info.CSRFToken, info.User
	return c
}

// loadRegion loads a small synthetic region (400 persons, 8 years), its
// person ids shifted by offset.
func loadRegion(t testing.TB, pool *pgxpool.Pool, offset int64) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	_, err := synth.WriteCSV(ctx, synth.Config{Persons: 400, Years: 8, Seed: 3}, dir, nil)
	require.NoError(t, err)
	paths, err := synth.Files(dir)
	require.NoError(t, err)
	if offset != 0 {
		for _, p := range paths {
			shiftPersonIDs(t, p, offset)
		}
	}
	_, err = etl.Load(ctx, pool, paths, etl.Options{StartedBy: "test", Partitions: 2, Logger: slog.New(slog.DiscardHandler),
		AfterPublish: func(ctx context.Context, v int64) error { return etl.AfterPublish(ctx, pool, v) }})
	require.NoError(t, err)
}

// shiftPersonIDs adds offset to the person id columns of a CSV file.
func shiftPersonIDs(t testing.TB, path string, offset int64) {
	t.Helper()
	in, err := os.Open(path)
	require.NoError(t, err)
	rows, err := csv.NewReader(in).ReadAll()
	in.Close()
	require.NoError(t, err)
	var cols []int
	for i, h := range rows[0] {
		if h == "person_id" || h == "newborn_person_id" {
			cols = append(cols, i)
		}
	}
	if len(cols) == 0 {
		return
	}
	for _, r := range rows[1:] {
		for _, i := range cols {
			if r[i] == "" {
				continue
			}
			n, err := strconv.ParseInt(r[i], 10, 64)
			require.NoError(t, err)
			r[i] = strconv.FormatInt(n+offset, 10)
		}
	}
	out, err := os.Create(path)
	require.NoError(t, err)
	w := csv.NewWriter(out)
	require.NoError(t, w.WriteAll(rows))
	require.NoError(t, out.Close())
}

// example reads an example protocol of docs/examples.
func example(t testing.TB, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("../docs/examples/" + name)
	require.NoError(t, err)
	return b
}

// apiError is the error body of every failure.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Path    string `json:"path"`
		Details []struct {
			Path    string `json:"path"`
			Message string `json:"message"`
		} `json:"details"`
	} `json:"error"`
}

func TestReadyzFailing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{ready: func(context.Context) []web.Check {
		return []web.Check{{Name: "database"}, {Name: "workers", Err: io.ErrUnexpectedEOF}}
	}})
	status, body := f.anon.do(t, http.MethodGet, "/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Contains(t, string(body), `"workers":"failing: unexpected EOF"`)
	status, body = f.anon.do(t, http.MethodGet, "/healthz", nil)
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"status":"ok"}`, string(body))
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
