package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/report"
	"github.com/beaver-analytics/beaver/report/format"
	"github.com/beaver-analytics/beaver/report/results"
)

// runStudyReport writes a run's report as HTML or PDF. The run's protocol
// is read from --protocol (bound with --param as at submission) and must
// be the run's: its hash is checked against the results document's.
func runStudyReport(ctx context.Context, args []string) error {
	fs := newFlagSet("study report", "study report RUN --protocol FILE.json [--param k=v ...] (--pdf FILE | --html FILE) [--lang it] [--author NAME]")
	var c common
	c.register(fs)
	protocolPath := fs.String("protocol", "", "the run's protocol (the file given to study run)")
	params := paramFlags{}
	fs.Var(params, "param", "template parameter NAME=VALUE, as given to study run (repeatable)")
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
	if *protocolPath == "" {
		return usageErr("give --protocol FILE.json, the protocol the run was submitted with")
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
	doc, err := (&study.Service{Pool: db.Pool}).Results(ctx, id)
	if err != nil {
		return err
	}
	p, err := runProtocol(*protocolPath, params, doc)
	if err != nil {
		return err
	}
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

// runProtocol reads and binds the protocol file and checks that it is
// the run's: the SHA-256 of the bound protocol's JSON, as study.Submit
// computes it, must be the document's protocol_hash.
func runProtocol(path string, params map[string]string, doc *results.Document) (*cohort.Protocol, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := cohort.DecodeBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	bound, err := p.Bind(params)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	bj, err := json.Marshal(bound)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(bj)
	if h := hex.EncodeToString(sum[:]); h != doc.ProtocolHash {
		return nil, fmt.Errorf("%s is not the run's protocol (bound with these parameters its hash is %.12s…, the run's %.12s…): give the file and --param values of the run", path, h, doc.ProtocolHash)
	}
	return bound, nil
}
