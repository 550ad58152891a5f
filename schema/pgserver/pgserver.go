// Package pgserver runs a PostgreSQL cluster that Beaver manages itself: the
// default when no database URL is given. The cluster lives in one directory,
// listens only on a Unix socket (no TCP port, so it never clashes with a
// system PostgreSQL), runs as the unprivileged "postgres" user when Beaver
// runs as root, and dies with the process that started it.
package pgserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Config says where the cluster lives and how to run it. The zero value of
// every field but Dir means a default.
type Config struct {
	// Dir holds the cluster: Dir/data is PGDATA, Dir/postgres.log its log,
	// and the Unix socket is in Dir/run (or a short directory under /tmp
	// when that path would be too long for a socket).
	Dir string
	// BinDir holds initdb and postgres; found automatically when empty.
	BinDir string
	// Database is created on first start if missing; default "beaver".
	Database string
	// Settings are extra server settings passed as -c name=value.
	Settings map[string]string
	// StartTimeout bounds how long to wait for the server to accept
	// connections; default 60 s.
	StartTimeout time.Duration
	// Logger receives progress messages; default slog.Default().
	Logger *slog.Logger
}

// Server is a running managed cluster.
type Server struct {
	cfg     Config
	dataDir string
	sockDir string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the postgres process has exited
	waitErr error
}

// maxSocketPath is the longest Unix socket path Linux accepts (sun_path is
// 108 bytes including the terminating NUL).
const maxSocketPath = 107

const socketName = ".s.PGSQL.5432"

// Start initialises the cluster on first use and starts it, waiting until it
// accepts connections and the configured database exists.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		panic("pgserver: Config.Dir is empty")
	}
	if cfg.Database == "" {
		cfg.Database = "beaver"
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("managed postgres: data dir %q: %w", cfg.Dir, err)
	}
	cfg.Dir = dir
	if cfg.BinDir == "" {
		if cfg.BinDir, err = FindBinDir(); err != nil {
			return nil, err
		}
	}
	owner, err := serverUser()
	if err != nil {
		return nil, err
	}
	if err := prepareDir(dir, owner); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, dataDir: filepath.Join(dir, "data"), done: make(chan struct{})}
	if s.sockDir, err = socketDir(dir, owner); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(s.dataDir, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		if err := s.initdb(ctx, owner); err != nil {
			return nil, err
		}
	}
	if err := checkStalePID(s.dataDir, cfg.Logger); err != nil {
		return nil, err
	}
	if err := s.start(owner); err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx); err != nil {
		_ = s.Stop(context.Background())
		return nil, err
	}
	cfg.Logger.Info("managed postgres ready", "dir", dir, "socket", s.sockDir)
	return s, nil
}

// FindBinDir returns the directory of the installed PostgreSQL server
// binaries: the newest /usr/lib/postgresql/*/bin, else `pg_config --bindir`,
// else the directory of initdb on PATH.
func FindBinDir() (string, error) {
	var candidates []string
	if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin"); len(dirs) > 0 {
		sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
		candidates = append(candidates, dirs...)
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, d := range candidates {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errors.New("managed postgres: no PostgreSQL server binaries found " +
		"(looked in /usr/lib/postgresql/*/bin, `pg_config --bindir` and PATH); " +
		"install them with `apt-get install postgresql` (as root), " +
		"or give an existing server with --database-url")
}

// versionOf extracts the major version from /usr/lib/postgresql/NN/bin.
func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExec(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// account is the OS user that runs the server; nil means the current user.
type account struct {
	name     string
	uid, gid uint32
	groups   []uint32
}

// serverUser returns the "postgres" account when running as root (initdb and
// postgres refuse to run as root), and nil otherwise.
func serverUser() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("managed postgres: beaver runs as root, and PostgreSQL refuses to; " +
			"it runs the cluster as user \"postgres\", which does not exist: " +
			"install PostgreSQL with `apt-get install postgresql` (it creates the user), or run beaver as another user")
	}
	a := &account{name: u.Username}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	a.uid, a.gid = uint32(uid), uint32(gid)
	if gids, err := u.GroupIds(); err == nil {
		for _, g := range gids {
			if n, err := strconv.ParseUint(g, 10, 32); err == nil {
				a.groups = append(a.groups, uint32(n))
			}
		}
	}
	return a, nil
}

func (a *account) inGroup(gid uint32) bool {
	if a.gid == gid {
		return true
	}
	for _, g := range a.groups {
		if g == gid {
			return true
		}
	}
	return false
}

// canEnter reports whether the account may traverse directory st.
func (a *account) canEnter(st fs.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	m := st.Mode().Perm()
	switch {
	case sys.Uid == a.uid:
		return m&0o100 != 0
	case a.inGroup(sys.Gid):
		return m&0o010 != 0
	default:
		return m&0o001 != 0
	}
}

