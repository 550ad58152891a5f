package pgserver

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func quietConfig(dir string) Config {
	return Config{Dir: dir, Logger: slog.New(slog.DiscardHandler), Settings: map[string]string{"fsync": "off"}}
}

// testDir returns a directory every user can enter (the server may run as
// "postgres" when the tests run as root).
func testDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgserver-test-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestStartRestartKeepsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(testDir(t), "pg")
	s, err := Start(ctx, quietConfig(dir))
	require.NoError(t, err)
	conn, err := pgx.Connect(ctx, s.DatabaseURL())
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
	require.NoError(t, err)
	conn.Close(ctx)
	pid := s.PID()
	require.NoError(t, s.Stop(ctx))
	require.Error(t, syscall.Kill(pid, 0), "postgres still running after Stop")

	s, err = Start(ctx, quietConfig(dir))
	require.NoError(t, err)
	defer s.Stop(ctx)
	conn, err = pgx.Connect(ctx, s.DatabaseURL())
	require.NoError(t, err)
	defer conn.Close(ctx)
	var v int
	require.NoError(t, conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v))
	require.Equal(t, 42, v)
	// No TCP: the server listens on its socket only.
	var addrs string
	require.NoError(t, conn.QueryRow(ctx, "SHOW listen_addresses").Scan(&addrs))
	require.Equal(t, "", addrs)
}

func TestStalePIDFileIsRemoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(testDir(t), "pg")
	s, err := Start(ctx, quietConfig(dir))
	require.NoError(t, err)
	require.NoError(t, s.Stop(ctx))
	// A crash leaves postmaster.pid naming a process that no longer exists.
	pidFile := filepath.Join(dir, "data", "postmaster.pid")
	require.NoError(t, os.WriteFile(pidFile, []byte("999999\n"+dir+"\n"), 0o600))
	s, err = Start(ctx, quietConfig(dir))
	require.NoError(t, err)
	require.NoError(t, s.Stop(ctx))
}

func TestRefusesSecondServerOnSameDir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(testDir(t), "pg")
	s, err := Start(ctx, quietConfig(dir))
	require.NoError(t, err)
	defer s.Stop(ctx)
	_, err = Start(ctx, quietConfig(dir))
	require.Error(t, err)
	require.Contains(t, err.Error(), "already running")
}

func TestLongDataDirUsesShortSocketDir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(testDir(t), strings.Repeat("d", 60), strings.Repeat("e", 60), "pg")
	s, err := Start(ctx, quietConfig(dir))
	require.NoError(t, err)
	defer s.Stop(ctx)
	require.LessOrEqual(t, len(s.sockDir)+1+len(socketName), maxSocketPath)
	t.Cleanup(func() { os.RemoveAll(s.sockDir) })
	conn, err := pgx.Connect(ctx, s.DatabaseURL())
	require.NoError(t, err)
	conn.Close(ctx)
}

func TestUnenterableParentIsExplained(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("the check applies when beaver runs as root and the cluster as postgres")
	}
	parent := testDir(t)
	locked := filepath.Join(parent, "home")
	require.NoError(t, os.Mkdir(locked, 0o700))
	_, err := Start(context.Background(), quietConfig(filepath.Join(locked, "var", "pg")))
	require.Error(t, err)
	require.Contains(t, err.Error(), "cannot enter "+locked)
	require.Contains(t, err.Error(), "--data-dir")
}

func TestUnwritableDataDir(t *testing.T) {
	t.Parallel()
	// A data dir below a regular file can never be created.
	f := filepath.Join(testDir(t), "file")
	require.NoError(t, os.WriteFile(f, nil, 0o600))
	_, err := Start(context.Background(), quietConfig(filepath.Join(f, "pg")))
	require.Error(t, err)
	require.Contains(t, err.Error(), "cannot create data dir")
}

func TestStartFailureShowsLog(t *testing.T) {
	t.Parallel()
	cfg := quietConfig(filepath.Join(testDir(t), "pg"))
	cfg.Settings["no_such_setting"] = "1"
	cfg.StartTimeout = 20 * time.Second
	_, err := Start(context.Background(), cfg)
	require.Error(t, err)
	require.Contains(t, err.Error(), "no_such_setting")
}
