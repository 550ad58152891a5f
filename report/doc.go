// Package report renders a study's results as a paper-like report: HTML
// (RenderHTML, a pure function over a Report of plain values, golden-tested
// in English and Italian) and PDF (Renderer: one warm headless Chromium
// driven by chromedp). Its sub-packages: report/chart draws the SVG charts
// (Kaplan-Meier, forest, attrition, bars and lines, the study design
// diagram) shared by the web pages and the PDF; report/format writes every
// number and label. It may import cohort and stats, never web or engine.
// docs/reports.md describes the decisions.
package report