// prepareDir creates dir, checks that it is writable, and when the server
// runs as another user checks that every directory above it can be entered
// by that user and hands dir over to it.
func prepareDir(dir string, owner *account) error {
	// Directories above the cluster's own must stay enterable by the server's
	// user; the cluster's directory itself is private.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("managed postgres: cannot create data dir %s: %w (choose a writable --data-dir)", dir, err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("managed postgres: cannot create data dir %s: %w (choose a writable --data-dir)", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".write-test-")
	if err != nil {
		return fmt.Errorf("managed postgres: data dir %s is not writable: %w (choose a writable --data-dir)", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	if owner == nil {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("managed postgres: %s: %w", p, err)
		}
		if !owner.canEnter(st) {
			return fmt.Errorf("managed postgres: the cluster runs as user %q (beaver runs as root), "+
				"which cannot enter %s (mode %04o), a directory above the data dir %s: "+
				"PostgreSQL would fail with a misleading \"permission denied\". "+
				"Choose a --data-dir outside it (e.g. /var/lib/beaver) or run `chmod o+x %s`",
				owner.name, p, st.Mode().Perm(), dir, p)
		}
		if p == "/" || p == filepath.Dir(p) {
			break
		}
	}
	// initdb creates PGDATA inside dir as the server's user: dir itself is
	// all that needs handing over.
	if err := os.Chown(dir, int(owner.uid), int(owner.gid)); err != nil {
		return fmt.Errorf("managed postgres: give %s to user %s: %w", dir, owner.name, err)
	}
	return nil
}

// socketDir returns the directory for the server's Unix socket: dir/run, or
// a short private directory under the system temp dir when the socket path
// would exceed the kernel's limit.
func socketDir(dir string, owner *account) (string, error) {
	sd := filepath.Join(dir, "run")
	if len(sd)+1+len(socketName) > maxSocketPath {
		// Derive a stable short name from the data dir, so that clients
		// started later find the same socket.
		sum := uint32(2166136261)
		for _, c := range []byte(dir) {
			sum = (sum ^ uint32(c)) * 16777619
		}
		sd = filepath.Join(os.TempDir(), fmt.Sprintf("beaver-pg-%08x", sum))
		if len(sd)+1+len(socketName) > maxSocketPath {
			return "", fmt.Errorf("managed postgres: socket path %s/%s exceeds %d bytes; set TMPDIR to a shorter directory", sd, socketName, maxSocketPath)
		}
	}
	if owner == nil {
		if _, err := os.Stat(sd); err == nil {
			return sd, nil
		}
	}
	if err := os.MkdirAll(sd, 0o700); err != nil {
		return "", fmt.Errorf("managed postgres: socket dir %s: %w", sd, err)
	}
	if owner != nil {
		if err := os.Chown(sd, int(owner.uid), int(owner.gid)); err != nil {
			return "", fmt.Errorf("managed postgres: socket dir %s: %w", sd, err)
		}
	}
	return sd, nil
}

func (s *Server) command(owner *account, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.cfg.BinDir, name), args...)
	cmd.Env = []string{"LC_ALL=C", "LANG=C", "PATH=/usr/bin:/bin", "TZ=UTC"}
	cmd.Dir = s.cfg.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if owner != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: owner.uid, Gid: owner.gid}
	}
	return cmd
}

func (s *Server) initdb(ctx context.Context, owner *account) error {
	s.cfg.Logger.Info("initialising managed postgres", "dir", s.dataDir)
	cmd := s.command(owner, "initdb", "-D", s.dataDir, "--username=postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-instructions")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		os.RemoveAll(s.dataDir) // never leave a half-initialised cluster behind
		return fmt.Errorf("managed postgres: initdb in %s failed: %w\n%s", s.dataDir, err, strings.TrimSpace(out.String()))
	}
	return ctx.Err()
}

// checkStalePID removes a postmaster.pid left by a server that is no longer
// running, and refuses when a live server still holds the data dir.
func checkStalePID(dataDir string, logger *slog.Logger) error {
	pidFile := filepath.Join(dataDir, "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("managed postgres: read %s: %w", pidFile, err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err == nil && pid > 0 && processIsPostgres(pid) {
		return fmt.Errorf("managed postgres: a PostgreSQL server (pid %d) is already running on %s: "+
			"is another beaver running with the same --data-dir? Stop it first", pid, dataDir)
	}
	logger.Warn("removing stale postmaster.pid left by a server that is no longer running", "file", pidFile, "pid", first)
	if err := os.Remove(pidFile); err != nil {
		return fmt.Errorf("managed postgres: remove stale %s: %w", pidFile, err)
	}
	return nil
}

