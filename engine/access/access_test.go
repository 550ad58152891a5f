package access_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/access"
	"github.com/beaver-analytics/beaver/schema/errs"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestCreateUserValidates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &access.Service{Pool: pgtest.Pool(t)}
	cases := []struct {
		name, user string
		role       access.Role
		password   string
		scope      []string
		want       error
		msg        string
	}{
		{"ok", "ana", access.RoleAnalyst, "long-enough-1", nil, nil, ""},
		{"viewer with scope", "vera", access.RoleViewer, "long-enough-1", []string{"ASL2", "ASL1", "ASL2"}, nil, ""},
		{"bad name", "ana smith", access.RoleAnalyst, "long-enough-1", nil, errs.Invalid, "user name"},
		{"bad role", "bob", "boss", "long-enough-1", nil, errs.Invalid, `role "boss"`},
		{"short password", "bob", access.RoleAdmin, "short", nil, errs.Invalid, "at least 10"},
		{"bad scope", "bob", access.RoleAnalyst, "long-enough-1", []string{"ASL 1"}, errs.Invalid, "ASL code"},
		{"duplicate", "ana", access.RoleAdmin, "long-enough-2", nil, errs.Conflict, `user "ana"`},
	}
	for _, tc := range cases {
		u, err := s.CreateUser(ctx, access.NewUser{Name: tc.user, Role: tc.role, Password: tc.password, Scope: tc.scope})
		if tc.want == nil {
			require.NoError(t, err, tc.name)
			require.NotZero(t, u.ID)
			continue
		}
		require.True(t, errors.Is(err, tc.want), "%s: got %v", tc.name, err)
		require.Contains(t, err.Error(), tc.msg, tc.name)
	}
	n, err := s.CountUsers(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	v, err := s.UserByName(ctx, "vera")
	require.NoError(t, err)
	require.Equal(t, []string{"ASL1", "ASL2"}, v.Scope, "scope sorted and without repeats")
}

func TestLoginAndSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &access.Service{Pool: pool}
	u0, err := s.CreateUser(ctx, access.NewUser{Name: "ana", Role: access.RoleAnalyst, Password: "the-password"})
	require.NoError(t, err)

	_, err = s.Login(ctx, "ana", "wrong-password")
	require.ErrorIs(t, err, errs.Unauthorized)
	_, err2 := s.Login(ctx, "nobody", "the-password")
	require.ErrorIs(t, err2, errs.Unauthorized)
	require.Equal(t, err.Error(), err2.Error(), "an unknown user and a wrong password get the same answer")

	sess, err := s.Login(ctx, "ana", "the-password")
	require.NoError(t, err)
	require.Equal(t, access.RoleAnalyst, sess.User.Role)
	require.Len(t, sess.Token, 43, "256-bit token")
	got, err := s.SessionUser(ctx, sess.Token)
	require.NoError(t, err)
	require.Equal(t, u0.ID, got.User.ID)
	require.Equal(t, sess.CSRF, got.CSRF)

	// Each sign-in opens a new session (rotation).
	sess2, err := s.Login(ctx, "ana", "the-password")
	require.NoError(t, err)
	require.NotEqual(t, sess.Token, sess2.Token)

	// The table holds only the token's hash.
	var stored int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM app_session WHERE token_hash = convert_to($1, 'UTF8')", sess.Token).Scan(&stored))
	require.Zero(t, stored)

	// An idle-expired session is refused, and one past its absolute expiry.
	_, err = pool.Exec(ctx, "UPDATE app_session SET expires_at = now() - interval '1 second' WHERE token_hash = sha256(convert_to($1, 'UTF8'))", sess.Token)
	require.NoError(t, err)
	_, err = s.SessionUser(ctx, sess.Token)
	require.ErrorIs(t, err, errs.Unauthorized)
	_, err = pool.Exec(ctx, "UPDATE app_session SET absolute_expires_at = now() - interval '1 second' WHERE token_hash = sha256(convert_to($1, 'UTF8'))", sess2.Token)
	require.NoError(t, err)
	_, err = s.SessionUser(ctx, sess2.Token)
	require.ErrorIs(t, err, errs.Unauthorized)
	n, err := s.DeleteExpiredSessions(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)

	// A password change ends every session of the user.
	sess3, err := s.Login(ctx, "ana", "the-password")
	require.NoError(t, err)
	pw := "a-new-password"
	_, err = s.UpdateUser(ctx, u0.ID, access.UserChange{Password: &pw})
	require.NoError(t, err)
	_, err = s.SessionUser(ctx, sess3.Token)
	require.ErrorIs(t, err, errs.Unauthorized)

	// A disabled user's sessions and tokens end, and sign-in is refused.
	sess4, err := s.Login(ctx, "ana", pw)
	require.NoError(t, err)
	tok, err := s.CreateToken(ctx, u0.ID, "script", nil)
	require.NoError(t, err)
	yes := true
	_, err = s.UpdateUser(ctx, u0.ID, access.UserChange{Disabled: &yes})
	require.NoError(t, err)
	_, err = s.SessionUser(ctx, sess4.Token)
	require.ErrorIs(t, err, errs.Unauthorized)
	_, err = s.TokenUser(ctx, tok.Secret)
	require.ErrorIs(t, err, errs.Unauthorized)
	_, err = s.Login(ctx, "ana", pw)
	require.ErrorIs(t, err, errs.Unauthorized)

	require.NoError(t, s.Logout(ctx, sess4.Token))
	_, err = s.SessionUser(ctx, "")
	require.ErrorIs(t, err, errs.Unauthorized)
}

func TestTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := &access.Service{Pool: pool}
	u, err := s.CreateUser(ctx, access.NewUser{Name: "ana", Role: access.RoleAnalyst, Password: "the-password"})
	require.NoError(t, err)
	other, err := s.CreateUser(ctx, access.NewUser{Name: "bob", Role: access.RoleAnalyst, Password: "the-password"})
	require.NoError(t, err)

	past := time.Now().Add(-time.Hour)
	_, err = s.CreateToken(ctx, u.ID, "x", &past)
	require.ErrorIs(t, err, errs.Invalid)
	future := time.Now().Add(time.Hour)
	tok, err := s.CreateToken(ctx, u.ID, "ci script", &future)
	require.NoError(t, err)
	require.Contains(t, tok.Secret, access.TokenPrefix)
	got, err := s.TokenUser(ctx, tok.Secret)
	require.NoError(t, err)
	require.Equal(t, u.ID, got.ID)

	var stored int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM api_token WHERE token_hash = convert_to($1, 'UTF8')", tok.Secret).Scan(&stored))
	require.Zero(t, stored, "only the hash is stored")

	list, err := s.Tokens(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NotNil(t, list[0].LastUsed)

	require.ErrorIs(t, s.DeleteToken(ctx, other.ID, tok.ID), errs.NotFound, "another user's token")
	require.NoError(t, s.DeleteToken(ctx, u.ID, tok.ID))
	_, err = s.TokenUser(ctx, tok.Secret)
	require.ErrorIs(t, err, errs.Unauthorized)

	_, err = pool.Exec(ctx, "UPDATE api_token SET expires_at = now() - interval '1 second'")
	require.NoError(t, err)
}

func TestSettingsAndAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &access.Service{Pool: pgtest.Pool(t)}
	st, err := s.Settings(ctx)
	require.NoError(t, err)
	require.Equal(t, 5, st.MinCount)
	require.ErrorIs(t, s.SetSettings(ctx, 0, access.Settings{MinCount: 1}), errs.Invalid)
	require.NoError(t, s.SetSettings(ctx, 0, access.Settings{MinCount: 11}))
	st, err = s.Settings(ctx)
	require.NoError(t, err)
	require.Equal(t, 11, st.MinCount)

	long := make([]byte, 5<<20)
	for i := range long {
		long[i] = 'a'
	}
	require.NoError(t, s.Audit(ctx, 0, "login_failed", string(long), "127.0.0.1", nil))
	require.NoError(t, s.Audit(ctx, 0, "settings", "min_count", "127.0.0.1", map[string]any{"min_count": 11}))
	ev, err := s.AuditEvents(ctx, access.AuditFilter{})
	require.NoError(t, err)
	require.Len(t, ev, 2)
	require.Equal(t, "settings", ev[0].Action, "newest first")
	require.Less(t, len(ev[1].Target), 300, "a 5 MB user name is not stored whole")
	ev, err = s.AuditEvents(ctx, access.AuditFilter{Action: "login_failed"})
	require.NoError(t, err)
	require.Len(t, ev, 1)
}
