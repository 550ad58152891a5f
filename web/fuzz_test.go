package web_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/beaver-analytics/beaver/engine/access"
	"github.com/beaver-analytics/beaver/schema/pgtest"
	"github.com/beaver-analytics/beaver/web"
)

// FuzzRequestBodies sends arbitrary bodies to every route that decodes
// one, as a signed-in admin (who may call them all): no answer may be a
// 500 and none may panic. Seeds run in go test; `go test ./web -run '^$'
// -fuzz FuzzRequestBodies` explores further.
func FuzzRequestBodies(f *testing.F) {
	for _, seed := range []string{
		`{"username":"ana","password":"x"}`, `{"name":"s","protocol":{"version":1}}`, `{"name":"s","version":1,"protocol":{}}`,
		`{"username":"bob","access":"read"}`, `{"min_count":5}`, `{"role":"viewer","scope":["1"]}`, `{"name":"t","expires_at":"2030-01-01T00:00:00Z"}`,
		`{"params":{"a":"1"}}`, `{"version":1,"phases":{}}`, `[]`, `null`, `{"name":`, "\x00", `{"name":"` + string([]byte{0xff, 0xfe}) + `"}`,
		`{"min_count":1e400}`, `{"version":99999999999999999999}`, `{"username":["a"]}`,
	} {
		f.Add(seed)
	}
	pool := pgtest.Pool(f)
	accounts := &access.Service{Pool: pool}
	_, err := accounts.CreateUser(f.Context(), access.NewUser{Name: "root", Role: access.RoleAdmin, Password: "root-password"})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := accounts.CreateUser(f.Context(), access.NewUser{Name: "other", Role: access.RoleAnalyst, Password: "other-password"}); err != nil {
		f.Fatal(err)
	}
	sess, err := accounts.Login(f.Context(), "root", "root-password")
	if err != nil {
		f.Fatal(err)
	}
	srv := web.New(web.Config{Pool: pool, Logger: slog.New(slog.DiscardHandler), DataDir: f.TempDir()})
	studyID := ""
	{
		req := httptest.NewRequest(http.MethodPost, "/api/v1/studies", bytes.NewReader([]byte(`{"name":"s","protocol":{"version":1}}`)))
		req.AddCookie(&http.Cookie{Name: "beaver_session", Value: sess.Token})
		req.Header.Set("X-CSRF-Token", sess.CSRF)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			f.Fatalf("create study: %d %s", rec.Code, rec.Body)
		}
		studyID = "1"
	}
	routes := []struct{ method, path string }{
		{http.MethodPost, "/api/v1/session"}, {http.MethodPost, "/api/v1/tokens"}, {http.MethodPost, "/api/v1/studies"},
		{http.MethodPut, "/api/v1/studies/" + studyID}, {http.MethodPost, "/api/v1/studies/" + studyID + "/share"},
		{http.MethodPost, "/api/v1/protocols/validate"}, {http.MethodPost, "/api/v1/studies/" + studyID + "/runs"},
		{http.MethodPost, "/api/v1/users"}, {http.MethodPatch, "/api/v1/users/2"}, {http.MethodPut, "/api/v1/settings"},
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, r := range routes {
			req := httptest.NewRequest(r.method, r.path, bytes.NewReader([]byte(body)))
			req.AddCookie(&http.Cookie{Name: "beaver_session", Value: sess.Token})
			req.Header.Set("X-CSRF-Token", sess.CSRF)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code >= 500 && !(r.path == "/api/v1/studies/1/runs" && rec.Code == http.StatusServiceUnavailable) {
				t.Fatalf("%s %s with %q: %d %s", r.method, r.path, body, rec.Code, rec.Body)
			}
		}
	})
}
