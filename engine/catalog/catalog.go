// Package catalog keeps the saved studies: a protocol with its name and
// description, every saved version of it, and who it is shared with. Its
// Service is the only code that reads or writes the tables study,
// study_version and study_share. Access is decided here, once: a study is
// visible to its owner and to the users it is shared with, and to nobody
// else (not even admins) — for them it does not exist (errs.NotFound).
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/engine/access"
	"github.com/beaver-analytics/beaver/schema/errs"
)

// Access is what a user may do with a study.
type Access string

// The accesses: the owner edits, runs, shares and deletes; a reader reads
// and sees the runs.
const (
	AccessOwner Access = "owner"
	AccessRead  Access = "read"
)

// Study is a saved study as its user sees it.
type Study struct {
	ID          int64           `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Protocol    json.RawMessage `json:"protocol,omitempty"`
	Version     int             `json:"version"`
	OwnerID     int64           `json:"owner_id"`
	Owner       string          `json:"owner"`
	Access      Access          `json:"access"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// Version is one saved version of a study.
type Version struct {
	Version     int             `json:"version"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Protocol    json.RawMessage `json:"protocol,omitempty"`
	SavedBy     *string         `json:"saved_by"`
	SavedAt     time.Time       `json:"saved_at"`
}

// Draft is what a user saves: name, description and protocol.
type Draft struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Protocol    json.RawMessage `json:"protocol"`
}

// Limits of a draft.
const (
	MaxName        = 200
	MaxDescription = 20000
)

// Validate checks a draft's fields. The protocol need only be a JSON
// object: an unfinished protocol may be saved; it is validated when run.
func (d Draft) Validate() error {
	name := strings.TrimSpace(d.Name)
	switch {
	case name == "":
		return fmt.Errorf("%w: name: give the study a name", errs.Invalid)
	case utf8.RuneCountInString(name) > MaxName:
		return fmt.Errorf("%w: name: at most %d characters", errs.Invalid, MaxName)
	case utf8.RuneCountInString(d.Description) > MaxDescription:
		return fmt.Errorf("%w: description: at most %d characters", errs.Invalid, MaxDescription)
	}
	var obj map[string]json.RawMessage
	if len(d.Protocol) == 0 || json.Unmarshal(d.Protocol, &obj) != nil || obj == nil {
		return fmt.Errorf("%w: protocol: must be a JSON object", errs.Invalid)
	}
	return nil
}

// Service reads and writes saved studies.
type Service struct {
	Pool *pgxpool.Pool
}

const studyCols = `s.id, s.name, s.description, s.protocol, s.version, s.owner_id, o.name,
	CASE WHEN s.owner_id = $1 THEN 'owner' ELSE sh.access END, s.created_at, s.updated_at`

// visible joins what user $1 may see.
const visible = ` FROM study s JOIN app_user o ON o.id = s.owner_id
	LEFT JOIN study_share sh ON sh.study_id = s.id AND sh.user_id = $1
	WHERE s.deleted_at IS NULL AND (s.owner_id = $1 OR sh.user_id IS NOT NULL)`

func scanStudy(row pgx.Row) (*Study, error) {
	st := &Study{}
	var acc string
	var proto []byte
	if err := row.Scan(&st.ID, &st.Name, &st.Description, &proto, &st.Version, &st.OwnerID, &st.Owner, &acc, &st.CreatedAt, &st.UpdatedAt); err != nil {
		return nil, err
	}
	st.Protocol = proto
	st.Access = Access(acc)
	return st, nil
}

// Create saves a new study owned by u, as version 1.
func (s *Service) Create(ctx context.Context, u *access.User, d Draft) (*Study, error) {
	if !u.Role.CanRun() {
		return nil, fmt.Errorf("%w: a %s cannot create studies", errs.Forbidden, u.Role)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	var id int64
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO study (owner_id, name, description, protocol) VALUES ($1, $2, $3, $4) RETURNING id`,
			u.ID, strings.TrimSpace(d.Name), d.Description, []byte(d.Protocol)).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO study_version (study_id, version, name, description, protocol, saved_by)
			SELECT id, version, name, description, protocol, $2 FROM study WHERE id = $1`, id, u.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: create study: %w", err)
	}
	return s.Get(ctx, u, id)
}

// Get returns a study u may see.
func (s *Service) Get(ctx context.Context, u *access.User, id int64) (*Study, error) {
	st, err := scanStudy(s.Pool.QueryRow(ctx, "SELECT "+studyCols+visible+" AND s.id = $2", u.ID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: study %d", errs.NotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: read study %d: %w", id, err)
	}
	return st, nil
}

// Own returns a study u owns: a study u only reads is Forbidden, one u
// cannot see NotFound.
func (s *Service) Own(ctx context.Context, u *access.User, id int64) (*Study, error) {
	st, err := s.Get(ctx, u, id)
	if err != nil {
		return nil, err
	}
	if st.Access != AccessOwner {
		return nil, fmt.Errorf("%w: study %d is shared with you to read; only its owner %s may change it", errs.Forbidden, id, st.Owner)
	}
	return st, nil
}

// Update saves a new version of a study u owns. version is the version the
// user edited: when another save came in between, the update is a
// Conflict that names the current version.
func (s *Service) Update(ctx context.Context, u *access.User, id int64, version int, d Draft) (*Study, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if _, err := s.Own(ctx, u, id); err != nil {
		return nil, err
	}
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var current int
		if err := tx.QueryRow(ctx, "SELECT version FROM study WHERE id = $1 FOR UPDATE", id).Scan(&current); err != nil {
			return err
		}
		if version != current {
			return &VersionConflict{Study: id, Current: current, Given: version}
		}
		if _, err := tx.Exec(ctx, `UPDATE study SET name = $2, description = $3, protocol = $4, version = version + 1, updated_at = now()
			WHERE id = $1`, id, strings.TrimSpace(d.Name), d.Description, []byte(d.Protocol)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO study_version (study_id, version, name, description, protocol, saved_by)
			SELECT id, version, name, description, protocol, $2 FROM study WHERE id = $1`, id, u.ID)
		return err
	})
	var vc *VersionConflict
	if errors.As(err, &vc) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: update study %d: %w", id, err)
	}
	return s.Get(ctx, u, id)
}

