package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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

// limiter counts failed sign-ins in the database (login_failure,
// migration 012), so that every server process on it shares the limit.
type limiter struct {
	pool  *pgxpool.Pool
	limit RateLimit
}

func newLimiter(pool *pgxpool.Pool, l RateLimit) *limiter { return &limiter{pool: pool, limit: l} }

// keyHash is how a key is stored: not the user name itself.
func keyHash(key string) []byte { h := sha256.Sum256([]byte(key)); return h[:] }

// wait returns how long a key must wait before trying again (0: it may):
// with most failures or more in the window, until the oldest leaves it.
func (l *limiter) wait(ctx context.Context, key string, most int) (time.Duration, error) {
	var n int
	var secs float64
	err := l.pool.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM min(failed_at) + $2::interval - now()), 0)::float8
		FROM login_failure WHERE key_hash = $1 AND failed_at > now() - $2::interval`,
		keyHash(key), l.limit.Window).Scan(&n, &secs)
	if err != nil {
		return 0, fmt.Errorf("web: sign-in limit: %w", err)
	}
	if n < most {
		return 0, nil
	}
	return max(time.Duration(secs*float64(time.Second)), time.Second), nil
}

// fail records a failure for each key, and forgets failures older than
// the window.
func (l *limiter) fail(ctx context.Context, keys ...string) error {
	hashes := make([][]byte, len(keys))
	for i, k := range keys {
		hashes[i] = keyHash(k)
	}
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM login_failure WHERE failed_at <= now() - $1::interval", l.limit.Window); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO login_failure (key_hash) SELECT unnest($1::bytea[])", hashes)
		return err
	})
	if err != nil {
		return fmt.Errorf("web: sign-in limit: %w", err)
	}
	return nil
}

// reset forgets a key's failures (a successful sign-in of the name).
func (l *limiter) reset(ctx context.Context, key string) error {
	if _, err := l.pool.Exec(ctx, "DELETE FROM login_failure WHERE key_hash = $1", keyHash(key)); err != nil {
		return fmt.Errorf("web: sign-in limit: %w", err)
	}
	return nil
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
	ctx := c.Request().Context()
	nameKey, addrKey := "name:"+req.Username, "addr:"+c.RealIP()
	if len(req.Username) > 64 {
		nameKey = "name:" + req.Username[:64]
	}
	wName, err := s.limiter.wait(ctx, nameKey, s.limiter.limit.PerName)
	if err != nil {
		return err
	}
	wAddr, err := s.limiter.wait(ctx, addrKey, s.limiter.limit.PerAddress)
	if err != nil {
		return err
	}
	if w := max(wName, wAddr); w > 0 {
		secs := strconv.Itoa(int(math.Ceil(w.Seconds())))
		return &statusError{status: http.StatusTooManyRequests, code: "rate_limited",
			msg:    "too many failed sign-ins: try again in " + secs + " seconds",
			header: map[string]string{"Retry-After": secs}}
	}
	sess, err := s.accounts.Login(ctx, req.Username, req.Password)
	if err != nil {
		if errors.Is(err, errs.Unauthorized) {
			if ferr := s.limiter.fail(ctx, nameKey, addrKey); ferr != nil {
				return ferr
			}
			s.audit(c, "login_failed", req.Username, nil)
		}
		return err
	}
	if err := s.limiter.reset(ctx, nameKey); err != nil {
		return err
	}
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
