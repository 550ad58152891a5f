package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/engine/access"
	"github.com/beaver-analytics/beaver/schema"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

var binary string

// TestMain builds the real beaver binary once: these tests run it as a
// separate process, the way users and CI do.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "beaver-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "beaver")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build beaver: %v\n%s", err, out)
		os.Exit(1)
	}
	code := pgtest.Run(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running beaver process whose stderr is collected.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan error
}

func (p *proc) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// start runs beaver with args and no DATABASE_URL unless given in env.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	p := &proc{cmd: cmd, done: make(chan error, 1)}
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	cmd.Stdout = pw
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	require.NoError(t, cmd.Start())
	go func() { p.done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DATABASE_URL=") || strings.HasPrefix(kv, "BEAVER_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// runBeaver runs beaver to completion with stdin and returns its output.
func runBeaver(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return string(out), code
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// waitReady polls /readyz until it answers 200.
func waitReady(t *testing.T, p *proc, addr string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			t.Fatalf("beaver exited early (%v):\n%s", err, p.Stderr())
		default:
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return body
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("/readyz not 200 within %s:\n%s", within, p.Stderr())
	return nil
}

// terminate sends SIGTERM and requires exit status 0 within 15 s.
func terminate(t *testing.T, p *proc) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		require.NoError(t, err, "beaver did not exit 0:\n%s", p.Stderr())
	case <-time.After(15 * time.Second):
		t.Fatalf("beaver did not exit within 15 s of SIGTERM:\n%s", p.Stderr())
	}
}

// postgresRunningIn reports whether a postgres process runs on a data dir.
func postgresRunningIn(dir string) bool {
	out, _ := exec.Command("pgrep", "-f", "postgres -D "+dir).Output()
	return len(bytes.TrimSpace(out)) > 0
}

