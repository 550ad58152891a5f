package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/smtp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/engine/etl"
)

// NotifyConfig says where import notifications go. Empty fields disable a
// channel; with both empty, imports are only recorded.
type NotifyConfig struct {
	// WebhookURL receives a JSON POST per import.
	WebhookURL string
	// SMTPAddr is the mail server as host:port.
	SMTPAddr string
	// SMTPFrom is the sender address.
	SMTPFrom string
	// SMTPTo are the admins' addresses.
	SMTPTo []string
	// SMTPUser and SMTPPassword enable PLAIN authentication (the server
	// must offer STARTTLS, or be on localhost).
	SMTPUser, SMTPPassword string
}

// Notifier tells the admins how each import ended, through the configured
// channels, and records every attempt in etl_notification.
type Notifier struct {
	cfg    NotifyConfig
	pool   *pgxpool.Pool
	client *http.Client
	logger *slog.Logger
}

// NewNotifier returns a notifier; a nil logger means slog.Default().
func NewNotifier(pool *pgxpool.Pool, cfg NotifyConfig, logger *slog.Logger) *Notifier {
	if logger == nil {
		logger = slog.Default()
	}
	return &Notifier{cfg: cfg, pool: pool, client: &http.Client{Timeout: 15 * time.Second}, logger: logger}
}

// ImportMessage is the body of an import notification. It carries counts
// and reasons only, never a row's values.
type ImportMessage struct {
	Event         string           `json:"event"` // "import.published", "import.unchanged" or "import.failed"
	ImportID      int64            `json:"import_id"`
	DataVersion   int64            `json:"data_version,omitempty"`
	Source        string           `json:"source"`
	Files         []string         `json:"files"`
	RowsRead      int64            `json:"rows_read"`
	RowsPublished int64            `json:"rows_published"`
	RowsRejected  int64            `json:"rows_rejected"`
	RejectedBy    map[string]int64 `json:"rejected_by_reason,omitempty"`
	Error         string           `json:"error,omitempty"`
	Subject       string           `json:"subject"`
}

// importMessage summarises an import's result (res may be nil when the
// import failed before it was recorded).
func importMessage(source string, files []string, res *etl.Result, err error) ImportMessage {
	m := ImportMessage{Source: source, Files: files}
	if res != nil {
		m.ImportID, m.DataVersion = res.ImportID, res.DataVersion
		m.RowsRead, m.RowsPublished, m.RowsRejected, m.RejectedBy = res.RowsRead, res.RowsPublished, res.RowsRejected, res.RejectedBy
	}
	switch {
	case err != nil:
		m.Event, m.Error = "import.failed", err.Error()
		m.Subject = fmt.Sprintf("Beaver: import %d FAILED, nothing published: %s", m.ImportID, firstLine(m.Error))
	case res != nil && res.State == etl.StateUnchanged:
		m.Event = "import.unchanged"
		m.Subject = fmt.Sprintf("Beaver: import %d changed nothing (files already imported)", m.ImportID)
	default:
		m.Event = "import.published"
		m.Subject = fmt.Sprintf("Beaver: import %d published data version %d (%d rows, %d rejected)", m.ImportID, m.DataVersion, m.RowsPublished, m.RowsRejected)
	}
	return m
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// ImportDone sends and records the notification of one import.
func (n *Notifier) ImportDone(ctx context.Context, source string, files []string, res *etl.Result, err error) {
	m := importMessage(source, files, res, err)
	if n.cfg.WebhookURL != "" {
		n.record(ctx, m, "webhook", n.webhook(ctx, m))
	}
	if n.cfg.SMTPAddr != "" && len(n.cfg.SMTPTo) > 0 {
		n.record(ctx, m, "email", n.email(m))
	}
}

func (n *Notifier) record(ctx context.Context, m ImportMessage, channel string, sendErr error) {
	msg := ""
	if sendErr != nil {
		msg = sendErr.Error()
		n.logger.Error("import notification not delivered", "channel", channel, "import", m.ImportID, "err", sendErr)
	}
	var importID *int64
	if m.ImportID != 0 {
		importID = &m.ImportID
	}
	if _, err := n.pool.Exec(context.WithoutCancel(ctx),
		"INSERT INTO etl_notification (import_id, channel, subject, ok, error) VALUES ($1, $2, $3, $4, $5)",
		importID, channel, m.Subject, sendErr == nil, msg); err != nil {
		n.logger.Error("record import notification", "err", err)
	}
}

func (n *Notifier) webhook(ctx context.Context, m ImportMessage) error {
	body, _ := json.Marshal(m)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook: %s answered %s", n.cfg.WebhookURL, resp.Status)
	}
	return nil
}

func (n *Notifier) email(m ImportMessage) error {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		n.cfg.SMTPFrom, strings.Join(n.cfg.SMTPTo, ", "), m.Subject)
	fmt.Fprintf(&b, "Import %d (%s)\r\n", m.ImportID, m.Source)
	for _, f := range m.Files {
		fmt.Fprintf(&b, "  file: %s\r\n", f)
	}
	fmt.Fprintf(&b, "Rows read: %d\r\nRows published: %d\r\nRows rejected: %d\r\n", m.RowsRead, m.RowsPublished, m.RowsRejected)
	for _, reason := range slices.Sorted(maps.Keys(m.RejectedBy)) {
		fmt.Fprintf(&b, "  %s: %d\r\n", reason, m.RejectedBy[reason])
	}
	if m.Error != "" {
		fmt.Fprintf(&b, "Error: %s\r\n", strings.ReplaceAll(m.Error, "\n", "\r\n"))
	}
	var auth smtp.Auth
	if n.cfg.SMTPUser != "" {
		host, _, _ := net.SplitHostPort(n.cfg.SMTPAddr)
		auth = smtp.PlainAuth("", n.cfg.SMTPUser, n.cfg.SMTPPassword, host)
	}
	if err := smtp.SendMail(n.cfg.SMTPAddr, auth, n.cfg.SMTPFrom, n.cfg.SMTPTo, []byte(b.String())); err != nil {
		return fmt.Errorf("email via %s: %w", n.cfg.SMTPAddr, err)
	}
	return nil
}
