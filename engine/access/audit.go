package access

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// maxAuditText bounds what the audit log keeps of a caller-given text (a
// user name typed at sign-in, an object name): the log must not become a
// store for whatever an anonymous client sends.
const maxAuditText = 200

// Event is one line of the audit log.
type Event struct {
	ID       int64          `json:"id"`
	At       time.Time      `json:"at"`
	UserID   *int64         `json:"user_id"`
	Username *string        `json:"username"`
	Action   string         `json:"action"`
	Target   string         `json:"target"`
	Detail   map[string]any `json:"detail"`
	RemoteIP string         `json:"remote_ip"`
}

// Audit appends an action to the audit log. userID 0 is no user (a failed
// sign-in, the CLI).
func (s *Service) Audit(ctx context.Context, userID int64, action, target, remoteIP string, detail map[string]any) error {
	if len(target) > maxAuditText {
		target = target[:maxAuditText] + "…"
	}
	if len(remoteIP) > 64 {
		remoteIP = remoteIP[:64]
	}
	if detail == nil {
		detail = map[string]any{}
	}
	d, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("access: audit %s: %w", action, err)
	}
	_, err = s.Pool.Exec(ctx, "INSERT INTO audit_log (user_id, action, target, remote_ip, detail) VALUES ($1, $2, $3, $4, $5)",
		nullID(userID), action, target, remoteIP, d)
	if err != nil {
		return fmt.Errorf("access: audit %s: %w", action, err)
	}
	return nil
}

// AuditFilter selects audit events; zero fields select all.
type AuditFilter struct {
	UserID int64
	Action string
	Since  time.Time
	Before int64 // events with a smaller id (paging backwards)
	Limit  int
}

// AuditEvents lists events newest first.
func (s *Service) AuditEvents(ctx context.Context, f AuditFilter) ([]Event, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := `SELECT a.id, a.at, a.user_id, u.name, a.action, a.target, a.detail, a.remote_ip
		FROM audit_log a LEFT JOIN app_user u ON u.id = a.user_id WHERE true`
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		q += " AND " + cond + " $" + strconv.Itoa(len(args))
	}
	if f.UserID != 0 {
		add("a.user_id =", f.UserID)
	}
	if f.Action != "" {
		add("a.action =", f.Action)
	}
	if !f.Since.IsZero() {
		add("a.at >=", f.Since)
	}
	if f.Before != 0 {
		add("a.id <", f.Before)
	}
	args = append(args, f.Limit)
	q += " ORDER BY a.id DESC LIMIT $" + strconv.Itoa(len(args))
	rows, err := s.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("access: read audit log: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var e Event
		err := r.Scan(&e.ID, &e.At, &e.UserID, &e.Username, &e.Action, &e.Target, &e.Detail, &e.RemoteIP)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("access: read audit log: %w", err)
	}
	return out, nil
}
