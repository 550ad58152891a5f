package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/beaver-analytics/beaver/engine/etl"
)

// The watch folder: files dropped in DATA-DIR/inbox/ are imported as one
// import per scan, then moved to DATA-DIR/processed/ or DATA-DIR/failed/.
//
// A scan is a River job on a queue of its own that only the process owning
// the data dir works (its name is derived from the inbox path and the host
// name), inserted every InboxEvery by that process. A River periodic job
// would be enqueued by the elected leader, which may be a `beaver worker`
// on another host with no inbox.

// InboxArgs is one scan of the watch folder.
type InboxArgs struct{}

// Kind names the job in River's table.
func (InboxArgs) Kind() string { return "beaver.inbox" }

// InboxWorker imports what it finds in the inbox.
type InboxWorker struct {
	river.WorkerDefaults[InboxArgs]
	Pool     *pgxpool.Pool
	DataDir  string
	Notifier *Notifier
	// MinAge is how long a file must have been left unchanged before it is
	// taken, so that a file still being copied in is not imported half.
	MinAge time.Duration
	Logger *slog.Logger
}

// Timeout lets an import run as long as it needs.
func (w *InboxWorker) Timeout(*river.Job[InboxArgs]) time.Duration { return -1 }

// InboxQueue returns the queue of the inbox scans of a data dir on this host.
func InboxQueue(dataDir string) string {
	abs, _ := filepath.Abs(dataDir)
	host, _ := os.Hostname()
	h := fnv.New32a()
	h.Write([]byte(host + "\x00" + abs))
	return fmt.Sprintf("inbox_%08x", h.Sum32())
}

// Work claims the settled files of the inbox (moving them into a private
// batch directory), imports them, and files the batch under processed/ or
// failed/. A batch left behind by a crash is imported first.
func (w *InboxWorker) Work(ctx context.Context, job *river.Job[InboxArgs]) error {
	inbox := filepath.Join(w.DataDir, "inbox")
	for _, d := range []string{inbox, filepath.Join(w.DataDir, "processed"), filepath.Join(w.DataDir, "failed")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("inbox: %w", err)
		}
	}
	batches, err := filepath.Glob(filepath.Join(inbox, ".batch-*"))
	if err != nil {
		return err
	}
	if len(batches) == 0 {
		b, err := w.claim(inbox, job.ID)
		if err != nil || b == "" {
			return err
		}
		batches = []string{b}
	}
	for _, b := range batches {
		if err := w.importBatch(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// claim moves the inbox's settled CSV and Parquet files into a new batch
// directory and returns it, or "" when there is nothing to take.
func (w *InboxWorker) claim(inbox string, jobID int64) (string, error) {
	entries, err := os.ReadDir(inbox)
	if err != nil {
		return "", fmt.Errorf("inbox: %w", err)
	}
	var take []string
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if e.IsDir() || strings.HasPrefix(name, ".") || (ext != ".csv" && ext != ".parquet") {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < w.MinAge {
			continue
		}
		take = append(take, name)
	}
	if len(take) == 0 {
		return "", nil
	}
	batch := filepath.Join(inbox, fmt.Sprintf(".batch-%s-%d", time.Now().UTC().Format("20060102T150405"), jobID))
	if err := os.Mkdir(batch, 0o755); err != nil {
		return "", fmt.Errorf("inbox: %w", err)
	}
	for _, name := range take {
		if err := os.Rename(filepath.Join(inbox, name), filepath.Join(batch, name)); err != nil {
			return "", fmt.Errorf("inbox: claim %s: %w", name, err)
		}
	}
	return batch, nil
}

func (w *InboxWorker) importBatch(ctx context.Context, batch string) error {
	paths, err := etl.ExpandPaths([]string{batch})
	if err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	if len(paths) == 0 {
		return os.Remove(batch)
	}
	res, err := etl.Load(ctx, w.Pool, paths, etl.Options{
		StartedBy: "inbox", Logger: w.Logger,
		AfterPublish: func(ctx context.Context, version int64) error { return etl.AfterPublish(ctx, w.Pool, version) },
	})
	if errors.Is(err, etl.ErrImportRunning) || (err != nil && ctx.Err() != nil) {
		// Not this batch's fault: leave it claimed and let River retry.
		return err
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	slices.Sort(names)
	dest := "processed"
	if err != nil {
		dest = "failed"
	}
	id := int64(0)
	if res != nil {
		id = res.ImportID
	}
	target := filepath.Join(w.DataDir, dest, fmt.Sprintf("%s-import-%d", strings.TrimPrefix(filepath.Base(batch), ".batch-"), id))
	if rerr := os.Rename(batch, target); rerr != nil {
		return fmt.Errorf("inbox: file batch under %s: %w", dest, rerr)
	}
	if err != nil {
		_ = os.WriteFile(filepath.Join(target, "ERROR.txt"), []byte(err.Error()+"\n"), 0o644)
	}
	w.Logger.Info("inbox import", "import", id, "files", len(paths), "moved_to", target, "err", err)
	if w.Notifier != nil {
		w.Notifier.ImportDone(ctx, "inbox", names, res, err)
	}
	return nil // a bad file is reported and filed, not retried
}

// inboxUnique keeps at most one scan waiting or running per queue.
var inboxUnique = river.UniqueOpts{ByQueue: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateScheduled, rivertype.JobStateRetryable,
}}

// RunInboxScans inserts an inbox scan every interval until ctx ends.
func RunInboxScans(ctx context.Context, c *Client, dataDir string, every time.Duration, logger *slog.Logger) {
	queue := InboxQueue(dataDir)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_, err := c.Insert(ctx, InboxArgs{}, &river.InsertOpts{Queue: queue, UniqueOpts: inboxUnique})
		if err != nil && ctx.Err() == nil {
			logger.Warn("schedule inbox scan", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
