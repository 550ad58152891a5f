package main

import (
	"context"
	"fmt"
	"os"

	"github.com/beaver-analytics/beaver/engine/access"
	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/report"
	"github.com/beaver-analytics/beaver/report/format"
	"github.com/beaver-analytics/beaver/report/suppress"
)

// runStudyReport writes a run's report as HTML or PDF, from its results
// document (with small counts suppressed at the server's minimum cell
// count, as the web serves it) and its bound protocol.
func runStudyReport(ctx context.Context, args []string) error {
	fs := newFlagSet("study report", "study report RUN (--pdf FILE | --html FILE) [--lang it] [--author NAME]")
	var c common
	c.register(fs)
	pdfPath := fs.String("pdf", "", "write the report as PDF to this file")
	htmlPath := fs.String("html", "", "write the report as HTML to this file")
	langFlag := fs.String("lang", "en", "language of the report: en or it")
	author := fs.String("author", "", "author shown in the title block")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	id, err := runIDArg(pos)
	if err != nil {
		return err
	}
	if (*pdfPath == "") == (*htmlPath == "") {
		return usageErr("give one of --pdf FILE or --html FILE")
	}
	lang, err := format.ParseLang(*langFlag)
	if err != nil {
		return usageErr("--lang: %v", err)
	}
	db, _, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := &study.Service{Pool: db.Pool}
	doc, err := svc.Results(ctx, id)
	if err != nil {
		return err
	}
	p, err := svc.Protocol(ctx, id)
	if err != nil {
		return err
	}
	settings, err := (&access.Service{Pool: db.Pool}).Settings(ctx)
	if err != nil {
		return err
	}
	suppress.Document(doc, int64(settings.MinCount))
	opts := report.HTMLOptions{Lang: lang, Author: *author, RunID: fmt.Sprint(id)}
	if *htmlPath != "" {
		page, err := report.HTML(doc, p, opts)
		if err != nil {
			return err
		}
		return os.WriteFile(*htmlPath, page, 0o644)
	}
	r, err := report.NewRenderer(report.RendererConfig{DataDir: c.dataDir, SoftwareVersion: doc.SoftwareVersion, CacheFiles: -1})
	if err != nil {
		return err
	}
	defer r.Close()
	pdf, err := r.ReportPDF(ctx, doc, p, opts, doc.ProtocolHash)
	if err != nil {
		return err
	}
	return os.WriteFile(*pdfPath, pdf, 0o644)
}
