package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"
)

// Role is what a user may do: admins manage users, imports and see data
// history; analysts design and run studies.
type Role string

// The roles.
const (
	RoleAdmin   Role = "admin"
	RoleAnalyst Role = "analyst"
)

// User is an account of the web application.
type User struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
}

// Errors of the user service, mapped to HTTP statuses by web.
var (
	ErrInvalid      = errors.New("invalid")
	ErrConflict     = errors.New("already exists")
	ErrUnauthorized = errors.New("unauthorized")
)

var userName = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// SessionTTL is how long a login lasts without use.
const SessionTTL = 12 * time.Hour

// CreateUser adds a user with a bcrypt hash of the password.
func CreateUser(ctx context.Context, pool *pgxpool.Pool, name string, role Role, password string) (*User, error) {
	if !userName.MatchString(name) {
		return nil, fmt.Errorf("%w: user name %q: use 1-64 letters, digits, '.', '_', '@' or '-'", ErrInvalid, name)
	}
	if role != RoleAdmin && role != RoleAnalyst {
		return nil, fmt.Errorf("%w: role %q: must be admin or analyst", ErrInvalid, role)
	}
	if len(password) < MinPasswordLength {
		return nil, fmt.Errorf("%w: password must have at least %d characters", ErrInvalid, MinPasswordLength)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	u := &User{Name: name, Role: role}
	err = pool.QueryRow(ctx, "INSERT INTO app_user (name, role, password_hash) VALUES ($1, $2, $3) RETURNING id",
		name, string(role), string(hash)).Scan(&u.ID)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return nil, fmt.Errorf("%w: user %q", ErrConflict, name)
	}
	if err != nil {
		return nil, fmt.Errorf("create user %q: %w", name, err)
	}
	return u, nil
}

// CountUsers returns how many users exist (zero on a fresh install).
func CountUsers(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	var n int
	err := pool.QueryRow(ctx, "SELECT count(*) FROM app_user").Scan(&n)
	return n, err
}

// GeneratePassword returns a random password of 20 URL-safe characters.
func GeneratePassword() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// dummyHash makes a login with an unknown name cost as much as one with a
// wrong password, so that timing does not reveal which names exist.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("beaver-dummy-password"), bcrypt.DefaultCost)

// Login checks a name and password and opens a session, returning its token
// (to be sent as a cookie) and the user.
func Login(ctx context.Context, pool *pgxpool.Pool, name, password string) (string, *User, error) {
	u := &User{Name: name}
	var hash string
	var role string
	err := pool.QueryRow(ctx, "SELECT id, role, password_hash FROM app_user WHERE name = $1 AND disabled_at IS NULL", name).Scan(&u.ID, &role, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return "", nil, ErrUnauthorized
	}
	if err != nil {
		return "", nil, fmt.Errorf("login: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", nil, ErrUnauthorized
	}
	u.Role = Role(role)
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(token))
	if _, err := pool.Exec(ctx, "INSERT INTO app_session (token_hash, user_id, expires_at) VALUES ($1, $2, now() + $3::interval)",
		sum[:], u.ID, SessionTTL.String()); err != nil {
		return "", nil, fmt.Errorf("login: store session: %w", err)
	}
	return token, u, nil
}

// SessionUser returns the user of a live session token and extends it.
func SessionUser(ctx context.Context, pool *pgxpool.Pool, token string) (*User, error) {
	if token == "" {
		return nil, ErrUnauthorized
	}
	sum := sha256.Sum256([]byte(token))
	u := &User{}
	var role string
	err := pool.QueryRow(ctx, `
		UPDATE app_session s SET last_seen_at = now(), expires_at = now() + $2::interval
		FROM app_user u
		WHERE s.token_hash = $1 AND s.expires_at > now() AND u.id = s.user_id AND u.disabled_at IS NULL
		RETURNING u.id, u.name, u.role`, sum[:], SessionTTL.String()).Scan(&u.ID, &u.Name, &role)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	u.Role = Role(role)
	return u, nil
}

// Logout ends a session.
func Logout(ctx context.Context, pool *pgxpool.Pool, token string) error {
	sum := sha256.Sum256([]byte(token))
	_, err := pool.Exec(ctx, "DELETE FROM app_session WHERE token_hash = $1", sum[:])
	return err
}

// Audit records an action in the audit log.
func Audit(ctx context.Context, pool *pgxpool.Pool, userID int64, action, target, remoteIP string) error {
	var uid *int64
	if userID != 0 {
		uid = &userID
	}
	_, err := pool.Exec(ctx, "INSERT INTO audit_log (user_id, action, target, remote_ip) VALUES ($1, $2, $3, $4)", uid, action, target, remoteIP)
	return err
}
