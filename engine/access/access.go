// Package access is who may use Beaver: users with their roles and data
// scopes, sessions, personal API tokens, the settings an admin changes and
// the audit log. Its Service is the only code that reads or writes the
// tables app_user, app_session, api_token, app_setting and audit_log.
package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/beaver-analytics/beaver/schema/errs"
)

// Role is what a user may do.
type Role string

// The roles: admins manage users, imports, settings and read the audit log
// (no special access to other people's studies); analysts create and run
// studies; viewers read what is shared with them.
const (
	RoleAdmin   Role = "admin"
	RoleAnalyst Role = "analyst"
	RoleViewer  Role = "viewer"
)

// Roles lists the roles in order of power.
var Roles = []Role{RoleViewer, RoleAnalyst, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// CanRun reports whether the role may create and run studies.
func (r Role) CanRun() bool { return r == RoleAnalyst || r == RoleAdmin }

// User is an account of the web application.
type User struct {
	ID   int64  `json:"id"`
	Name string `json:"username"`
	Role Role   `json:"role"`
	// Scope lists the ASLs the user's runs are restricted to; empty for
	// the whole region.
	Scope    []string   `json:"scope"`
	Disabled bool       `json:"disabled,omitempty"`
	Created  *time.Time `json:"created_at,omitempty"`
}

// Timeouts of sessions.
const (
	// SessionIdle ends a session not used for this long.
	SessionIdle = 2 * time.Hour
	// SessionMax ends a session this long after sign-in, used or not.
	SessionMax = 12 * time.Hour
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

var (
	userName = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)
	aslCode  = regexp.MustCompile(`^[A-Za-z0-9]{1,16}$`)
)

// Service reads and writes users, sessions, tokens, settings and the audit
// log.
type Service struct {
	Pool *pgxpool.Pool
}

// ErrWrongLogin is the one answer to a failed sign-in, whether the user is
// unknown or the password wrong.
var ErrWrongLogin = fmt.Errorf("%w: wrong user name or password", errs.Unauthorized)

// NewUser is what an admin gives to create a user.
type NewUser struct {
	Name     string
	Role     Role
	Password string
	Scope    []string
}

func checkName(name string) error {
	if !userName.MatchString(name) {
		if len(name) > 70 {
			name = name[:64] + "…"
		}
		return fmt.Errorf("%w: user name %q: use 1-64 letters, digits, '.', '_', '@' or '-'", errs.Invalid, name)
	}
	return nil
}

func checkRole(r Role) error {
	if !r.Valid() {
		return fmt.Errorf("%w: role %q: must be admin, analyst or viewer", errs.Invalid, r)
	}
	return nil
}

func checkPassword(p string) error {
	if len(p) < MinPasswordLength {
		return fmt.Errorf("%w: password must have at least %d characters", errs.Invalid, MinPasswordLength)
	}
	if len(p) > 72 {
		return fmt.Errorf("%w: password must have at most 72 bytes", errs.Invalid)
	}
	return nil
}

func checkScope(scope []string) error {
	for _, a := range scope {
		if !aslCode.MatchString(a) {
			return fmt.Errorf("%w: scope: ASL code %q: use 1-16 letters or digits", errs.Invalid, a)
		}
	}
	return nil
}

// CreateUser adds a user with a bcrypt hash of the password.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (*User, error) {
	if err := checkName(nu.Name); err != nil {
		return nil, err
	}
	if err := checkRole(nu.Role); err != nil {
		return nil, err
	}
	if err := checkPassword(nu.Password); err != nil {
		return nil, err
	}
	if err := checkScope(nu.Scope); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(nu.Password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("access: hash password: %w", err)
	}
	scope := normScope(nu.Scope)
	u := &User{Name: nu.Name, Role: nu.Role, Scope: scope}
	err = s.Pool.QueryRow(ctx, "INSERT INTO app_user (name, role, password_hash, scope) VALUES ($1, $2, $3, $4) RETURNING id",
		nu.Name, string(nu.Role), string(hash), scope).Scan(&u.ID)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return nil, fmt.Errorf("%w: user %q already exists", errs.Conflict, nu.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("access: create user %q: %w", nu.Name, err)
	}
	return u, nil
}

