package etl

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/schema/errs"
)

// ImportByID returns one import of the history.
func ImportByID(ctx context.Context, pool *pgxpool.Pool, id int64) (*Import, error) {
	rows, err := pool.Query(ctx, `SELECT id, started_by, started_at, finished_at, import_date, state, data_version,
		rows_read, rows_published, rows_rejected, duration_ms, error, summary
		FROM etl_import WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("etl: read import %d: %w", id, err)
	}
	imp, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Import])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: import %d", errs.NotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("etl: read import %d: %w", id, err)
	}
	return &imp, nil
}

// QuarantineCounts returns how many values of an import were refused, by
// reason.
func QuarantineCounts(ctx context.Context, pool *pgxpool.Pool, importID int64) (map[string]int64, error) {
	rows, err := pool.Query(ctx, "SELECT reason, count(*) FROM etl_quarantine WHERE import_id = $1 GROUP BY reason ORDER BY reason", importID)
	if err != nil {
		return nil, fmt.Errorf("etl: quarantine of import %d: %w", importID, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var r string
		var n int64
		if err := rows.Scan(&r, &n); err != nil {
			return nil, fmt.Errorf("etl: quarantine of import %d: %w", importID, err)
		}
		out[r] = n
	}
	return out, rows.Err()
}

// QuarantinedRow is one refused value of an import: the file, line and
// column, why, and the value as the file gave it.
type QuarantinedRow struct {
	File   string  `json:"file"`
	Line   int64   `json:"line"`
	Column string  `json:"column"`
	Reason string  `json:"reason"`
	Value  *string `json:"value"`
	Detail *string `json:"detail"`
}

// QuarantineRows returns an import's refused values in file and line
// order, at most limit of them after the first offset.
func QuarantineRows(ctx context.Context, pool *pgxpool.Pool, importID int64, reason string, limit, offset int) ([]QuarantinedRow, error) {
	rows, err := pool.Query(ctx, `SELECT coalesce(f.path, q.file_no::text), q.line, q.column_name, q.reason, q.value, q.detail
		FROM etl_quarantine q LEFT JOIN etl_import_file f ON f.import_id = q.import_id AND f.file_no = q.file_no
		WHERE q.import_id = $1 AND ($2 = '' OR q.reason = $2)
		ORDER BY q.file_no, q.line, q.column_name LIMIT $3 OFFSET $4`, importID, reason, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("etl: quarantine of import %d: %w", importID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[QuarantinedRow])
	if err != nil {
		return nil, fmt.Errorf("etl: quarantine of import %d: %w", importID, err)
	}
	return out, nil
}
