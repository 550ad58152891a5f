// Package web is Beaver's HTTP face: the JSON API under /api/v1, the pages,
// and the operational endpoints (/healthz, /readyz, /metrics). Every route
// is declared once in the route table (routes.go) with who may call it; the
// authorization middleware, the OpenAPI document and the access tests are
// all derived from that table. Handlers are thin: bind, authorize, call one
// service, render. Errors carry a kind (schema/errs) mapped to an HTTP
// status in one place, handleError.
package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/engine/access"
	"github.com/beaver-analytics/beaver/engine/catalog"
	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/schema/errs"
)

// Config wires the server to its services.
type Config struct {
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	// River enqueues study runs and imports (an insert-only client is
	// enough: the workers may run in other processes).
	River *engine.Client
	// DataDir holds uploaded import files (DataDir/uploads).
	DataDir string
	// Ready reports the readiness checks (database, schema, workers); each
	// non-nil error makes /readyz answer 503.
	Ready func(ctx context.Context) []Check
	// MetricsToken, when set, lets a scraper read /metrics with
	// "Authorization: Bearer <token>"; admins may always read it.
	MetricsToken string
	// SecureCookies marks the session cookie Secure (served over TLS, or
	// behind a TLS proxy).
	SecureCookies bool
	// TrustProxy takes the client address from X-Forwarded-For (only when
	// a proxy that sets it stands in front).
	TrustProxy bool
	// MaxUpload bounds the bytes of one import upload (default 2 GiB).
	MaxUpload int64
	// LoginLimit overrides the sign-in rate limits (tests).
	LoginLimit *RateLimit
}

// Check is one readiness check.
type Check struct {
	Name   string
	Detail string
	Err    error
}

// Server is the HTTP handler of the application.
type Server struct {
	cfg      Config
	echo     *echo.Echo
	metrics  *metrics
	routes   []route
	accounts *access.Service
	studies  *catalog.Service
	limiter  *limiter
	codes    *codeIndex
	sessions *sessionCache
	runs     *runs
	study    *study.Service
	pdfState
}

// New builds the server and registers the route table.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = 2 << 30
	}
	lim := DefaultLoginLimit
	if cfg.LoginLimit != nil {
		lim = *cfg.LoginLimit
	}
	s := &Server{
		cfg: cfg, echo: echo.New(), metrics: newMetrics(),
		accounts: &access.Service{Pool: cfg.Pool},
		studies:  &catalog.Service{Pool: cfg.Pool},
		limiter:  newLimiter(cfg.Pool, lim),
		codes:    &codeIndex{pool: cfg.Pool},
		study:    &study.Service{Pool: cfg.Pool, River: cfg.River, Logger: cfg.Logger},
	}
	s.runs = newRuns(s)
	s.sessions = &sessionCache{accounts: s.accounts, m: map[string]cachedSession{}}
	e := s.echo
	e.Logger = cfg.Logger
	if cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	e.HTTPErrorHandler = s.handleError
	e.Use(s.secureHeaders, s.observe, s.recoverPanic, s.authenticate)
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		e.Add(rt.Method, echoPath(rt.Path), rt.Handler, s.guard(rt))
	}
	return s
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// echoPath turns the table's OpenAPI path (/runs/{id}) into echo's
// (/runs/:id).
func echoPath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			parts[i] = ":" + part[1:len(part)-1]
		}
	}
	return strings.Join(parts, "/")
}

// secureHeaders sets the security headers of every response.
func (s *Server) secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' "+importMapHash+"; style-src 'self'; img-src 'self' data: blob:; "+
			"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.cfg.SecureCookies {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if strings.HasPrefix(c.Request().URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// recoverPanic turns a handler's panic into a logged internal error: one
// bad request never takes the server down.
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				s.cfg.Logger.Error("panic in handler", "method", c.Request().Method, "path", c.Request().URL.Path,
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = errors.New("web: panic")
			}
		}()
		return next(c)
	}
}

// knownMethods are the HTTP methods counted under their name in /metrics;
// any other is counted as OTHER, so that a client cannot grow the metrics
// page with invented methods.
var knownMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

