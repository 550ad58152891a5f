package access

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/beaver-analytics/beaver/schema/errs"
)

// TokenPrefix starts every personal API token, so that a leaked one is easy
// to recognise (and to search for in logs and repositories).
const TokenPrefix = "bvr_"

// Token is a personal API token as listed; the secret itself is shown only
// once, by CreateToken.
type Token struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	LastUsed  *time.Time `json:"last_used_at"`
}

// NewToken is a created token with its secret.
type NewToken struct {
	Token
	Secret string `json:"token"`
}

// CreateToken gives a user a new token; expires may be nil (no expiry).
func (s *Service) CreateToken(ctx context.Context, userID int64, name string, expires *time.Time) (*NewToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return nil, fmt.Errorf("%w: token name: give 1-100 characters", errs.Invalid)
	}
	if expires != nil && !expires.After(time.Now()) {
		return nil, fmt.Errorf("%w: expires_at: must be in the future", errs.Invalid)
	}
	t := &NewToken{Secret: TokenPrefix + randomToken(32)}
	t.Name, t.ExpiresAt = name, expires
	err := s.Pool.QueryRow(ctx, `INSERT INTO api_token (user_id, name, token_hash, expires_at) VALUES ($1, $2, $3, $4)
		RETURNING id, created_at`, userID, name, hashToken(t.Secret), expires).Scan(&t.ID, &t.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("access: create token: %w", err)
	}
	return t, nil
}

// Tokens lists a user's tokens, newest first.
func (s *Service) Tokens(ctx context.Context, userID int64) ([]Token, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, name, created_at, expires_at, last_used_at FROM api_token
		WHERE user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("access: list tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Token, error) {
		var t Token
		err := r.Scan(&t.ID, &t.Name, &t.CreatedAt, &t.ExpiresAt, &t.LastUsed)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("access: list tokens: %w", err)
	}
	return out, nil
}

// DeleteToken revokes one of a user's tokens.
func (s *Service) DeleteToken(ctx context.Context, userID, id int64) error {
	tag, err := s.Pool.Exec(ctx, "DELETE FROM api_token WHERE id = $1 AND user_id = $2", id, userID)
	if err != nil {
		return fmt.Errorf("access: delete token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: token %d", errs.NotFound, id)
	}
	return nil
}

// TokenUser returns the enabled user of a live token and notes its use.
func (s *Service) TokenUser(ctx context.Context, secret string) (*User, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 100 {
		return nil, fmt.Errorf("%w: not a Beaver API token", errs.Unauthorized)
	}
	u, err := scanUser(s.Pool.QueryRow(ctx, `
		UPDATE api_token t SET last_used_at = now()
		FROM app_user u
		WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > now())
		  AND u.id = t.user_id AND u.disabled_at IS NULL
		RETURNING u.id, u.name, u.role, u.scope, false, u.created_at`, hashToken(secret)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: the token is unknown, revoked or expired", errs.Unauthorized)
	}
	if err != nil {
		return nil, fmt.Errorf("access: read token: %w", err)
	}
	return u, nil
}
