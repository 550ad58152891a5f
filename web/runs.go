package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/beaver-analytics/beaver/engine/access"
	"github.com/beaver-analytics/beaver/engine/catalog"
	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/report/suppress"
	"github.com/beaver-analytics/beaver/schema/errs"
)

// RunRequest is the body of POST /api/v1/studies/{id}/runs.
type RunRequest struct {
	Params map[string]string `json:"params"`
}

// RunSummary is a run in a list.
type RunSummary struct {
	ID      int64 `json:"id"`
	StudyID int64 `json:"study_id"`
	// StudyVersion is the study's version the run ran (null: a run from
	// before versions were kept with runs).
	StudyVersion *int       `json:"study_version"`
	State        string     `json:"state"`
	Percent      float64    `json:"percent"`
	CreatedAt    time.Time  `json:"created_at"`
	FinishedAt   *time.Time `json:"finished_at"`
	SubmittedBy  string     `json:"submitted_by"`
}

// Phase is the progress of one kind of step.
type Phase struct {
	Phase string `json:"phase"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// RunView answers GET /api/v1/runs/{id} and is each event of /events.
type RunView struct {
	ID      int64 `json:"id"`
	StudyID int64 `json:"study_id"`
	// StudyVersion is the study's version the run ran (null: a run from
	// before versions were kept with runs).
	StudyVersion *int    `json:"study_version"`
	State        string  `json:"state"`
	Error        string  `json:"error,omitempty"`
	Percent      float64 `json:"percent"`
	// ETASeconds is the estimated time left; null until known.
	ETASeconds     *float64 `json:"eta_seconds"`
	ElapsedSeconds float64  `json:"elapsed_seconds"`
	DataVersion    int64    `json:"data_version"`
	// Scope lists the ASLs the run's population was restricted to (the
	// submitting user's data scope); empty: the whole region.
	Scope []string `json:"scope"`
	// Warnings are the protocol's design warnings found at submission.
	Warnings []string             `json:"warnings"`
	Phases   []Phase              `json:"phases"`
	Steps    []study.StepProgress `json:"steps"`
}

// runs gives the API's view of study runs, checks that the caller may see
// them (through the run's study), and fans the progress of a run out to
// every /events stream that follows it from one poller.
type runs struct {
	s *Server

	mu       sync.Mutex
	watchers map[int64]*watcher

	cacheMu sync.Mutex
	cache   map[int64]cachedView
	studies map[int64]int64 // run → study
}

// cachedView is a run's view as last read: an ended run's never changes
// (until deleted); a live run's is read again after liveViewTTL.
type cachedView struct {
	v  *RunView
	at time.Time
}

// liveViewTTL is how long a live run's view is served from memory: many
// clients polling one run cost one read of its progress per TTL.
const liveViewTTL = 250 * time.Millisecond

func newRuns(s *Server) *runs {
	return &runs{s: s, watchers: map[int64]*watcher{}, cache: map[int64]cachedView{}, studies: map[int64]int64{}}
}

// cachedView returns the run's view, from memory when fresh.
func (r *runs) cachedView(ctx context.Context, runID, studyID int64) (*RunView, error) {
	r.cacheMu.Lock()
	cv, ok := r.cache[runID]
	r.cacheMu.Unlock()
	if ok && (ended(cv.v.State) || time.Since(cv.at) < liveViewTTL) {
		return cv.v, nil
	}
	v, err := r.view(ctx, runID, studyID)
	if err != nil {
		return nil, err
	}
	r.cacheMu.Lock()
	if len(r.cache) > 10_000 {
		clear(r.cache)
	}
	r.cache[runID] = cachedView{v: v, at: time.Now()}
	r.cacheMu.Unlock()
	return v, nil
}

// forget drops a run's cached view (after a cancel or delete).
func (r *runs) forget(runID int64) {
	r.cacheMu.Lock()
	delete(r.cache, runID)
	delete(r.studies, runID)
	r.cacheMu.Unlock()
}

// visibleRun returns the run's study after checking that u may see it; a
// run of another user's study is NotFound.
func (r *runs) visibleRun(ctx context.Context, u *access.User, runID int64) (*catalog.Study, *RunSummary, error) {
	sum, err := r.studyOf(ctx, runID)
	if err != nil {
		return nil, nil, err
	}
	st, err := r.s.studies.Get(ctx, u, sum.StudyID)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: run %d", errs.NotFound, runID)
	}
	return st, sum, nil
}

func (r *runs) summary(ctx context.Context, runID int64) (*RunSummary, error) {
	list, err := r.s.study.List(ctx, study.ListFilter{RunID: runID, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 || list[0].StudyID == 0 {
		return nil, fmt.Errorf("%w: run %d", errs.NotFound, runID) // a run of the CLI has no study: not the web's
	}
	return runSummary(list[0]), nil
}

func runSummary(run study.Run) *RunSummary {
	return &RunSummary{ID: run.ID, StudyID: run.StudyID, StudyVersion: version(run.StudyVersion), State: string(run.State),
		Percent: run.Percent, CreatedAt: run.CreatedAt, FinishedAt: run.FinishedAt, SubmittedBy: run.SubmitterName}
}

// version is a study version as the API shows it: null for none.
func version(v int) *int {
	if v == 0 {
		return nil
	}
	return &v
}

// studyOf returns a summary with the run's study (a run never changes
// study: the answer is kept in memory).
func (r *runs) studyOf(ctx context.Context, runID int64) (*RunSummary, error) {
	r.cacheMu.Lock()
	sid, ok := r.studies[runID]
	r.cacheMu.Unlock()
	if ok {
		return &RunSummary{ID: runID, StudyID: sid}, nil
	}
	sum, err := r.summary(ctx, runID)
	if err != nil {
		return nil, err
	}
	r.cacheMu.Lock()
	if len(r.studies) > 100_000 {
		clear(r.studies)
	}
	r.studies[runID] = sum.StudyID
	r.cacheMu.Unlock()
	return sum, nil
}

// last returns the newest run of a study, or nil.
func (r *runs) last(ctx context.Context, studyID int64) (*RunSummary, error) {
	list, err := r.list(ctx, studyID, 1)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return &list[0], nil
}

// list reads the runs of a study, newest first.
func (r *runs) list(ctx context.Context, studyID int64, limit int) ([]RunSummary, error) {
	rs, err := r.s.study.List(ctx, study.ListFilter{StudyID: studyID, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]RunSummary, len(rs))
	for i, run := range rs {
		out[i] = *runSummary(run)
	}
	return out, nil
}

// view reads a run's progress into the API's shape.
func (r *runs) view(ctx context.Context, runID, studyID int64) (*RunView, error) {
	p, err := r.s.study.Status(ctx, runID)
	if errors.Is(err, study.ErrNotFound) {
		return nil, fmt.Errorf("%w: run %d", errs.NotFound, runID)
	}
	if err != nil {
		return nil, err
	}
	v := &RunView{ID: runID, StudyID: studyID, StudyVersion: version(p.StudyVersion), State: string(p.State), Error: p.Error, Percent: p.Percent,
		ElapsedSeconds: p.Elapsed.Seconds(), DataVersion: p.DataVersion, Steps: p.Steps, Phases: []Phase{},
		Scope: p.Scope, Warnings: p.Warnings}
	if v.Scope == nil {
		v.Scope = []string{}
	}
	if v.Warnings == nil {
		v.Warnings = []string{}
	}
	if v.Steps == nil {
		v.Steps = []study.StepProgress{}
	}
	if p.ETA != nil {
		e := p.ETA.Seconds()
		v.ETASeconds = &e
	}
	at := map[string]int{}
	for _, st := range p.Steps {
		i, ok := at[st.Kind]
		if !ok {
			i = len(v.Phases)
			at[st.Kind] = i
			v.Phases = append(v.Phases, Phase{Phase: st.Kind})
		}
		v.Phases[i].Total++
		if st.State == study.StateDone {
			v.Phases[i].Done++
		}
	}
	return v, nil
}

func ended(state string) bool {
	st := study.State(state)
	return st == study.StateDone || st == study.StateFailed || st == study.StateCancelled
}

func (s *Server) submitRun(c *echo.Context) error {
	ctx := c.Request().Context()
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var req RunRequest
	if c.Request().ContentLength != 0 {
		if err := bindJSON(c, &req); err != nil {
			return err
		}
	}
	u := currentUser(c)
	st, err := s.studies.Own(ctx, u, id)
	if err != nil {
		return err
	}
	if s.cfg.River == nil {
		return fmt.Errorf("%w: this server cannot start runs (no job queue)", errs.Unavailable)
	}
	sub, err := s.study.Submit(ctx, study.SubmitRequest{Protocol: st.Protocol, Params: req.Params, StudyID: st.ID, StudyVersion: st.Version,
		SubmittedBy: u.ID, Scope: u.Scope})
	if err != nil {
		return unrunnable(asProtocolErrors(err))
	}
	runID := sub.RunID
	s.audit(c, "run_submit", st.Name, map[string]any{"study_id": st.ID, "run_id": runID, "version": st.Version, "scope": u.Scope})
	sum, err := s.runs.summary(ctx, runID)
	if err != nil {
		return err
	}
	warnings := sub.Warnings
	if warnings == nil {
		warnings = []string{}
	}
	return c.JSON(http.StatusAccepted, map[string]any{"id": runID, "state": sum.State, "warnings": warnings})
}

func (s *Server) listRuns(c *echo.Context) error {
	ctx := c.Request().Context()
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.studies.Get(ctx, currentUser(c), id); err != nil {
		return err
	}
	list, err := s.runs.list(ctx, id, 200)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"runs": list})
}

func (s *Server) getRun(c *echo.Context) error {
	ctx := c.Request().Context()
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	_, sum, err := s.runs.visibleRun(ctx, currentUser(c), id)
	if err != nil {
		return err
	}
	v, err := s.runs.cachedView(ctx, id, sum.StudyID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// ownRun checks that u owns the run's study (to cancel or delete it).
func (s *Server) ownRun(c *echo.Context) (int64, *catalog.Study, error) {
	ctx := c.Request().Context()
	id, err := idParam(c, "id")
	if err != nil {
		return 0, nil, err
	}
	st, _, err := s.runs.visibleRun(ctx, currentUser(c), id)
	if err != nil {
		return 0, nil, err
	}
	if st.Access != catalog.AccessOwner {
		return 0, nil, fmt.Errorf("%w: only the study's owner may change its runs", errs.Forbidden)
	}
	return id, st, nil
}

func (s *Server) cancelRun(c *echo.Context) error {
	id, st, err := s.ownRun(c)
	if err != nil {
		return err
	}
	if err := s.study.Cancel(c.Request().Context(), id); err != nil {
		return err
	}
	s.runs.forget(id)
	s.audit(c, "run_cancel", st.Name, map[string]any{"study_id": st.ID, "run_id": id})
	v, err := s.runs.view(c.Request().Context(), id, st.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) deleteRun(c *echo.Context) error {
	id, st, err := s.ownRun(c)
	if err != nil {
		return err
	}
	if err := s.study.Delete(c.Request().Context(), id); err != nil {
		return err
	}
	s.runs.forget(id)
	s.audit(c, "run_delete", st.Name, map[string]any{"study_id": st.ID, "run_id": id})
	return c.NoContent(http.StatusNoContent)
}

// resultsOf returns the results document of a visible run as served:
// with primary and complementary suppression at the current minimum cell
// count (report/suppress), whatever it was when the run was computed.
func (s *Server) resultsOf(c *echo.Context) (int64, *catalog.Study, []byte, error) {
	ctx := c.Request().Context()
	id, err := idParam(c, "id")
	if err != nil {
		return 0, nil, nil, err
	}
	st, _, err := s.runs.visibleRun(ctx, currentUser(c), id)
	if err != nil {
		return 0, nil, nil, err
	}
	doc, err := s.study.Results(ctx, id)
	if errors.Is(err, study.ErrNoResults) {
		return 0, nil, nil, fmt.Errorf("%w: run %d has no results: it has not ended done", errs.Conflict, id)
	}
	if err != nil {
		return 0, nil, nil, err
	}
	settings, err := s.accounts.Settings(ctx)
	if err != nil {
		return 0, nil, nil, err
	}
	suppress.Document(doc, int64(settings.MinCount))
	b, err := json.Marshal(doc)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("web: encode results of run %d: %w", id, err)
	}
	return id, st, b, nil
}

func (s *Server) runResults(c *echo.Context) error {
	id, st, b, err := s.resultsOf(c)
	if err != nil {
		return err
	}
	s.audit(c, "results_read", st.Name, map[string]any{"study_id": st.ID, "run_id": id, "format": "json"})
	return c.JSONBlob(http.StatusOK, b)
}

// watcher polls one run for every /events stream that follows it.
type watcher struct {
	subs map[chan []byte]bool
	last []byte
}

// subscribe returns a channel of the run's views (JSON), the current one
// first, and a function to stop.
func (r *runs) subscribe(runID, studyID int64) (chan []byte, func()) {
	ch := make(chan []byte, 4)
	r.mu.Lock()
	w := r.watchers[runID]
	if w == nil {
		w = &watcher{subs: map[chan []byte]bool{}}
		r.watchers[runID] = w
		go r.poll(runID, studyID, w)
	} else if w.last != nil {
		ch <- w.last
	}
	w.subs[ch] = true
	r.mu.Unlock()
	return ch, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if w.subs[ch] {
			delete(w.subs, ch)
			close(ch)
		}
	}
}

// pollEvery is how often a followed run's progress is read.
const pollEvery = 500 * time.Millisecond

func (r *runs) poll(runID, studyID int64, w *watcher) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		v, err := r.view(ctx, runID, studyID)
		cancel()
		var b []byte
		if err == nil {
			b, _ = json.Marshal(v)
		}
		r.mu.Lock()
		if len(w.subs) == 0 {
			delete(r.watchers, runID)
			r.mu.Unlock()
			return
		}
		if b != nil && !bytes.Equal(b, w.last) {
			w.last = b
			for ch := range w.subs {
				select {
				case ch <- b:
				default: // a slow client gets the next change
				}
			}
		}
		done := err == nil && ended(v.State)
		if done {
			for ch := range w.subs {
				delete(w.subs, ch)
				close(ch)
			}
			delete(r.watchers, runID)
		}
		r.mu.Unlock()
		if done {
			return
		}
		<-t.C
	}
}

// heartbeat is how often an idle /events stream sends a comment line.
var heartbeat = 15 * time.Second

func (s *Server) runEvents(c *echo.Context) error {
	ctx := c.Request().Context()
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	_, sum, err := s.runs.visibleRun(ctx, currentUser(c), id)
	if err != nil {
		return err
	}
	w := c.Response()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	ch, stop := s.runs.subscribe(id, sum.StudyID)
	defer stop()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return nil
			}
		case b, ok := <-ch:
			if !ok {
				fmt.Fprint(w, "event: end\ndata: {}\n\n")
				_ = rc.Flush()
				return nil
			}
			n++
			if _, err := fmt.Fprintf(w, "id: %d\nevent: run\ndata: %s\n\n", n, b); err != nil {
				return nil
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}
