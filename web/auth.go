package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/beaver-analytics/beaver/engine/access"
	"github.com/beaver-analytics/beaver/schema/errs"
)

const sessionCookie = "beaver_session"

// RateLimit bounds failed sign-ins: at most PerName failures for one user
// name and PerAddress from one client address within Window.
type RateLimit struct {
	PerName    int
	PerAddress int
	Window     time.Duration
}

// DefaultLoginLimit allows 10 failed sign-ins per user name and 50 per
// address in 15 minutes.
var DefaultLoginLimit = RateLimit{PerName: 10, PerAddress: 50, Window: 15 * time.Minute}

// limiter counts failed sign-ins in memory (per process: several servers
// behind one balancer each allow the limit).
type limiter struct {
	mu    sync.Mutex
	limit RateLimit
	fails map[string][]time.Time
}

func newLimiter(l RateLimit) *limiter { return &limiter{limit: l, fails: map[string][]time.Time{}} }

// wait returns how long a key must wait before trying again (0: it may).
func (l *limiter) wait(key string, max int, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.prune(key, now)
	if len(ts) < max {
		return 0
	}
	return ts[0].Add(l.limit.Window).Sub(now)
}

func (l *limiter) prune(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.limit.Window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = ts
	}
	return ts
}

func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.prune(key, now)
	if len(l.fails) > 100_000 { // bounded memory under a spray of names
		clear(l.fails)
	}
	l.fails[key] = append(ts, now)
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

// sessionTTL is how long a session read from the database is trusted
// without reading it again: a session ended by another server process
// (a sign-out, a password change, a disabled user) stops working within
// this time; one ended by this process at once.
const sessionTTL = time.Second

// sessionCache keeps sessions read in the last sessionTTL, so that a busy
// client's requests do not each read the database for its session.
type sessionCache struct {
	accounts *access.Service
	mu       sync.Mutex
	m        map[string]cachedSession
}

type cachedSession struct {
	s  *access.Session
	at time.Time
}

func (sc *sessionCache) get(ctx context.Context, token string) (*access.Session, error) {
	sc.mu.Lock()
	cs, ok := sc.m[token]
	sc.mu.Unlock()
	if ok && time.Since(cs.at) < sessionTTL {
		return cs.s, nil
	}
	s, err := sc.accounts.SessionUser(ctx, token)
	if err != nil {
		sc.forget(token)
		return nil, err
	}
	sc.mu.Lock()
	if len(sc.m) > 10_000 {
		clear(sc.m)
	}
	sc.m[token] = cachedSession{s: s, at: time.Now()}
	sc.mu.Unlock()
	return s, nil
}

func (sc *sessionCache) forget(token string) {
	sc.mu.Lock()
	delete(sc.m, token)
	sc.mu.Unlock()
}

// forgetUser drops every cached session of a user (password change,
// disable, role or scope change).
func (sc *sessionCache) forgetUser(id int64) {
	sc.mu.Lock()
	for k, cs := range sc.m {
		if cs.s.User.ID == id {
			delete(sc.m, k)
		}
	}
	sc.mu.Unlock()
}

// LoginRequest is the body of POST /api/v1/session.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// SessionInfo answers a sign-in and GET /api/v1/me.
type SessionInfo struct {
	User *access.User `json:"user"`
	// CSRFToken goes in the X-CSRF-Token header of every state-changing
	// request made with the session cookie (empty for API tokens).
	CSRFToken string `json:"csrf_token"`
}

func (s *Server) login(c *echo.Context) error {
	var req LoginRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	now := time.Now()
	nameKey, addrKey := "name:"+req.Username, "addr:"+c.RealIP()
	if len(req.Username) > 64 {
		nameKey = "name:" + req.Username[:64]
	}
	w := max(s.limiter.wait(nameKey, s.limiter.limit.PerName, now), s.limiter.wait(addrKey, s.limiter.limit.PerAddress, now))
	if w > 0 {
		secs := strconv.Itoa(int(math.Ceil(w.Seconds())))
		return &statusError{status: http.StatusTooManyRequests, code: "rate_limited",
			msg:    "too many failed sign-ins: try again in " + secs + " seconds",
			header: map[string]string{"Retry-After": secs}}
	}
	sess, err := s.accounts.Login(c.Request().Context(), req.Username, req.Password)
	if err != nil {
		if errors.Is(err, errs.Unauthorized) {
			s.limiter.fail(nameKey, now)
			s.limiter.fail(addrKey, now)
			s.audit(c, "login_failed", req.Username, nil)
		}
		return err
	}
	s.limiter.reset(nameKey)
	c.Set(principalKey, &principal{User: sess.User, Session: sess})
	s.audit(c, "login", sess.User.Name, nil)
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: sess.Token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies,
		MaxAge: int(access.SessionMax.Seconds()),
	})
	return c.JSON(http.StatusOK, SessionInfo{User: sess.User, CSRFToken: sess.CSRF})
}

func (s *Server) logout(c *echo.Context) error {
	if p := currentPrincipal(c); p.Session != nil {
		s.sessions.forget(p.Session.Token)
		if err := s.accounts.Logout(c.Request().Context(), p.Session.Token); err != nil {
			return err
		}
		s.audit(c, "logout", p.User.Name, nil)
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) me(c *echo.Context) error {
	p := currentPrincipal(c)
	info := SessionInfo{User: p.User}
	if p.Session != nil {
		info.CSRFToken = p.Session.CSRF
	}
	return c.JSON(http.StatusOK, info)
}

// NewTokenRequest is the body of POST /api/v1/tokens.
type NewTokenRequest struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at"`
}

func (s *Server) listTokens(c *echo.Context) error {
	list, err := s.accounts.Tokens(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": list})
}

func (s *Server) createToken(c *echo.Context) error {
	var req NewTokenRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	t, err := s.accounts.CreateToken(c.Request().Context(), currentUser(c).ID, req.Name, req.ExpiresAt)
	if err != nil {
		return err
	}
	s.audit(c, "token_create", t.Name, map[string]any{"token_id": t.ID})
	return c.JSON(http.StatusCreated, t)
}

func (s *Server) deleteToken(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.accounts.DeleteToken(c.Request().Context(), currentUser(c).ID, id); err != nil {
		return err
	}
	s.audit(c, "token_delete", fmt.Sprint(id), nil)
	return c.NoContent(http.StatusNoContent)
}
