package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/engine/access"
	"github.com/beaver-analytics/beaver/schema"
	"github.com/beaver-analytics/beaver/web"
)

// Shutdown budget: HTTP requests get shutdownHTTP to finish, running jobs
// jobGrace to finish before they are cancelled and returned to the queue;
// the whole stop, managed cluster included, stays under 15 s.
const (
	shutdownHTTP = 5 * time.Second
	jobGrace     = 5 * time.Second
)

type workerFlags struct {
	workers int
}

func (w *workerFlags) register(fs interface {
	IntVar(*int, string, int, string)
}) {
	fs.IntVar(&w.workers, "workers", 0, "jobs worked at once by this process (default: number of cores)")
}

func runServe(ctx context.Context, args []string) error {
	var c common
	var wf workerFlags
	fs := newFlagSet("serve", "serve [flags]")
	c.register(fs)
	wf.register(fs)
	addr := fs.String("addr", envOr("BEAVER_ADDR", "127.0.0.1:8080"), "HTTP listen address (env BEAVER_ADDR)")
	demoPersons := fs.Int("demo-persons", 0, "on a database with no data, load a synthetic demo region of this many persons (8 years) in the background")
	inboxEvery := fs.Duration("inbox-interval", 10*time.Second, "how often to look for files dropped in DATA-DIR/inbox/")
	var nf notifyFlags
	nf.register(fs)
	metricsToken := fs.String("metrics-token", "", "bearer token that may read /metrics (env BEAVER_METRICS_TOKEN or BEAVER_METRICS_TOKEN_FILE)")
	tlsCert := fs.String("tls-cert", envOr("BEAVER_TLS_CERT", ""), "serve HTTPS with this certificate file (PEM; env BEAVER_TLS_CERT)")
	tlsKey := fs.String("tls-key", envOr("BEAVER_TLS_KEY", ""), "the certificate's private key file (PEM; env BEAVER_TLS_KEY)")
	trustProxy := fs.Bool("trust-proxy", false, "behind a TLS-terminating proxy: take the client address from X-Forwarded-For and mark cookies Secure")
	maxUpload := fs.Int64("max-upload", 2<<30, "largest import upload through the web, in bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := c.logger(); err != nil {
		return err
	}
	if *metricsToken == "" {
		*metricsToken = envFile("BEAVER_METRICS_TOKEN")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return usageErr("--tls-cert and --tls-key go together")
	}
	// Listen first: a port in use is reported before anything starts.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("address %s is already in use (another beaver, or another program, listens there): choose another with --addr or BEAVER_ADDR", *addr)
		}
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	defer ln.Close()

	db, logger, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := firstAdmin(ctx, db, *addr); err != nil {
		return err
	}
	workers, err := startWorkers(ctx, db, engine.Config{
		Workers: wf.workers, Logger: logger,
		DataDir: c.dataDir, Notifier: nf.notifier(db, logger),
	})
	if err != nil {
		return err
	}
	if *demoPersons > 0 {
		if err := queueDemoRegion(ctx, db, workers.client, *demoPersons, logger); err != nil {
			return err
		}
	}
	scans, stopScans := context.WithCancel(context.Background())
	defer stopScans()
	go engine.RunInboxScans(scans, workers.client, c.dataDir, *inboxEvery, logger)
	handler := web.New(web.Config{
		Pool: db.Pool, Logger: logger, MetricsToken: *metricsToken,
		River: workers.client, DataDir: c.dataDir,
		SecureCookies: *tlsCert != "" || *trustProxy, TrustProxy: *trustProxy, MaxUpload: *maxUpload,
		Ready: readiness(db, workers),
	})
	defer handler.Close() // the PDF renderer's browser, if it started
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
		go func() { serveErr <- srv.ServeTLS(ln, *tlsCert, *tlsKey) }()
	} else {
		go func() { serveErr <- srv.Serve(ln) }()
	}
	logger.Info("beaver is serving", "url", scheme+"://"+ln.Addr().String(), "version", version)
	fmt.Fprintf(os.Stderr, "Beaver is ready at %s://%s\n", scheme, ln.Addr())

	select {
	case <-ctx.Done():
		logger.Info("stopping: finishing requests and jobs")
	case err := <-serveErr:
		logger.Error("http server failed", "err", err)
	case <-workers.client.Stopped():
		logger.Error("workers stopped unexpectedly")
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), shutdownHTTP)
	defer cancel()
	if err := srv.Shutdown(stopCtx); err != nil {
		logger.Warn("http shutdown", "err", err)
	}
	stopScans()
	workers.stop(logger)
	return nil
}

