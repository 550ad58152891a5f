package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/schema/errs"
)

// Upload is a set of flow files sent through the web, imported by a River
// job (never inside the request). Its files are kept under
// DATA-DIR/uploads/<id> until the import ends, then removed.
type Upload struct {
	ID         int64      `json:"id"`
	UserID     *int64     `json:"user_id"`
	State      string     `json:"state"` // queued, running, published, unchanged, failed
	Files      []string   `json:"files"`
	Bytes      int64      `json:"bytes"`
	ImportID   *int64     `json:"import_id"`
	Error      *string    `json:"error"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at"`
	dir        string
}

// Uploads stores uploads and enqueues their imports. It is the only code
// that reads or writes web_import.
type Uploads struct {
	Pool   *pgxpool.Pool
	River  *Client
	Logger *slog.Logger
}

// UploadDir returns a new directory for the files of an upload.
func UploadDir(dataDir string) (string, error) {
	root := filepath.Join(dataDir, "uploads")
	if err := os.MkdirAll(root, 0o750); err != nil {
		return "", fmt.Errorf("engine: uploads: %w", err)
	}
	dir, err := os.MkdirTemp(root, "upload-")
	if err != nil {
		return "", fmt.Errorf("engine: uploads: %w", err)
	}
	return dir, nil
}

// Create records the files written to dir and enqueues their import in
// the same transaction.
func (u *Uploads) Create(ctx context.Context, userID int64, dir string, files []string, bytes int64) (*Upload, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: no files: send one or more flow files (CSV or Parquet) as multipart parts", errs.Invalid)
	}
	fj, err := json.Marshal(files)
	if err != nil {
		return nil, err
	}
	var id int64
	err = pgx.BeginFunc(ctx, u.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO web_import (user_id, dir, files, bytes) VALUES ($1, $2, $3, $4) RETURNING id`,
			userID, dir, fj, bytes).Scan(&id); err != nil {
			return err
		}
		_, err := u.River.InsertTx(ctx, tx, UploadArgs{UploadID: id}, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("engine: uploads: record: %w", err)
	}
	return u.Get(ctx, id)
}

const uploadCols = "id, user_id, state, files, bytes, import_id, error, created_at, finished_at, dir"

func scanUpload(row pgx.Row) (*Upload, error) {
	up := &Upload{}
	var files []byte
	if err := row.Scan(&up.ID, &up.UserID, &up.State, &files, &up.Bytes, &up.ImportID, &up.Error, &up.CreatedAt, &up.FinishedAt, &up.dir); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(files, &up.Files); err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	return up, nil
}

// Get returns one upload.
func (u *Uploads) Get(ctx context.Context, id int64) (*Upload, error) {
	up, err := scanUpload(u.Pool.QueryRow(ctx, "SELECT "+uploadCols+" FROM web_import WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: upload %d", errs.NotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("engine: uploads: read %d: %w", id, err)
	}
	return up, nil
}

// List returns the latest uploads, newest first.
func (u *Uploads) List(ctx context.Context, limit int) ([]*Upload, error) {
	rows, err := u.Pool.Query(ctx, "SELECT "+uploadCols+" FROM web_import ORDER BY id DESC LIMIT $1", limit)
	if err != nil {
		return nil, fmt.Errorf("engine: uploads: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Upload, error) { return scanUpload(r) })
	if err != nil {
		return nil, fmt.Errorf("engine: uploads: list: %w", err)
	}
	return out, nil
}

// UploadArgs is the job that imports an upload.
type UploadArgs struct {
	UploadID int64 `json:"upload_id"`
}

// Kind names the job.
func (UploadArgs) Kind() string { return "beaver.upload_import" }

// UploadWorker imports an upload's files with the validated import.
type UploadWorker struct {
	river.WorkerDefaults[UploadArgs]
	Pool   *pgxpool.Pool
	Logger *slog.Logger
}

// Timeout lets an import of a region's yearly files run as long as it
// needs.
func (w *UploadWorker) Timeout(*river.Job[UploadArgs]) time.Duration { return -1 }

// Work imports the files; a bad file fails the upload (with the import's
// explanation), not the job. Another import running makes River retry.
func (w *UploadWorker) Work(ctx context.Context, job *river.Job[UploadArgs]) error {
	ups := &Uploads{Pool: w.Pool}
	up, err := ups.Get(ctx, job.Args.UploadID)
	if err != nil {
		return river.JobCancel(err)
	}
	if up.State != "queued" && up.State != "running" {
		return nil // done by an earlier attempt
	}
	if _, err := w.Pool.Exec(ctx, "UPDATE web_import SET state = 'running' WHERE id = $1", up.ID); err != nil {
		return fmt.Errorf("engine: upload %d: mark running: %w", up.ID, err)
	}
	paths, err := etl.ExpandPaths([]string{up.dir})
	var res *etl.Result
	if err == nil {
		by := "web"
		if up.UserID != nil {
			by = fmt.Sprintf("web:user %d", *up.UserID)
		}
		res, err = etl.Load(ctx, w.Pool, paths, etl.Options{StartedBy: by, Logger: w.Logger,
			AfterPublish: func(ctx context.Context, version int64) error { return etl.AfterPublish(ctx, w.Pool, version) }})
	}
	if errors.Is(err, etl.ErrImportRunning) || (err != nil && ctx.Err() != nil) {
		return err // not this upload's fault: River retries
	}
	state, msg := "failed", (*string)(nil)
	var importID *int64
	if res != nil {
		importID = &res.ImportID
		if err == nil {
			state = string(res.State)
		}
	}
	if err != nil {
		// The files' names as sent, not the server's directory.
		s := strings.ReplaceAll(err.Error(), up.dir+string(os.PathSeparator), "")
		msg = &s
	}
	if _, uerr := w.Pool.Exec(ctx, `UPDATE web_import SET state = $2, import_id = $3, error = $4, finished_at = now() WHERE id = $1`,
		up.ID, state, importID, msg); uerr != nil {
		return fmt.Errorf("engine: upload %d: record result: %w", up.ID, uerr)
	}
	if rerr := os.RemoveAll(up.dir); rerr != nil && w.Logger != nil {
		w.Logger.Warn("remove upload files", "upload", up.ID, "err", rerr)
	}
	return nil
}
