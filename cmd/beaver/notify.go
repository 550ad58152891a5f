package main

import (
	"flag"
	"log/slog"
	"strings"

	"github.com/beaver-analytics/beaver/engine"
)

// notifyFlags configure where import notifications go.
type notifyFlags struct {
	webhook, smtpAddr, smtpFrom, emailTo, smtpUser string
}

func (n *notifyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&n.webhook, "notify-webhook", envOr("BEAVER_NOTIFY_WEBHOOK", ""), "URL that receives a JSON POST after each import (env BEAVER_NOTIFY_WEBHOOK)")
	fs.StringVar(&n.emailTo, "notify-email", envOr("BEAVER_NOTIFY_EMAIL", ""), "comma-separated admin addresses told of each import by e-mail (env BEAVER_NOTIFY_EMAIL)")
	fs.StringVar(&n.smtpAddr, "smtp-addr", envOr("BEAVER_SMTP_ADDR", ""), "mail server host:port for --notify-email (env BEAVER_SMTP_ADDR)")
	fs.StringVar(&n.smtpFrom, "smtp-from", envOr("BEAVER_SMTP_FROM", "beaver@localhost"), "sender address of notification e-mails (env BEAVER_SMTP_FROM)")
	fs.StringVar(&n.smtpUser, "smtp-user", envOr("BEAVER_SMTP_USER", ""), "SMTP user; the password comes from BEAVER_SMTP_PASSWORD or BEAVER_SMTP_PASSWORD_FILE")
}

// notifier returns the notifier of the configured channels (it records
// imports even when no channel is configured).
func (n *notifyFlags) notifier(db *database, logger *slog.Logger) *engine.Notifier {
	return engine.NewNotifier(db.Pool, engine.NotifyConfig{
		WebhookURL: n.webhook,
		SMTPAddr:   n.smtpAddr, SMTPFrom: n.smtpFrom, SMTPTo: splitComma(n.emailTo),
		SMTPUser: n.smtpUser, SMTPPassword: envFile("BEAVER_SMTP_PASSWORD"),
	}, logger)
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