// VersionConflict is an update based on a version that is no longer the
// current one.
type VersionConflict struct {
	Study          int64
	Current, Given int
}

func (e *VersionConflict) Error() string {
	return fmt.Sprintf("study %d was saved by someone else meanwhile: you edited version %d, the current one is %d; reload it and apply your changes again", e.Study, e.Given, e.Current)
}

// Unwrap makes the conflict a errs.Conflict.
func (e *VersionConflict) Unwrap() error { return errs.Conflict }

// Delete removes a study u owns from every list (its versions and runs
// stay for the audit trail).
func (s *Service) Delete(ctx context.Context, u *access.User, id int64) error {
	if _, err := s.Own(ctx, u, id); err != nil {
		return err
	}
	if _, err := s.Pool.Exec(ctx, "UPDATE study SET deleted_at = now() WHERE id = $1", id); err != nil {
		return fmt.Errorf("catalog: delete study %d: %w", id, err)
	}
	return nil
}

// ListFilter selects studies: Q matches words of the name or description
// (case-insensitive), Limit (default 50, at most 200) and Offset page.
type ListFilter struct {
	Q      string
	Limit  int
	Offset int
}

// List returns the studies u owns or that are shared with u, most
// recently changed first, without their protocols, and how many match.
func (s *Service) List(ctx context.Context, u *access.User, f ListFilter) ([]*Study, int, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	where := visible
	args := []any{u.ID}
	for _, w := range strings.Fields(f.Q) {
		if len(args) > 10 {
			break
		}
		args = append(args, "%"+likeEscape(strings.ToLower(w))+"%")
		n := strconv.Itoa(len(args))
		where += " AND (lower(s.name) LIKE $" + n + " OR lower(s.description) LIKE $" + n + ")"
	}
	var total int
	if err := s.Pool.QueryRow(ctx, "SELECT count(*)"+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("catalog: count studies: %w", err)
	}
	args = append(args, f.Limit, f.Offset)
	q := "SELECT " + strings.Replace(studyCols, "s.protocol", "NULL::jsonb", 1) + where +
		" ORDER BY s.updated_at DESC, s.id DESC LIMIT $" + strconv.Itoa(len(args)-1) + " OFFSET $" + strconv.Itoa(len(args))
	rows, err := s.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("catalog: list studies: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Study, error) { return scanStudy(r) })
	if err != nil {
		return nil, 0, fmt.Errorf("catalog: list studies: %w", err)
	}
	return out, total, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Versions lists a visible study's saved versions, newest first, with
// their protocols.
func (s *Service) Versions(ctx context.Context, u *access.User, id int64) ([]Version, error) {
	if _, err := s.Get(ctx, u, id); err != nil {
		return nil, err
	}
	rows, err := s.Pool.Query(ctx, `SELECT v.version, v.name, v.description, v.protocol, a.name, v.saved_at
		FROM study_version v LEFT JOIN app_user a ON a.id = v.saved_by WHERE v.study_id = $1 ORDER BY v.version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("catalog: versions of study %d: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Version, error) {
		var v Version
		var proto []byte
		err := r.Scan(&v.Version, &v.Name, &v.Description, &proto, &v.SavedBy, &v.SavedAt)
		v.Protocol = proto
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: versions of study %d: %w", id, err)
	}
	return out, nil
}

// Share gives another user read access to a study u owns, or takes it
// away (access "none").
func (s *Service) Share(ctx context.Context, u *access.User, id int64, username string, acc string) error {
	if acc != string(AccessRead) && acc != "none" {
		return fmt.Errorf("%w: access: must be \"read\" or \"none\", not %q", errs.Invalid, acc)
	}
	if _, err := s.Own(ctx, u, id); err != nil {
		return err
	}
	var other int64
	err := s.Pool.QueryRow(ctx, "SELECT id FROM app_user WHERE name = $1 AND disabled_at IS NULL", username).Scan(&other)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: username: no user %q", errs.Invalid, username)
	}
	if err != nil {
		return fmt.Errorf("catalog: share study %d: %w", id, err)
	}
	if other == u.ID {
		return fmt.Errorf("%w: username: you own the study already", errs.Invalid)
	}
	if acc == "none" {
		_, err = s.Pool.Exec(ctx, "DELETE FROM study_share WHERE study_id = $1 AND user_id = $2", id, other)
	} else {
		_, err = s.Pool.Exec(ctx, `INSERT INTO study_share (study_id, user_id, access, shared_by) VALUES ($1, $2, $3, $4)
			ON CONFLICT (study_id, user_id) DO UPDATE SET access = EXCLUDED.access`, id, other, acc, u.ID)
	}
	if err != nil {
		return fmt.Errorf("catalog: share study %d: %w", id, err)
	}
	return nil
}

// Shares lists the users a study u owns is shared with.
func (s *Service) Shares(ctx context.Context, u *access.User, id int64) ([]Share, error) {
	if _, err := s.Own(ctx, u, id); err != nil {
		return nil, err
	}
	rows, err := s.Pool.Query(ctx, `SELECT a.name, sh.access, sh.shared_at FROM study_share sh JOIN app_user a ON a.id = sh.user_id
		WHERE sh.study_id = $1 ORDER BY a.name`, id)
	if err != nil {
		return nil, fmt.Errorf("catalog: shares of study %d: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Share, error) {
		var sh Share
		err := r.Scan(&sh.Username, &sh.Access, &sh.SharedAt)
		return sh, err
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: shares of study %d: %w", id, err)
	}
	return out, nil
}

// Share is one user a study is shared with.
type Share struct {
	Username string    `json:"username"`
	Access   string    `json:"access"`
	SharedAt time.Time `json:"shared_at"`
}