// observe logs each request and counts it for /metrics under its route
// (from the route table) or "unmatched".
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			s.handleError(c, err)
		}
		status := 0
		if r, uerr := echo.UnwrapResponse(c.Response()); uerr == nil {
			status = r.Status
		}
		route := "unmatched"
		if rt := s.routeOf(c); rt != nil {
			route = rt.Path
		}
		method := c.Request().Method
		if !slices.Contains(knownMethods, method) {
			method = "OTHER"
		}
		d := time.Since(start)
		s.metrics.observe(method, route, status, d)
		s.cfg.Logger.Debug("http", "method", method, "route", route, "status", status, "ms", d.Milliseconds())
		return nil
	}
}

// principal is who makes a request.
type principal struct {
	User    *access.User
	Session *access.Session // nil when signed by an API token
}

const principalKey = "beaver.principal"

// authenticate identifies the caller by the session cookie or a bearer
// token; it rejects nobody (guard does, per route).
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ctx := c.Request().Context()
		if auth := c.Request().Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer "+access.TokenPrefix) {
			u, err := s.accounts.TokenUser(ctx, strings.TrimPrefix(auth, "Bearer "))
			if err != nil {
				return err // a token that does not work is a 401 with its reason
			}
			c.Set(principalKey, &principal{User: u})
			return next(c)
		}
		if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
			sess, err := s.sessions.get(ctx, ck.Value)
			if err == nil {
				c.Set(principalKey, &principal{User: sess.User, Session: sess})
			} else if errs.KindOf(err) == errs.Internal {
				return err
			}
		}
		return next(c)
	}
}

func currentPrincipal(c *echo.Context) *principal {
	p, _ := c.Get(principalKey).(*principal)
	return p
}

// currentUser is the signed-in user; guard guarantees one on every
// non-public route.
func currentUser(c *echo.Context) *access.User {
	if p := currentPrincipal(c); p != nil {
		return p.User
	}
	return nil
}

// guard enforces a route's access rule, the CSRF token of cookie sessions
// on state-changing methods, and the route's body limit.
func (s *Server) guard(rt route) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if rt.MaxBody > 0 {
				c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, rt.MaxBody)
			}
			if rt.Access == public {
				return next(c)
			}
			p := currentPrincipal(c)
			if p == nil {
				return fmt.Errorf("%w: sign in first (or send an API token)", errs.Unauthorized)
			}
			if p.Session != nil && !safeMethod(c.Request().Method) {
				got := c.Request().Header.Get("X-CSRF-Token")
				if subtle.ConstantTimeCompare([]byte(got), []byte(p.Session.CSRF)) != 1 || got == "" {
					return fmt.Errorf("%w: missing or wrong X-CSRF-Token header (it comes with the sign-in and from GET /api/v1/me)", errs.Forbidden)
				}
			}
			switch rt.Access {
			case runner:
				if !p.User.Role.CanRun() {
					return fmt.Errorf("%w: a %s may not do this", errs.Forbidden, p.User.Role)
				}
			case adminOnly:
				if p.User.Role != access.RoleAdmin {
					return fmt.Errorf("%w: admins only", errs.Forbidden)
				}
			}
			return next(c)
		}
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// apiError is the body of every error answer.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Path    string          `json:"path,omitempty"`
	Details []ProtocolIssue `json:"details,omitempty"`
}

// statusError is an error with its own status and code (too large, rate
// limited, unprocessable) that no service kind covers.
type statusError struct {
	status int
	code   string
	msg    string
	header map[string]string
}

func (e *statusError) Error() string { return e.msg }