// workerSet is this process's running River client.
type workerSet struct {
	client  *engine.Client
	running atomic.Bool
}

func startWorkers(ctx context.Context, db *database, cfg engine.Config) (*workerSet, error) {
	client, err := engine.NewClient(db.Pool, cfg, true)
	if err != nil {
		return nil, err
	}
	// The client's life is not the request context's: it is stopped
	// explicitly, so that jobs get their grace period on shutdown.
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("start workers: %w", err)
	}
	w := &workerSet{client: client}
	w.running.Store(true)
	go func() {
		<-client.Stopped()
		w.running.Store(false)
	}()
	return w, nil
}

func (w *workerSet) stop(logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), jobGrace+3*time.Second)
	defer cancel()
	if err := engine.Stop(ctx, w.client, jobGrace); err != nil {
		logger.Warn("workers did not stop cleanly", "err", err)
	}
}

// readiness returns the checks of /readyz: the database answers, its
// schema is the one this binary knows, and the workers run.
func readiness(db *database, w *workerSet) func(ctx context.Context) []web.Check {
	return func(ctx context.Context) []web.Check {
		checks := []web.Check{{Name: "database", Err: db.Pool.Ping(ctx)}}
		st, err := schema.CheckStatus(ctx, db.Pool)
		if err == nil && !st.Current() {
			err = fmt.Errorf("schema at version %d (river %d), expected %d (river %d)", st.App, st.River, st.AppLatest, st.RiverLatest)
		}
		checks = append(checks, web.Check{Name: "schema", Detail: fmt.Sprintf("version %d, river %d", st.App, st.River), Err: err})
		var werr error
		if w == nil || !w.running.Load() {
			werr = errors.New("workers are not running")
		}
		return append(checks, web.Check{Name: "workers", Err: werr})
	}
}

// firstAdmin creates the "admin" user on a database with no users, and
// prints its password once.
func firstAdmin(ctx context.Context, db *database, addr string) error {
	accounts := &access.Service{Pool: db.Pool}
	n, err := accounts.CountUsers(ctx)
	if err != nil {
		return fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return nil
	}
	password := access.GeneratePassword()
	if _, err := accounts.CreateUser(ctx, access.NewUser{Name: "admin", Role: access.RoleAdmin, Password: password}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "\nFirst start: log in at http://%s as user \"admin\" with password %s\n"+
		"(shown only once; add users with `beaver user add NAME --role analyst`).\n\n", addr, password)
	return nil
}

func runWorker(ctx context.Context, args []string) error {
	var c common
	var wf workerFlags
	fs := newFlagSet("worker", "worker [flags]")
	c.register(fs)
	wf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, logger, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	workers, err := startWorkers(ctx, db, engine.Config{Workers: wf.workers, Logger: logger})
	if err != nil {
		return err
	}
	logger.Info("beaver worker is running", "version", version)
	select {
	case <-ctx.Done():
		logger.Info("stopping: finishing jobs")
	case <-workers.client.Stopped():
		logger.Error("workers stopped unexpectedly")
	}
	workers.stop(logger)
	return nil
}

func runMigrate(ctx context.Context, args []string) error {
	var c common
	fs := newFlagSet("migrate", "migrate [flags]")
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, _, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := schema.CheckStatus(ctx, db.Pool)
	if err != nil {
		return err
	}
	fmt.Printf("schema at version %d, river at version %d\n", st.App, st.River)
	return nil
}

// queueDemoRegion enqueues the demo region's load when the database holds
// no data yet.
func queueDemoRegion(ctx context.Context, db *database, client *engine.Client, persons int, logger *slog.Logger) error {
	has, err := engine.HasPublishedData(ctx, db.Pool)
	if err != nil || has {
		return err
	}
	if _, err := client.Insert(ctx, engine.DemoRegionArgs{Persons: persons, Years: 8, Seed: 1}, nil); err != nil {
		return fmt.Errorf("queue the demo region: %w", err)
	}
	logger.Info("loading a synthetic demo region in the background", "persons", persons, "years", 8)
	fmt.Fprintf(os.Stderr, "Loading a synthetic demo region (%d persons, 8 years) in the background.\n", persons)
	return nil
}
