package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/engine/catalog"
	"github.com/beaver-analytics/beaver/schema/errs"
)

// StudyUpdate is the body of PUT /api/v1/studies/{id}: the draft and the
// version it was made from.
type StudyUpdate struct {
	catalog.Draft
	Version int `json:"version"`
}

// ShareRequest is the body of POST /api/v1/studies/{id}/share.
type ShareRequest struct {
	Username string `json:"username"`
	Access   string `json:"access"`
}

func queryInt(c *echo.Context, name string, def int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: query parameter %s: not a non-negative integer: %q", errs.Invalid, name, v)
	}
	return n, nil
}

func (s *Server) listStudies(c *echo.Context) error {
	limit, err := queryInt(c, "limit", 50)
	if err != nil {
		return err
	}
	offset, err := queryInt(c, "offset", 0)
	if err != nil {
		return err
	}
	list, total, err := s.studies.List(c.Request().Context(), currentUser(c), catalog.ListFilter{Q: c.QueryParam("q"), Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	items := make([]studyItem, len(list))
	for i, st := range list {
		items[i] = studyItem{Study: st}
		if last, err := s.runs.last(c.Request().Context(), st.ID); err == nil {
			items[i].LastRun = last
		} else {
			return err
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"studies": items, "total": total, "limit": limit, "offset": offset})
}

// studyItem is a study in a list, with its last run.
type studyItem struct {
	*catalog.Study
	LastRun *RunSummary `json:"last_run"`
}

func (s *Server) createStudy(c *echo.Context) error {
	var d catalog.Draft
	if err := bindJSON(c, &d); err != nil {
		return err
	}
	st, err := s.studies.Create(c.Request().Context(), currentUser(c), d)
	if err != nil {
		return err
	}
	s.audit(c, "study_create", st.Name, map[string]any{"study_id": st.ID})
	return c.JSON(http.StatusCreated, st)
}

func (s *Server) getStudy(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	st, err := s.studies.Get(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (s *Server) updateStudy(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var req StudyUpdate
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.Version <= 0 {
		return fmt.Errorf("%w: version: give the version you edited (from GET /api/v1/studies/%d)", errs.Invalid, id)
	}
	st, err := s.studies.Update(c.Request().Context(), currentUser(c), id, req.Version, req.Draft)
	var vc *catalog.VersionConflict
	if errors.As(err, &vc) {
		return c.JSON(http.StatusConflict, map[string]any{"error": apiErrorBody{Code: "conflict", Message: vc.Error()}, "current_version": vc.Current})
	}
	if err != nil {
		return err
	}
	s.audit(c, "study_edit", st.Name, map[string]any{"study_id": st.ID, "version": st.Version})
	return c.JSON(http.StatusOK, st)
}

func (s *Server) deleteStudy(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.studies.Delete(c.Request().Context(), currentUser(c), id); err != nil {
		return err
	}
	s.audit(c, "study_delete", strconv.FormatInt(id, 10), map[string]any{"study_id": id})
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) studyVersions(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	vs, err := s.studies.Versions(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"versions": vs})
}

func (s *Server) shareStudy(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var req ShareRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := s.studies.Share(c.Request().Context(), currentUser(c), id, req.Username, req.Access); err != nil {
		return err
	}
	s.audit(c, "study_share", req.Username, map[string]any{"study_id": id, "access": req.Access})
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) studyShares(c *echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	list, err := s.studies.Shares(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"shares": list})
}

// ProtocolIssue is one error or warning of a protocol, at its JSON path.
type ProtocolIssue struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Validation answers POST /api/v1/protocols/validate.
type Validation struct {
	Errors   []ProtocolIssue   `json:"errors"`
	Warnings []ProtocolIssue   `json:"warnings"`
	Methods  map[string]string `json:"methods"`
}

// protocolErrors is a protocol refused with its issues (400 with details).
type protocolErrors struct {
	issues []ProtocolIssue
	err    error
	// status is 400 (a protocol sent in the request) or 422 (a saved
	// protocol that cannot run: the request itself was well formed).
	status int
}

func (e *protocolErrors) Error() string { return e.err.Error() }
func (e *protocolErrors) Unwrap() error { return e.err }

// asProtocolErrors turns cohort's validation errors into issues, keeping
// any other error as it is.
func asProtocolErrors(err error) error {
	var ve cohort.ValidationErrors
	if !errors.As(err, &ve) {
		return err
	}
	pe := &protocolErrors{err: err, status: http.StatusBadRequest}
	for _, fe := range ve {
		pe.issues = append(pe.issues, ProtocolIssue{Path: fe.Path, Message: fe.Msg})
	}
	return pe
}

// unrunnable marks protocol errors as those of a saved protocol asked to
// run: 422, since the request was well formed.
func unrunnable(err error) error {
	var pe *protocolErrors
	if errors.As(err, &pe) {
		pe.status = http.StatusUnprocessableEntity
	}
	return err
}

// checkProtocol decodes, validates and checks a protocol: the issues found
// and, when it is valid, its methods text in both languages.
func checkProtocol(b []byte) Validation {
	v := Validation{Errors: []ProtocolIssue{}, Warnings: []ProtocolIssue{}, Methods: map[string]string{}}
	p, err := cohort.DecodeBytes(b)
	if err == nil {
		err = p.Validate()
	}
	if err != nil {
		var ve cohort.ValidationErrors
		if errors.As(err, &ve) {
			for _, fe := range ve {
				v.Errors = append(v.Errors, ProtocolIssue{Path: fe.Path, Message: fe.Msg})
			}
		} else {
			v.Errors = append(v.Errors, ProtocolIssue{Message: err.Error()})
		}
		return v
	}
	for _, w := range cohort.Check(p) {
		v.Warnings = append(v.Warnings, ProtocolIssue{Path: w.Path, Message: w.Msg})
	}
	for _, lang := range []string{"en", "it"} {
		if text, err := cohort.Describe(p, lang); err == nil {
			v.Methods[lang] = text
		}
	}
	return v
}

func (s *Server) validateProtocol(c *echo.Context) error {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, checkProtocol(b))
}