// handleError maps an error once to a status and the JSON error body:
// service errors by their kind, anything else is logged and shown as
// "internal error".
func (s *Server) handleError(c *echo.Context, err error) {
	if r, uerr := echo.UnwrapResponse(c.Response()); uerr == nil && r.Committed {
		return
	}
	body := apiErrorBody{Code: "internal", Message: "internal error"}
	status := http.StatusInternalServerError
	var se *statusError
	var mbe *http.MaxBytesError
	var pe *protocolErrors
	var sc echo.HTTPStatusCoder
	switch {
	case errors.As(err, &se):
		status, body.Code, body.Message = se.status, se.code, se.msg
		for k, v := range se.header {
			c.Response().Header().Set(k, v)
		}
	case errors.As(err, &mbe):
		status, body.Code = http.StatusRequestEntityTooLarge, "too_large"
		body.Message = fmt.Sprintf("the request body is larger than %d bytes", mbe.Limit)
	case errors.As(err, &pe):
		status, body.Code, body.Message, body.Details = pe.status, "invalid", pe.Error(), pe.issues
		if len(pe.issues) > 0 {
			body.Path = pe.issues[0].Path
		}
	case errs.KindOf(err) != errs.Internal:
		k := errs.KindOf(err)
		status, body.Code, body.Message = kindStatus[k], kindCode[k], err.Error()
		if k == errs.Unauthorized {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="beaver"`)
		}
	case errors.As(err, &sc):
		status = sc.StatusCode()
		body.Code, body.Message = httpCode(status), http.StatusText(status)
	default:
		s.cfg.Logger.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	_ = c.JSON(status, apiError{Error: body})
}

// kindStatus maps each error kind to its HTTP status: the one place that
// does.
var kindStatus = map[*errs.Kind]int{
	errs.Invalid:      http.StatusBadRequest,
	errs.NotFound:     http.StatusNotFound,
	errs.Conflict:     http.StatusConflict,
	errs.Unauthorized: http.StatusUnauthorized,
	errs.Forbidden:    http.StatusForbidden,
	errs.Unavailable:  http.StatusServiceUnavailable,
}

var kindCode = map[*errs.Kind]string{
	errs.Invalid:      "invalid",
	errs.NotFound:     "not_found",
	errs.Conflict:     "conflict",
	errs.Unauthorized: "unauthorized",
	errs.Forbidden:    "forbidden",
	errs.Unavailable:  "unavailable",
}

func httpCode(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusBadRequest:
		return "invalid"
	}
	return strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
}

// bindJSON decodes a request body strictly (unknown fields refused) into v,
// with an error that says where the JSON is wrong.
func bindJSON(c *echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return fmt.Errorf("%w: the request body is empty: send JSON", errs.Invalid)
		case errors.As(err, &se):
			return fmt.Errorf("%w: bad JSON at byte %d: %s", errs.Invalid, se.Offset, se.Error())
		case errors.As(err, &te):
			return fmt.Errorf("%w: field %q: expected %s", errs.Invalid, te.Field, te.Type)
		}
		return fmt.Errorf("%w: bad JSON: %s", errs.Invalid, err.Error())
	}
	if dec.More() {
		return fmt.Errorf("%w: bad JSON: more than one value in the body", errs.Invalid)
	}
	return nil
}

// idParam reads a positive integer path parameter.
func idParam(c *echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: %s: not a positive integer: %q", errs.NotFound, name, c.Param(name))
	}
	return id, nil
}

// audit records an action of the current user; a failure is logged, not
// shown (the action itself succeeded).
func (s *Server) audit(c *echo.Context, action, target string, detail map[string]any) {
	var uid int64
	if u := currentUser(c); u != nil {
		uid = u.ID
	}
	if err := s.accounts.Audit(c.Request().Context(), uid, action, target, c.RealIP(), detail); err != nil {
		s.cfg.Logger.Error("audit", "action", action, "err", err)
	}
}

func (s *Server) healthz(c *echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c *echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
	defer cancel()
	checks := map[string]string{}
	ok := true
	if s.cfg.Ready != nil {
		for _, ch := range s.cfg.Ready(ctx) {
			if ch.Err != nil {
				ok = false
				checks[ch.Name] = "failing: " + ch.Err.Error()
			} else {
				checks[ch.Name] = "ok" + prefixed(ch.Detail)
			}
		}
	}
	status, word := http.StatusOK, "ok"
	if !ok {
		status, word = http.StatusServiceUnavailable, "unavailable"
	}
	return c.JSON(status, map[string]any{"status": word, "checks": checks})
}

func prefixed(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func (s *Server) metricsHandler(c *echo.Context) error {
	token := strings.TrimPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
	tokenOK := s.cfg.MetricsToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.MetricsToken)) == 1
	if u := currentUser(c); !tokenOK && (u == nil || u.Role != access.RoleAdmin) {
		return fmt.Errorf("%w: metrics need an admin session or the metrics token", errs.Unauthorized)
	}
	var b strings.Builder
	s.metrics.write(&b)
	writeDBMetrics(c.Request().Context(), &b, s.cfg.Pool, s.cfg.Logger)
	return c.Blob(http.StatusOK, "text/plain; version=0.0.4; charset=utf-8", []byte(b.String()))
}
