package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/access"
	"github.com/beaver-analytics/beaver/engine/catalog"
	"github.com/beaver-analytics/beaver/schema/errs"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestStudies: a study is visible to its owner and to the users it is
// shared with, and to nobody else (admins included: not found); every
// save is a version; an edit of a stale version is a conflict that names
// the current one; only the owner changes, shares and deletes.
func TestStudies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	acc := &access.Service{Pool: pool}
	user := func(name string, role access.Role) *access.User {
		u, err := acc.CreateUser(ctx, access.NewUser{Name: name, Role: role, Password: name + "-password"})
		require.NoError(t, err)
		return u
	}
	ana, bob, vic, root := user("ana", access.RoleAnalyst), user("bob", access.RoleAnalyst), user("vic", access.RoleViewer), user("root", access.RoleAdmin)
	cat := &catalog.Service{Pool: pool}

	_, err := cat.Create(ctx, vic, catalog.Draft{Name: "x", Protocol: json.RawMessage(`{}`)})
	require.ErrorIs(t, err, errs.Forbidden, "a viewer cannot create")
	_, err = cat.Create(ctx, ana, catalog.Draft{Name: " ", Protocol: json.RawMessage(`{}`)})
	require.ErrorIs(t, err, errs.Invalid)
	_, err = cat.Create(ctx, ana, catalog.Draft{Name: "x", Protocol: json.RawMessage(`[1]`)})
	require.ErrorIs(t, err, errs.Invalid, "a protocol is a JSON object")

	st, err := cat.Create(ctx, ana, catalog.Draft{Name: "Statins and falls", Description: "pilot", Protocol: json.RawMessage(`{"version": 1}`)})
	require.NoError(t, err)
	require.Equal(t, 1, st.Version)
	require.Equal(t, catalog.AccessOwner, st.Access)

	for _, u := range []*access.User{bob, vic, root} {
		_, err := cat.Get(ctx, u, st.ID)
		require.ErrorIs(t, err, errs.NotFound, "%s sees another user's study", u.Name)
	}
	require.NoError(t, cat.Share(ctx, ana, st.ID, "vic", "read"))
	got, err := cat.Get(ctx, vic, st.ID)
	require.NoError(t, err)
	require.Equal(t, catalog.AccessRead, got.Access)
	_, err = cat.Update(ctx, vic, st.ID, 1, catalog.Draft{Name: "mine now", Protocol: json.RawMessage(`{}`)})
	require.ErrorIs(t, err, errs.Forbidden, "a reader cannot save")
	require.ErrorIs(t, cat.Share(ctx, ana, st.ID, "nobody", "read"), errs.Invalid)

	v2, err := cat.Update(ctx, ana, st.ID, 1, catalog.Draft{Name: "Statins and falls", Protocol: json.RawMessage(`{"version": 1, "name": "s"}`)})
	require.NoError(t, err)
	require.Equal(t, 2, v2.Version)
	_, err = cat.Update(ctx, ana, st.ID, 1, catalog.Draft{Name: "stale", Protocol: json.RawMessage(`{}`)})
	var vc *catalog.VersionConflict
	require.True(t, errors.As(err, &vc), "%v", err)
	require.Equal(t, 2, vc.Current)
	require.ErrorIs(t, err, errs.Conflict)
	versions, err := cat.Versions(ctx, vic, st.ID)
	require.NoError(t, err)
	require.Len(t, versions, 2)
	require.Equal(t, 2, versions[0].Version, "newest first")

	list, total, err := cat.List(ctx, vic, catalog.ListFilter{Q: "STATINS"})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	require.Nil(t, list[0].Protocol, "lists carry no protocols")
	_, total, err = cat.List(ctx, bob, catalog.ListFilter{})
	require.NoError(t, err)
	require.Zero(t, total)
	_, total, err = cat.List(ctx, ana, catalog.ListFilter{Q: "100%_"})
	require.NoError(t, err)
	require.Zero(t, total, "LIKE wildcards in q are literal")

	require.NoError(t, cat.Share(ctx, ana, st.ID, "vic", "none"))
	_, err = cat.Get(ctx, vic, st.ID)
	require.ErrorIs(t, err, errs.NotFound, "unshared")
	require.ErrorIs(t, cat.Delete(ctx, bob, st.ID), errs.NotFound)
	require.NoError(t, cat.Delete(ctx, ana, st.ID))
	_, err = cat.Get(ctx, ana, st.ID)
	require.ErrorIs(t, err, errs.NotFound, "deleted")
}
