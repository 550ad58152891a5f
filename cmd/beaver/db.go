package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/schema"
	"github.com/beaver-analytics/beaver/schema/pgserver"
)

// database is an open connection pool, and the managed cluster behind it
// when Beaver runs its own.
type database struct {
	Pool    *pgxpool.Pool
	managed *pgserver.Server
	logger  *slog.Logger
}

// openDatabase connects to --database-url, or runs (or joins) the managed
// cluster in DATA-DIR/pg, and checks that the server answers.
func openDatabase(ctx context.Context, c *common, logger *slog.Logger) (*database, error) {
	db := &database{logger: logger}
	url := c.databaseURL
	if url == "" {
		url = envFile("DATABASE_URL")
	}
	if url == "" {
		srv, err := pgserver.Open(ctx, pgserver.Config{Dir: filepath.Join(c.dataDir, "pg"), Logger: logger})
		if err != nil {
			return nil, err
		}
		db.managed = srv
		url = srv.DatabaseURL()
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("--database-url: %w", err)
	}
	cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		db.stopManaged()
		return nil, explainConnect(cfg.ConnConfig, err)
	}
	db.Pool = pool
	return db, nil
}

// explainConnect turns a connection failure into a message naming the host,
// the port and the cause.
func explainConnect(cc *pgx.ConnConfig, err error) error {
	where := fmt.Sprintf("%s:%d", cc.Host, cc.Port)
	if filepath.IsAbs(cc.Host) {
		where = fmt.Sprintf("socket %s/.s.PGSQL.%d", cc.Host, cc.Port)
	}
	cause := err.Error()
	var pgErr *pgconn.PgError
	var opErr *net.OpError
	switch {
	case errors.As(err, &pgErr):
		cause = fmt.Sprintf("the server answered: %s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	case errors.As(err, &opErr):
		cause = opErr.Err.Error()
		if errors.Is(err, syscall.ECONNREFUSED) {
			cause = "connection refused: is PostgreSQL running there?"
		}
	}
	return fmt.Errorf("cannot reach the database at %s (database %q, user %q): %s", where, cc.Database, cc.User, cause)
}

// Close closes the pool and stops the managed cluster if this process
// started it.
func (db *database) Close() {
	if db.Pool != nil {
		db.Pool.Close()
	}
	db.stopManaged()
}

func (db *database) stopManaged() {
	if db.managed == nil || db.managed.PID() == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.managed.Stop(ctx); err != nil {
		db.logger.Error("stop managed postgres", "err", err)
		return
	}
	db.logger.Info("managed postgres stopped")
}

// open is what every database command does first: make the logger, open
// the database and apply the migrations (refusing a newer schema). The
// caller closes the database.
func (c *common) open(ctx context.Context) (*database, *slog.Logger, error) {
	logger, err := c.logger()
	if err != nil {
		return nil, nil, err
	}
	db, err := openDatabase(ctx, c, logger)
	if err != nil {
		return nil, nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	if on, err := schema.Citus(ctx, db.Pool); err == nil && on {
		if workers, shards, err := schema.CitusLayout(ctx, db.Pool); err == nil {
			logger.Info("flows distributed by person on Citus", "workers", workers, "shards", shards)
		}
	}
	return db, logger, nil
}

// migrate applies the migrations, refusing a newer schema.
func (db *database) migrate(ctx context.Context) error {
	if err := schema.Migrate(ctx, db.Pool, db.logger); err != nil {
		if errors.Is(err, schema.ErrTooNew) {
			return fmt.Errorf("refusing to start: %w", err)
		}
		return err
	}
	return nil
}
