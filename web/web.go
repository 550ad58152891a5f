// Package web is Beaver's HTTP face: the JSON API, the pages, and the
// operational endpoints (/healthz, /readyz, /metrics). Handlers are thin:
// bind, authorize, call one service, render. Every route needs a logged-in
// user unless it is listed in publicRoutes.
package web

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"

	"github.com/beaver-analytics/beaver/engine"
)

// Config wires the server to its services.
type Config struct {
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	// Ready reports the readiness checks (database, schema, workers); each
	// non-nil error makes /readyz answer 503.
	Ready func(ctx context.Context) []Check
	// MetricsToken, when set, lets a scraper read /metrics with
	// "Authorization: Bearer <token>"; admins may always read it.
	MetricsToken string
	// SecureCookies marks the session cookie Secure (behind HTTPS).
	SecureCookies bool
}

// Check is one readiness check.
type Check struct {
	Name   string
	Detail string
	Err    error
}

// Server is the HTTP handler of the application.
type Server struct {
	cfg     Config
	echo    *echo.Echo
	metrics *metrics
}

// publicRoutes are the only routes reachable without a session, each with
// the reason. Everything else is authenticated in one middleware.
var publicRoutes = map[string]string{
	"GET /healthz":      "liveness probe: says only that the process is up",
	"GET /readyz":       "readiness probe: says only which checks pass",
	"POST /api/session": "the login itself",
	"GET /":             "the login page",
	"GET /metrics":      "checks its own bearer token or an admin session",
}

const sessionCookie = "beaver_session"

type ctxKey string

const userKey ctxKey = "user"

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, echo: echo.New(), metrics: newMetrics()}
	e := s.echo
	e.Logger = cfg.Logger
	e.HTTPErrorHandler = s.handleError
	e.Use(s.observe, s.authenticate)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsHandler)
	e.GET("/", s.index)
	e.POST("/api/session", s.login)
	e.DELETE("/api/session", s.logout)
	e.GET("/api/me", s.me)
	return s
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// observe logs each request and counts it for /metrics.
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
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		s.metrics.observe(c.Request().Method, route, status, d)
		s.cfg.Logger.Debug("http", "method", c.Request().Method, "path", c.Request().URL.Path, "status", status, "ms", d.Milliseconds())
		return nil
	}
}

// authenticate lets public routes through and requires a live session for
// every other one.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if u := s.sessionUser(c); u != nil {
			c.Set(string(userKey), u)
		}
		if _, public := publicRoutes[c.Request().Method+" "+c.Path()]; public {
			return next(c)
		}
		if currentUser(c) == nil {
			return echo.NewHTTPError(http.StatusUnauthorized, "log in first")
		}
		return next(c)
	}
}

func (s *Server) sessionUser(c *echo.Context) *engine.User {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	u, err := engine.SessionUser(c.Request().Context(), s.cfg.Pool, ck.Value)
	if err != nil {
		if !errors.Is(err, engine.ErrUnauthorized) {
			s.cfg.Logger.Error("read session", "err", err)
		}
		return nil
	}
	return u
}

func currentUser(c *echo.Context) *engine.User {
	u, _ := c.Get(string(userKey)).(*engine.User)
	return u
}

// handleError maps errors once to statuses: HTTP errors keep theirs,
// service errors map by kind, anything else is logged and shown as
// "internal error".
func (s *Server) handleError(c *echo.Context, err error) {
	if r, uerr := echo.UnwrapResponse(c.Response()); uerr == nil && r.Committed {
		return
	}
	status, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	var sc echo.HTTPStatusCoder
	switch {
	case errors.As(err, &he):
		status, msg = he.Code, he.Message
		if msg == "" {
			msg = http.StatusText(status)
		}
	case errors.As(err, &sc):
		status = sc.StatusCode()
		msg = http.StatusText(status)
	case errors.Is(err, engine.ErrInvalid):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, engine.ErrUnauthorized):
		status, msg = http.StatusUnauthorized, "wrong name or password"
	case errors.Is(err, engine.ErrConflict):
		status, msg = http.StatusConflict, err.Error()
	default:
		s.cfg.Logger.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	_ = c.JSON(status, map[string]string{"error": msg})
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
	if u := currentUser(c); !tokenOK && (u == nil || u.Role != engine.RoleAdmin) {
		return echo.NewHTTPError(http.StatusUnauthorized, "metrics need an admin session or the metrics token")
	}
	var b strings.Builder
	s.metrics.write(&b)
	writeDBMetrics(c.Request().Context(), &b, s.cfg.Pool, s.cfg.Logger)
	return c.Blob(http.StatusOK, "text/plain; version=0.0.4; charset=utf-8", []byte(b.String()))
}

type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (s *Server) login(c *echo.Context) error {
	var req loginRequest
	if err := c.Bind(&req); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "send JSON {\"name\": ..., \"password\": ...}")
	}
	token, u, err := engine.Login(c.Request().Context(), s.cfg.Pool, req.Name, req.Password)
	if err != nil {
		if errors.Is(err, engine.ErrUnauthorized) {
			_ = engine.Audit(c.Request().Context(), s.cfg.Pool, 0, "login_failed", req.Name, c.RealIP())
		}
		return err
	}
	_ = engine.Audit(c.Request().Context(), s.cfg.Pool, u.ID, "login", u.Name, c.RealIP())
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.cfg.SecureCookies,
		MaxAge: int(engine.SessionTTL.Seconds()),
	})
	return c.JSON(http.StatusOK, u)
}

func (s *Server) logout(c *echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := engine.Logout(c.Request().Context(), s.cfg.Pool, ck.Value); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) me(c *echo.Context) error {
	return c.JSON(http.StatusOK, currentUser(c))
}

//go:embed static/index.html
var indexHTML []byte

func (s *Server) index(c *echo.Context) error {
	c.Response().Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline' 'self'")
	return c.HTMLBlob(http.StatusOK, indexHTML)
}
