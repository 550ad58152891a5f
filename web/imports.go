package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/report/chart"
	"github.com/beaver-analytics/beaver/report/format"
	"github.com/beaver-analytics/beaver/schema/errs"
)

// uploadName is what an uploaded file may be called: a flow's file name
// (pharmacy.csv, sdo_2019.parquet), nothing with a path.
var uploadName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.(csv|parquet)$`)

// importUpload streams the multipart parts of the request to files under
// DATA-DIR/uploads (never held in memory), then records the upload and
// enqueues its import. Any refused part removes every file written.
func (s *Server) importUpload(c *echo.Context) error {
	if s.cfg.DataDir == "" || s.cfg.River == nil {
		return fmt.Errorf("%w: this server has no data directory for uploads", errs.Unavailable)
	}
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return fmt.Errorf("%w: send the files as multipart/form-data: %s", errs.Invalid, err.Error())
	}
	dir, err := engine.UploadDir(s.cfg.DataDir)
	if err != nil {
		return err
	}
	keep := false
	defer func() {
		if !keep {
			_ = os.RemoveAll(dir)
		}
	}()
	var files []string
	var total int64
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return err
			}
			return fmt.Errorf("%w: bad multipart body: %s", errs.Invalid, err.Error())
		}
		name := part.FileName()
		if name == "" {
			part.Close()
			continue // a plain form field
		}
		name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
		if !uploadName.MatchString(name) {
			return fmt.Errorf("%w: file %q: name a flow file NAME.csv or NAME.parquet (letters, digits, '.', '_', '-')", errs.Invalid, name)
		}
		if seen[name] {
			return fmt.Errorf("%w: file %q sent twice", errs.Invalid, name)
		}
		seen[name] = true
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
		if err != nil {
			return fmt.Errorf("web: upload: %w", err)
		}
		n, err := io.Copy(f, part)
		cerr := f.Close()
		part.Close()
		if err != nil {
			return err // a body over the limit is a 413
		}
		if cerr != nil {
			return fmt.Errorf("web: upload: %w", cerr)
		}
		total += n
		files = append(files, name)
	}
	up, err := (&engine.Uploads{Pool: s.cfg.Pool, River: s.cfg.River}).Create(c.Request().Context(), currentUser(c).ID, dir, files, total)
	if err != nil {
		return err
	}
	keep = true
	s.audit(c, "import_upload", strings.Join(files, ","), map[string]any{"upload_id": up.ID, "bytes": total})
	return c.JSON(http.StatusAccepted, map[string]any{"id": up.ID, "state": up.State, "files": up.Files})
}

// ImportView is an upload with what its import did.
type ImportView struct {
	*engine.Upload
	Import *etl.Import `json:"import"`
	// RejectedByReason counts the refused values of the import by reason.
	RejectedByReason map[string]int64 `json:"rejected_by_reason"`
}

func (s *Server) importView(c *echo.Context, up *engine.Upload) (*ImportView, error) {
	v := &ImportView{Upload: up, RejectedByReason: map[string]int64{}}
	if up.ImportID == nil {
		return v, nil
	}
	imp, err := etl.ImportByID(c.Request().Context(), s.cfg.Pool, *up.ImportID)
	if err != nil {
		return nil, err
	}
	v.Import = imp
	if v.RejectedByReason, err = etl.QuarantineCounts(c.Request().Context(), s.cfg.Pool, *up.ImportID); err != nil {
		return nil, err
	}
	return v, nil
}

func (s *Server) listImports(c *echo.Context) error {
	ctx := c.Request().Context()
	ups, err := (&engine.Uploads{Pool: s.cfg.Pool}).List(ctx, 100)
	if err != nil {
		return err
	}
	views := make([]*ImportView, len(ups))
	for i, up := range ups {
		if views[i], err = s.importView(c, up); err != nil {
			return err
		}
	}
	history, err := etl.History(ctx, s.cfg.Pool, 100)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"uploads": views, "history": history})
}

func (s *Server) getImport(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	up, err := (&engine.Uploads{Pool: s.cfg.Pool}).Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v, err := s.importView(c, up)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// importQuarantine shows the refused values of an upload's import: the
// one deliberate exception to aggregates only (rows of a file the admin
// sent, so that they can fix it), admins only.
func (s *Server) importQuarantine(c *echo.Context) error {
	ctx := c.Request().Context()
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	up, err := (&engine.Uploads{Pool: s.cfg.Pool}).Get(ctx, id)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 100)
	if err != nil {
		return err
	}
	offset, err := queryInt(c, "offset", 0)
	if err != nil {
		return err
	}
	rows := []etl.QuarantinedRow{}
	if up.ImportID != nil {
		if rows, err = etl.QuarantineRows(ctx, s.cfg.Pool, *up.ImportID, c.QueryParam("reason"), min(max(limit, 1), 1000), offset); err != nil {
			return err
		}
		for i := range rows {
			rows[i].File = filepath.Base(rows[i].File)
		}
	}
	s.audit(c, "quarantine_read", strconv.FormatInt(id, 10), map[string]any{"upload_id": id})
	return c.JSON(http.StatusOK, map[string]any{"rows": rows})
}

// countKeys are the members of the diagnostics that count rows, persons
// or values: suppressed below k.
var countKeys = map[string]bool{"rows": true, "persons": true, "outlier_persons": true, "published_unknown": true,
	"published_out_of_validity": true, "quarantined": true, "count": true}

// countMaps are the members whose values are counts by a key.
var countMaps = map[string]bool{"dates_out_of_range": true, "quarantined_by_reason": true}

// suppressDiagnostics removes person identifiers (the top outliers) from
// a diagnostics document and blanks counts from 1 to k-1.
func suppressDiagnostics(v any, k int64) any {
	small := func(x any) bool {
		n, ok := x.(json.Number)
		if !ok {
			return false
		}
		i, err := n.Int64()
		return err == nil && i > 0 && i < k
	}
	switch x := v.(type) {
	case map[string]any:
		delete(x, "top_outliers")
		if years, ok := x["years"].([]any); ok {
			suppressDerived(years, small)
		}
		for key, val := range x {
			switch {
			case countKeys[key] && small(val):
				x[key] = nil
			case countMaps[key]:
				if m, ok := val.(map[string]any); ok {
					for mk, mv := range m {
						if small(mv) {
							m[mk] = nil
						}
					}
				}
			default:
				x[key] = suppressDiagnostics(val, k)
			}
		}
	case []any:
		for i := range x {
			x[i] = suppressDiagnostics(x[i], k)
		}
	}
	return v
}

// suppressDerived blanks, in a flow's years, what would give a blanked
// count back: the change from the previous year when either year's rows
// are below k, and the robust z of a year whose rows are (19 rows, then
// a change of -84.2% is 3 rows); and the events-per-person quantiles and
// outlier threshold of a year with fewer than k rows or persons. It runs
// before the counts are blanked.
func suppressDerived(years []any, small func(any) bool) {
	prevSmall := false
	for _, y := range years {
		m, ok := y.(map[string]any)
		if !ok {
			prevSmall = false
			continue
		}
		this := small(m["rows"])
		if this || prevSmall {
			if _, ok := m["change_from_previous_year"]; ok {
				m["change_from_previous_year"] = nil
			}
		}
		if this {
			if _, ok := m["robust_z"]; ok {
				m["robust_z"] = nil
			}
		}
		// The events per person of fewer than k persons describe each of
		// them (the maximum is one person's count).
		if this || small(m["persons"]) {
			for _, k := range []string{"events_per_person", "outlier_threshold"} {
				if _, ok := m[k]; ok {
					m[k] = nil
				}
			}
		}
		prevSmall = this
	}
}

// diagnosticsReport reads the stored diagnostics of ?version= (default:
// the latest), refused to a user with a data scope (they count the whole
// region).
func (s *Server) diagnosticsReport(c *echo.Context) (*etl.Report, error) {
	ctx := c.Request().Context()
	if len(currentUser(c).Scope) > 0 {
		// The diagnostics count the whole region: a user restricted to some
		// ASLs may not read them.
		return nil, fmt.Errorf("%w: the data diagnostics cover the whole region; your account is restricted to the ASLs %s", errs.Forbidden, strings.Join(currentUser(c).Scope, ", "))
	}
	var version int64
	if v := c.QueryParam("version"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: version: not a data version: %q", errs.Invalid, v)
		}
		version = n
	}
	if version == 0 {
		v, err := etl.LatestVersion(ctx, s.cfg.Pool)
		if err != nil {
			return nil, err
		}
		if v == 0 {
			return nil, fmt.Errorf("%w: no data has been imported yet", errs.NotFound)
		}
		version = v
	}
	rep, err := etl.StoredDiagnostics(ctx, s.cfg.Pool, version)
	if err != nil {
		return nil, err
	}
	if rep == nil {
		return nil, fmt.Errorf("%w: no diagnostics for data version %d", errs.NotFound, version)
	}
	return rep, nil
}

func (s *Server) diagnostics(c *echo.Context) error {
	ctx := c.Request().Context()
	rep, err := s.diagnosticsReport(c)
	if err != nil {
		return err
	}
	st, err := s.accounts.Settings(ctx)
	if err != nil {
		return err
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	var doc any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return err
	}
	out := suppressDiagnostics(doc, int64(st.MinCount))
	if m, ok := out.(map[string]any); ok {
		m["min_count"] = st.MinCount // the k of the blanked counts, for the note
	}
	return c.JSON(http.StatusOK, out)
}

// diagnosticsRows draws the rows per year of every flow (a missing year
// breaks a flow's line), with years below k rows left out as missing.
func (s *Server) diagnosticsRows(c *echo.Context) error {
	lang, err := langParam(c)
	if err != nil {
		return err
	}
	rep, err := s.diagnosticsReport(c)
	if err != nil {
		return err
	}
	st, err := s.accounts.Settings(c.Request().Context())
	if err != nil {
		return err
	}
	var counts []chart.YearCount
	for _, f := range rep.Flows {
		for _, y := range f.Years {
			if y.Rows >= int64(st.MinCount) {
				counts = append(counts, chart.YearCount{Flow: f.Flow, Year: y.Year, Rows: y.Rows})
			}
		}
	}
	if len(counts) == 0 {
		return fmt.Errorf("%w: no flow has rows to draw", errs.NotFound)
	}
	title := "Rows per year and flow"
	if lang == format.IT {
		title = "Righe per anno e flusso"
	}
	svg, err := chart.RowsPerYear(counts, chart.XYOptions{Lang: lang, Title: title})
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/svg+xml", svg)
}
