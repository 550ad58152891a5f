// Package report will render a study's results document to HTML (a pure
// function, golden-tested) and to PDF through headless Chromium (chromedp).
// It holds no code yet: it arrives with the reports issue. It may import
// stats and schema, never web or engine.
package report