func normScope(scope []string) []string {
	out := slices.Clone(scope)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// CountUsers returns how many users exist (zero on a fresh install).
func (s *Service) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.Pool.QueryRow(ctx, "SELECT count(*) FROM app_user").Scan(&n)
	return n, err
}

const userCols = "id, name, role, scope, disabled_at IS NOT NULL, created_at"

func scanUser(row pgx.Row) (*User, error) { return scanUserAnd(row) }

// scanUserAnd scans a user's userCols, then the row's further columns into
// more.
func scanUserAnd(row pgx.Row, more ...any) (*User, error) {
	u := &User{}
	var role string
	var created time.Time
	if err := row.Scan(append([]any{&u.ID, &u.Name, &role, &u.Scope, &u.Disabled, &created}, more...)...); err != nil {
		return nil, err
	}
	u.Role = Role(role)
	u.Created = &created
	if u.Scope == nil {
		u.Scope = []string{}
	}
	return u, nil
}

// userWhere returns the one user a condition on app_user selects.
func (s *Service) userWhere(ctx context.Context, what, cond string, arg any) (*User, error) {
	u, err := scanUser(s.Pool.QueryRow(ctx, "SELECT "+userCols+" FROM app_user WHERE "+cond, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: no user %s", errs.NotFound, what)
	}
	if err != nil {
		return nil, fmt.Errorf("access: read user %s: %w", what, err)
	}
	return u, nil
}

// User returns the user with id.
func (s *Service) User(ctx context.Context, id int64) (*User, error) {
	return s.userWhere(ctx, strconv.FormatInt(id, 10), "id = $1", id)
}

// UserByName returns the enabled user called name.
func (s *Service) UserByName(ctx context.Context, name string) (*User, error) {
	return s.userWhere(ctx, strconv.Quote(name), "name = $1 AND disabled_at IS NULL", name)
}

// Users lists every user by name.
func (s *Service) Users(ctx context.Context) ([]*User, error) {
	rows, err := s.Pool.Query(ctx, "SELECT "+userCols+" FROM app_user ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("access: list users: %w", err)
	}
	defer rows.Close()
	out := []*User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("access: list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UserChange is an admin's change of a user; nil fields stay as they are.
type UserChange struct {
	Role     *Role     `json:"role,omitempty"`
	Scope    *[]string `json:"scope,omitempty"`
	Disabled *bool     `json:"disabled,omitempty"`
	Password *string   `json:"password,omitempty"`
}

// UpdateUser applies a change. Disabling a user or changing the password
// ends all the user's sessions.
func (s *Service) UpdateUser(ctx context.Context, id int64, ch UserChange) (*User, error) {
	if ch.Role != nil {
		if err := checkRole(*ch.Role); err != nil {
			return nil, err
		}
	}
	if ch.Scope != nil {
		if err := checkScope(*ch.Scope); err != nil {
			return nil, err
		}
	}
	var hash *string
	if ch.Password != nil {
		if err := checkPassword(*ch.Password); err != nil {
			return nil, err
		}
		h, err := bcrypt.GenerateFromPassword([]byte(*ch.Password), bcrypt.DefaultCost)
		if err != nil {
			return nil, fmt.Errorf("access: hash password: %w", err)
		}
		hs := string(h)
		hash = &hs
	}
	var role *string
	if ch.Role != nil {
		r := string(*ch.Role)
		role = &r
	}
	var scope []string
	if ch.Scope != nil {
		scope = normScope(*ch.Scope)
	}
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE app_user SET
			role = coalesce($2, role),
			scope = CASE WHEN $3::boolean THEN $4::text[] ELSE scope END,
			disabled_at = CASE WHEN $5::boolean IS NULL THEN disabled_at
			                   WHEN $5 THEN coalesce(disabled_at, now()) ELSE NULL END,
			password_hash = coalesce($6, password_hash),
			password_changed_at = CASE WHEN $6 IS NULL THEN password_changed_at ELSE now() END
			WHERE id = $1`, id, role, ch.Scope != nil, scope, ch.Disabled, hash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: user %d", errs.NotFound, id)
		}
		if hash != nil || (ch.Disabled != nil && *ch.Disabled) {
			if _, err := tx.Exec(ctx, "DELETE FROM app_session WHERE user_id = $1", id); err != nil {
				return err
			}
		}
		if ch.Disabled != nil && *ch.Disabled {
			if _, err := tx.Exec(ctx, "DELETE FROM api_token WHERE user_id = $1", id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errs.KindOf(err) != errs.Internal {
			return nil, err
		}
		return nil, fmt.Errorf("access: update user %d: %w", id, err)
	}
	return s.User(ctx, id)
}

// GeneratePassword returns a random password of 20 URL-safe characters.
func GeneratePassword() string { return randomToken(15) }

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("access: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// dummyHash makes a sign-in with an unknown name cost as much as one with
// a wrong password, so that timing does not reveal which names exist.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("beaver-dummy-password"), bcrypt.DefaultCost)

// Session is a signed-in browser: the token goes in the cookie, the CSRF
// token in the X-CSRF-Token header of state-changing requests.
type Session struct {
	Token string
	CSRF  string
	User  *User
}

// Login checks a name and password and opens a new session (a new random
// 256-bit token each time: sessions are rotated at sign-in).
func (s *Service) Login(ctx context.Context, name, password string) (*Session, error) {
	var hash string
	u, err := scanUserAnd(s.Pool.QueryRow(ctx, "SELECT "+userCols+", password_hash FROM app_user WHERE name = $1 AND disabled_at IS NULL", name), &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, ErrWrongLogin
	}
	if err != nil {
		return nil, fmt.Errorf("access: login: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return nil, ErrWrongLogin
	}
	sess := &Session{Token: randomToken(32), CSRF: randomToken(32), User: u}
	if _, err := s.Pool.Exec(ctx, `INSERT INTO app_session (token_hash, user_id, expires_at, absolute_expires_at, csrf_token)
		VALUES ($1, $2, now() + $3::interval, now() + $4::interval, $5)`,
		hashToken(sess.Token), u.ID, SessionIdle.String(), SessionMax.String(), sess.CSRF); err != nil {
		return nil, fmt.Errorf("access: login: store session: %w", err)
	}
	return sess, nil
}

// SessionUser returns the session of a live token. It slides the idle
// expiry (never past the absolute one) at most once a minute, so that a
// busy client's requests read rather than write.
func (s *Service) SessionUser(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > 100 {
		return nil, fmt.Errorf("%w: no session", errs.Unauthorized)
	}
	sess := &Session{Token: token}
	var csrf string
	var stale bool
	h := hashToken(token)
	u, err := scanUserAnd(s.Pool.QueryRow(ctx, `
		SELECT u.id, u.name, u.role, u.scope, false, u.created_at, s.csrf_token, s.last_seen_at < now() - interval '1 minute'
		FROM app_session s JOIN app_user u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > now() AND s.absolute_expires_at > now()
		  AND u.disabled_at IS NULL AND s.created_at >= u.password_changed_at`, h), &csrf, &stale)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: the session has ended: sign in again", errs.Unauthorized)
	}
	if err != nil {
		return nil, fmt.Errorf("access: read session: %w", err)
	}
	if stale {
		if _, err := s.Pool.Exec(ctx, `UPDATE app_session SET last_seen_at = now(),
			expires_at = least(now() + $2::interval, absolute_expires_at) WHERE token_hash = $1`, h, SessionIdle.String()); err != nil {
			return nil, fmt.Errorf("access: extend session: %w", err)
		}
	}
	sess.User, sess.CSRF = u, csrf
	return sess, nil
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, token string) error {
	_, err := s.Pool.Exec(ctx, "DELETE FROM app_session WHERE token_hash = $1", hashToken(token))
	if err != nil {
		return fmt.Errorf("access: logout: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes ended sessions and returns how many.
func (s *Service) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	tag, err := s.Pool.Exec(ctx, "DELETE FROM app_session WHERE expires_at < now() OR absolute_expires_at < now()")
	if err != nil {
		return 0, fmt.Errorf("access: delete expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
