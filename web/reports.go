package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v5"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/report"
	"github.com/beaver-analytics/beaver/report/chart"
	"github.com/beaver-analytics/beaver/report/format"
	"github.com/beaver-analytics/beaver/report/results"
	"github.com/beaver-analytics/beaver/schema/errs"
)

// langParam reads ?lang= (en, the default, or it).
func langParam(c *echo.Context) (format.Lang, error) {
	lang, err := format.ParseLang(c.QueryParam("lang"))
	if err != nil {
		return lang, fmt.Errorf("%w: lang: %s", errs.Invalid, err.Error())
	}
	return lang, nil
}

// runReport is what the reports of a run are made from: the document as
// served (suppressed at the current k), its bytes, the run's protocol and
// the title block's fields.
type runReport struct {
	id    int64
	doc   *results.Document
	bytes []byte
	p     *cohort.Protocol
	opts  report.HTMLOptions
}

func (s *Server) runReport(c *echo.Context) (*runReport, error) {
	lang, err := langParam(c)
	if err != nil {
		return nil, err
	}
	id, st, b, err := s.resultsOf(c)
	if err != nil {
		return nil, err
	}
	doc, err := results.Decode(b)
	if err != nil {
		return nil, err
	}
	p, err := s.study.Protocol(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	date := ""
	if sum, err := s.runs.summary(c.Request().Context(), id); err == nil {
		date = sum.CreatedAt.Format("2006-01-02")
	}
	return &runReport{id: id, doc: doc, bytes: b, p: p,
		opts: report.HTMLOptions{Lang: lang, Author: st.Owner, RunID: fmt.Sprint(id), RunDate: date}}, nil
}

func (s *Server) runReportHTML(c *echo.Context) error {
	rr, err := s.runReport(c)
	if err != nil {
		return err
	}
	page, err := report.HTML(rr.doc, rr.p, rr.opts)
	if err != nil {
		return err
	}
	s.audit(c, "report_download", fmt.Sprint(rr.id), map[string]any{"run_id": rr.id, "format": "html", "lang": rr.opts.Lang})
	// The report is a self-contained page with no script: it may style
	// itself inline, and loads nothing.
	c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'")
	return c.HTMLBlob(http.StatusOK, page)
}

func (s *Server) runReportPDF(c *echo.Context) error {
	rr, err := s.runReport(c)
	if err != nil {
		return err
	}
	r, err := s.renderer()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(rr.bytes)
	pdf, err := r.ReportPDF(c.Request().Context(), rr.doc, rr.p, rr.opts, hex.EncodeToString(sum[:]))
	if err != nil {
		return err
	}
	s.audit(c, "report_download", fmt.Sprint(rr.id), map[string]any{"run_id": rr.id, "format": "pdf", "lang": rr.opts.Lang})
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="beaver-run-%d-%s.pdf"`, rr.id, rr.opts.Lang))
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}

// renderer starts the PDF renderer (one warm Chromium) on first use.
func (s *Server) renderer() (*report.Renderer, error) {
	s.pdfOnce.Do(func() {
		if s.cfg.DataDir == "" {
			s.pdfErr = fmt.Errorf("%w: this server has no data directory for the PDF renderer", errs.Unavailable)
			return
		}
		s.pdf, s.pdfErr = report.NewRenderer(report.RendererConfig{DataDir: s.cfg.DataDir, Logger: s.cfg.Logger,
			SoftwareVersion: study.SoftwareVersion()})
		if s.pdfErr != nil {
			s.pdfErr = errs.Wrap(errs.Unavailable, s.pdfErr)
		}
	})
	return s.pdf, s.pdfErr
}

// pdfState is the lazily started PDF renderer of a server.
type pdfState struct {
	pdfOnce sync.Once
	pdf     *report.Renderer
	pdfErr  error
}

// Close stops what the server started (the PDF renderer's browser).
func (s *Server) Close() error {
	if s.pdf != nil {
		return s.pdf.Close()
	}
	return nil
}

func (s *Server) runChart(c *echo.Context) error {
	file := c.Param("chart")
	name, ok := strings.CutSuffix(file, ".svg")
	if !ok || name == "" {
		return fmt.Errorf("%w: chart %q: ask for ANALYSIS.svg", errs.NotFound, file)
	}
	if class := c.QueryParam("class"); class != "" {
		name += "/" + class
	}
	rr, err := s.runReport(c)
	if err != nil {
		return err
	}
	r, err := report.FromResults(rr.doc, rr.p, rr.opts)
	if err != nil {
		return err
	}
	svg, err := report.ChartSVG(r, name, rr.opts)
	if errors.Is(err, report.ErrNoChart) {
		return fmt.Errorf("%w: run %d has no chart for %q: %s", errs.NotFound, rr.id, name, err.Error())
	}
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/svg+xml", svg)
}

// protocolDiagram draws the study design diagram of a protocol as the
// editor sends it (it need not be valid yet: a protocol that does not
// decode is a 400 with its issues).
func (s *Server) protocolDiagram(c *echo.Context) error {
	lang, err := langParam(c)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	p, err := cohort.DecodeBytes(b)
	if err != nil {
		return asProtocolErrors(err)
	}
	svg, err := chart.Design(p, chart.DesignOptions{Lang: lang})
	if err != nil {
		return errs.Wrap(errs.Invalid, err)
	}
	return c.Blob(http.StatusOK, "image/svg+xml", svg)
}