func processIsPostgres(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return true // alive, cannot tell what it is: be safe
	}
	name := strings.TrimSpace(string(comm))
	return strings.HasPrefix(name, "postgres") || strings.HasPrefix(name, "postmaster")
}

// start launches postgres on a goroutine locked to its OS thread, so that
// Pdeathsig (which fires when the creating thread exits) stops the server
// exactly when this process dies.
func (s *Server) start(owner *account) error {
	logPath := filepath.Join(s.cfg.Dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("managed postgres: open log %s: %w", logPath, err)
	}
	args := []string{"-D", s.dataDir, "-k", s.sockDir,
		"-c", "listen_addresses=", "-c", "unix_socket_permissions=0700"}
	keys := make([]string, 0, len(s.cfg.Settings))
	for k := range s.cfg.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-c", k+"="+s.cfg.Settings[k])
	}
	cmd := s.command(owner, "postgres", args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr.Pdeathsig = syscall.SIGINT // fast shutdown if beaver dies
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the server
		defer logFile.Close()
		if err := cmd.Start(); err != nil {
			started <- err
			close(s.done)
			return
		}
		started <- nil
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("managed postgres: start server: %w", err)
	}
	s.cmd = cmd
	return nil
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StartTimeout)
	defer cancel()
	for {
		select {
		case <-s.done:
			return fmt.Errorf("managed postgres: server exited during start-up (%v); its log ends:\n%s", s.waitErr, s.logTail(15))
		default:
		}
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			defer conn.Close(context.Background())
			var exists bool
			if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", s.cfg.Database).Scan(&exists); err != nil {
				return fmt.Errorf("managed postgres: check database %q: %w", s.cfg.Database, err)
			}
			if !exists {
				if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{s.cfg.Database}.Sanitize()); err != nil {
					return fmt.Errorf("managed postgres: create database %q: %w", s.cfg.Database, err)
				}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("managed postgres: server not ready after %s: %v; its log ends:\n%s", s.cfg.StartTimeout, err, s.logTail(15))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logTail returns the last n lines of the server's log.
func (s *Server) logTail(n int) string {
	f, err := os.Open(filepath.Join(s.cfg.Dir, "postgres.log"))
	if err != nil {
		return "(no log)"
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// URL returns a connection string for the named database over the socket.
func (s *Server) URL(database string) string {
	q := url.Values{"host": {s.sockDir}, "user": {"postgres"}}
	return "postgres:///" + url.PathEscape(database) + "?" + q.Encode()
}

// SocketDir is the directory of the server's Unix socket: the host other
// servers reach it by (a Citus coordinator's citus_add_node, say).
func (s *Server) SocketDir() string { return s.sockDir }

// DatabaseURL returns the connection string of the configured database.
func (s *Server) DatabaseURL() string { return s.URL(s.cfg.Database) }

// PID returns the postmaster's process id, or 0 for a server this process
// did not start.
func (s *Server) PID() int {
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Stop shuts the server down: a fast shutdown (SIGINT: sessions are ended,
// the cluster is left consistent), then SIGQUIT and SIGKILL if it does not
// exit within ctx's deadline (default 20 s).
func (s *Server) Stop(ctx context.Context) error {
	if s.cmd == nil {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
	}
	s.cfg.Logger.Warn("managed postgres did not stop in time; sending SIGQUIT")
	_ = s.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-s.done:
		return nil
	case <-time.After(3 * time.Second):
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
	return errors.New("managed postgres: server had to be killed")
}

// Done is closed when the server process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Open connects to the managed cluster of cfg.Dir when another process (a
// running `beaver serve`) already runs it, and starts it otherwise. A server
// that was found running is not stopped by Stop: it belongs to its starter.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if s := attach(ctx, cfg); s != nil {
		return s, nil
	}
	return Start(ctx, cfg)
}

// attach returns a handle on a live server of cfg.Dir, or nil.
func attach(ctx context.Context, cfg Config) *Server {
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil
	}
	dataDir := filepath.Join(dir, "data")
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return nil
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || !processIsPostgres(pid) {
		return nil
	}
	if cfg.Database == "" {
		cfg.Database = "beaver"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Dir = dir
	s := &Server{cfg: cfg, dataDir: dataDir, done: make(chan struct{})}
	if s.sockDir, err = socketDir(dir, nil); err != nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, s.DatabaseURL())
	if err != nil {
		return nil
	}
	conn.Close(cctx)
	cfg.Logger.Info("using the managed postgres already running", "dir", dir, "pid", pid)
	return s
}
