package etl

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Import is one row of the import history.
type Import struct {
	ID            int64           `json:"id"`
	StartedBy     string          `json:"started_by"`
	StartedAt     time.Time       `json:"started_at"`
	FinishedAt    *time.Time      `json:"finished_at"`
	ImportDate    time.Time       `json:"import_date"`
	State         ImportState     `json:"state"`
	DataVersion   *int64          `json:"data_version"`
	RowsRead      int64           `json:"rows_read"`
	RowsPublished int64           `json:"rows_published"`
	RowsRejected  int64           `json:"rows_rejected"`
	DurationMS    *int64          `json:"duration_ms"`
	Error         *string         `json:"error"`
	Summary       json.RawMessage `json:"summary"`
}

// History returns the latest imports, newest first.
func History(ctx context.Context, pool *pgxpool.Pool, limit int) ([]Import, error) {
	rows, err := pool.Query(ctx, `SELECT id, started_by, started_at, finished_at, import_date, state, data_version,
		rows_read, rows_published, rows_rejected, duration_ms, error, summary
		FROM etl_import ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("etl: read history: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Import])
	if err != nil {
		return nil, fmt.Errorf("etl: read history: %w", err)
	}
	return out, nil
}

// LatestVersion returns the newest published data version (0: none yet).
func LatestVersion(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var v int64
	if err := pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM etl_data_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("etl: read data version: %w", err)
	}
	return v, nil
}
