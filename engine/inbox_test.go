package engine_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// smtpReceiver is a minimal SMTP server on loopback that keeps the
// messages it is given: enough of RFC 5321 for net/smtp.SendMail.
type smtpReceiver struct {
	ln   net.Listener
	mu   sync.Mutex
	mail []string
}

func newSMTPReceiver(t *testing.T) *smtpReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &smtpReceiver{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r
}

func (r *smtpReceiver) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	rd := bufio.NewReader(c)
	say := func(s string) { io.WriteString(c, s+"\r\n") }
	say("220 localhost test SMTP")
	var data strings.Builder
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 localhost")
		case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"), strings.HasPrefix(cmd, "RSET"), strings.HasPrefix(cmd, "NOOP"):
			say("250 OK")
		case cmd == "DATA":
			say("354 go ahead")
			for {
				l, err := rd.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			r.mu.Lock()
			r.mail = append(r.mail, data.String())
			r.mu.Unlock()
			data.Reset()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

func (r *smtpReceiver) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.mail...)
}

const inboxPersons = "person_id;sex;birth_date;death_date;birth_municipality\n1;F;1950-03-12;;015146\n2;M;1961-07-01;;\n"

func TestInboxImportsNotifiesAndFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	dataDir := t.TempDir()
	inbox := filepath.Join(dataDir, "inbox")
	require.NoError(t, os.MkdirAll(inbox, 0o755))

	var hookMu sync.Mutex
	var hooks []engine.ImportMessage
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m engine.ImportMessage
		require.NoError(t, json.NewDecoder(r.Body).Decode(&m))
		hookMu.Lock()
		hooks = append(hooks, m)
		hookMu.Unlock()
	}))
	defer hook.Close()
	mail := newSMTPReceiver(t)

	logger := slog.New(slog.DiscardHandler)
	notifier := engine.NewNotifier(pool, engine.NotifyConfig{
		WebhookURL: hook.URL, SMTPAddr: mail.ln.Addr().String(), SMTPFrom: "beaver@example.org", SMTPTo: []string{"admin@example.org"},
	}, logger)
	client, err := engine.NewClient(pool, engine.Config{Workers: 1, Logger: logger, DataDir: dataDir, InboxMinAge: time.Millisecond, Notifier: notifier}, true)
	require.NoError(t, err)
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	require.NoError(t, client.Start(ctx))
	defer func() {
		stopCtx, c := context.WithTimeout(ctx, 10*time.Second)
		defer c()
		_ = engine.Stop(stopCtx, client, time.Second)
	}()
	scan := func() {
		t.Helper()
		_, err := client.Insert(ctx, engine.InboxArgs{}, &river.InsertOpts{Queue: engine.InboxQueue(dataDir)})
		require.NoError(t, err)
		for {
			select {
			case ev := <-events:
				if ev.Job.Kind != "beaver.inbox" {
					continue
				}
				require.Equal(t, river.EventKindJobCompleted, ev.Kind, "inbox job: %v", ev.Job.Errors)
				return
			case <-time.After(60 * time.Second):
				t.Fatal("inbox scan did not finish")
			}
		}
	}

	// A good file is imported and moved to processed/.
	require.NoError(t, os.WriteFile(filepath.Join(inbox, "person.csv"), []byte(inboxPersons), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(inbox, "notes.txt"), []byte("not a flow"), 0o644))
	time.Sleep(5 * time.Millisecond)
	scan()
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM person").Scan(&n))
	require.Equal(t, 2, n)
	processed, err := filepath.Glob(filepath.Join(dataDir, "processed", "*", "person.csv"))
	require.NoError(t, err)
	require.Len(t, processed, 1)
	_, err = os.Stat(filepath.Join(inbox, "notes.txt"))
	require.NoError(t, err, "files that are not flows stay in the inbox")

	// A broken file publishes nothing and goes to failed/ with the reason.
	require.NoError(t, os.WriteFile(filepath.Join(inbox, "person.csv"), []byte("who;what\n1;2\n"), 0o644))
	time.Sleep(5 * time.Millisecond)
	scan()
	failed, err := filepath.Glob(filepath.Join(dataDir, "failed", "*", "ERROR.txt"))
	require.NoError(t, err)
	require.Len(t, failed, 1)
	reason, _ := os.ReadFile(failed[0])
	require.NotEmpty(t, strings.TrimSpace(string(reason)))
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM person").Scan(&n))
	require.Equal(t, 2, n, "nothing published from the broken file")

	// An empty inbox is a no-op.
	scan()

	hookMu.Lock()
	defer hookMu.Unlock()
	require.Len(t, hooks, 2)
	require.Equal(t, "import.published", hooks[0].Event)
	require.Equal(t, int64(2), hooks[0].RowsPublished)
	require.Equal(t, []string{"person.csv"}, hooks[0].Files)
	require.Equal(t, "import.failed", hooks[1].Event)
	require.NotEmpty(t, hooks[1].Error)

	msgs := mail.messages()
	require.Len(t, msgs, 2)
	require.Contains(t, msgs[0], "Subject: Beaver: import")
	require.Contains(t, msgs[0], "published data version")
	require.Contains(t, msgs[1], "FAILED")

	var sent, ok int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*), count(*) FILTER (WHERE ok) FROM etl_notification").Scan(&sent, &ok))
	require.Equal(t, 4, sent, "two imports × two channels recorded")
	require.Equal(t, 4, ok)
}

func TestNotificationFailureIsRecorded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	n := engine.NewNotifier(pool, engine.NotifyConfig{WebhookURL: down.URL}, slog.New(slog.DiscardHandler))
	n.ImportDone(ctx, "test", []string{"x.csv"}, nil, io.ErrUnexpectedEOF)
	var okay bool
	var msg, subject string
	require.NoError(t, pool.QueryRow(ctx, "SELECT ok, error, subject FROM etl_notification").Scan(&okay, &msg, &subject))
	require.False(t, okay)
	require.Contains(t, msg, "503")
	require.Contains(t, subject, "FAILED")
}