func login(t *testing.T, addr, name, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	body := fmt.Sprintf(`{"username":%q,"password":%q}`, name, password)
	resp, err := c.Post("http://"+addr+"/api/v1/session", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return c
}

var adminPassword = regexp.MustCompile(`as user "admin" with password (\S+)`)

func TestServeManagedClusterRestartAndTerm(t *testing.T) {
	t.Parallel()
	base, err := os.MkdirTemp("", "beaver-serve-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(base, 0o755))
	t.Cleanup(func() { os.RemoveAll(base) })
	dataDir := filepath.Join(base, "var")
	addr := freeAddr(t)

	p := start(t, nil, "serve", "--data-dir", dataDir, "--addr", addr)
	body := waitReady(t, p, addr, 60*time.Second)
	require.Equal(t, "ok", body["status"])
	m := adminPassword.FindStringSubmatch(p.Stderr())
	require.NotNil(t, m, "first start prints the admin login:\n%s", p.Stderr())
	c := login(t, addr, "admin", m[1])
	resp, err := c.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(metrics), `beaver_http_requests_total{method="POST",route="/api/v1/session",status="200"} 1`)
	require.Contains(t, string(metrics), `beaver_river_jobs{state="running"}`)
	require.Contains(t, string(metrics), "beaver_db_pool_total_conns")
	require.True(t, postgresRunningIn(filepath.Join(dataDir, "pg", "data")))

	terminate(t, p)
	require.False(t, postgresRunningIn(filepath.Join(dataDir, "pg", "data")), "postgres left behind")

	// Restart on the same data dir: data kept, no second admin.
	p = start(t, nil, "serve", "--data-dir", dataDir, "--addr", addr)
	waitReady(t, p, addr, 60*time.Second)
	require.NotContains(t, p.Stderr(), "First start")
	login(t, addr, "admin", m[1])
	// A user added while serve runs joins the running cluster.
	out, code := runBeaver(t, "a-long-password\n", "user", "add", "ana", "--role", "analyst", "--data-dir", dataDir)
	require.Equal(t, 0, code, out)
	login(t, addr, "ana", "a-long-password")
	terminate(t, p)
	require.False(t, postgresRunningIn(filepath.Join(dataDir, "pg", "data")), "postgres left behind")
}

func TestServeWithDatabaseURL(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	addr := freeAddr(t)
	p := start(t, []string{"DATABASE_URL=" + url}, "serve", "--addr", addr, "--log-format", "json")
	body := waitReady(t, p, addr, 30*time.Second)
	checks := body["checks"].(map[string]any)
	require.Equal(t, "ok", checks["workers"])
	require.Equal(t, "ok", checks["database"])
	require.Contains(t, checks["schema"], "version")
	require.Contains(t, p.Stderr(), `"msg":"beaver is serving"`, "--log-format json gives JSON logs")
	terminate(t, p)
}

// TestServeTLS serves HTTPS with --tls-cert/--tls-key: the session cookie
// is then Secure.
func TestServeTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))

	url := pgtest.URL(t)
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	defer pool.Close()
	_, err = (&access.Service{Pool: pool}).CreateUser(context.Background(), access.NewUser{Name: "ana", Role: access.RoleAnalyst, Password: "ana-password"})
	require.NoError(t, err)

	addr := freeAddr(t)
	p := start(t, []string{"DATABASE_URL=" + url}, "serve", "--addr", addr, "--tls-cert", certFile, "--tls-key", keyFile)
	pool2 := x509.NewCertPool()
	pool2.AddCert(must(x509.ParseCertificate(der)))
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool2}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.Get("https://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		require.True(t, time.Now().Before(deadline), "no HTTPS answer: %v\n%s", err, p.Stderr())
		time.Sleep(100 * time.Millisecond)
	}
	for !strings.Contains(p.Stderr(), "Beaver is ready at https://") {
		// The line is written just after the listener starts answering.
		require.True(t, time.Now().Before(deadline), "no ready line:\n%s", p.Stderr())
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := c.Post("https://"+addr+"/api/v1/session", "application/json", strings.NewReader(`{"username":"ana","password":"ana-password"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Set-Cookie"), "Secure")
	require.NotEmpty(t, resp.Header.Get("Strict-Transport-Security"))
	terminate(t, p)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestPortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	out, code := runBeaver(t, "", "serve", "--addr", ln.Addr().String(), "--database-url", pgtest.URL(t))
	require.Equal(t, 1, code)
	require.Contains(t, out, "already in use")
	require.Contains(t, out, ln.Addr().String())
}

func TestUnreachableDatabase(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now
	out, code := runBeaver(t, "", "migrate", "--database-url", fmt.Sprintf("postgres://u@127.0.0.1:%d/db?connect_timeout=3", port))
	require.Equal(t, 1, code)
	require.Contains(t, out, fmt.Sprintf("cannot reach the database at 127.0.0.1:%d", port))
	require.Contains(t, out, "connection refused")
}

func TestWorkerProcessWorksInsertedJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	u, err := (&access.Service{Pool: pool}).CreateUser(ctx, access.NewUser{Name: "w", Role: access.RoleAnalyst, Password: "password-123"})
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "INSERT INTO app_session (token_hash, user_id, expires_at) VALUES ('\\x01', $1, now() - interval '1 day'), ('\\x02', $1, now() + interval '1 day')", u.ID)
	require.NoError(t, err)

	// Insert the job from this process, with an insert-only client.
	client, err := engine.NewClient(pool, engine.Config{}, false)
	require.NoError(t, err)
	res, err := client.Insert(ctx, engine.MaintenanceArgs{}, nil)
	require.NoError(t, err)

	p := start(t, []string{"DATABASE_URL=" + url}, "worker")
	var state rivertype.JobState
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		job, err := client.JobGet(ctx, res.Job.ID)
		require.NoError(t, err)
		state = job.State
		if state == rivertype.JobStateCompleted {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.Equal(t, rivertype.JobStateCompleted, state, "worker output:\n%s", p.Stderr())
	var left []byte
	require.NoError(t, pool.QueryRow(ctx, "SELECT string_agg(encode(token_hash, 'hex'), ',') FROM app_session").Scan(&left))
	require.Equal(t, "02", string(left), "the expired session is deleted, the live one kept")
	terminate(t, p)
}

func TestRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "INSERT INTO beaver_migration (version, name) VALUES ($1, 'future')", schema.Latest()+5)
	require.NoError(t, err)
	pool.Close()
	for _, args := range [][]string{
		{"migrate", "--database-url", url},
		{"worker", "--database-url", url},
		{"serve", "--database-url", url, "--addr", freeAddr(t)},
	} {
		out, code := runBeaver(t, "", args...)
		require.Equal(t, 1, code, "%v: %s", args, out)
		require.Contains(t, out, "newer than this beaver", args[0])
	}
}

func TestUserAdd(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	out, code := runBeaver(t, "", "user", "add", "carla", "--role", "admin", "--database-url", url)
	require.Equal(t, 0, code, out)
	m := regexp.MustCompile(`with password (\S+) \(shown only once\)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	out, code = runBeaver(t, "", "user", "add", "carla", "--role", "admin", "--database-url", url)
	require.Equal(t, 1, code)
	require.Contains(t, out, `user "carla"`)
	require.Contains(t, out, "already exists")
	out, code = runBeaver(t, "short\n", "user", "add", "dino", "--role", "analyst", "--database-url", url)
	require.Equal(t, 1, code)
	require.Contains(t, out, "at least 10 characters")
	out, code = runBeaver(t, "", "user", "add", "dino", "--role", "boss", "--database-url", url)
	require.Equal(t, 2, code)
	require.Contains(t, out, "--role must be admin, analyst or viewer")
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"worker", "--help"}, {"migrate", "--help"}, {"user", "--help"}, {"user", "add", "--help"}, {"stats", "--help"}} {
		out, code := runBeaver(t, "", args...)
		require.Equal(t, 0, code, "%v: %s", args, out)
		require.Contains(t, strings.ToLower(out), "usage", args)
	}
	out, code := runBeaver(t, "", "frobnicate")
	require.Equal(t, 2, code)
	require.Contains(t, out, `unknown command "frobnicate"`)
}

func TestHelpNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binary, "serve", "--help")
	cmd.Env = append(cleanEnv(), "DATABASE_URL=postgres://u:s3cret-pw@h/db", "BEAVER_METRICS_TOKEN=t0ken-value")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err)
	require.Contains(t, string(out), "-database-url")
	require.NotContains(t, string(out), "s3cret-pw")
	require.NotContains(t, string(out), "t0ken-value")
}
