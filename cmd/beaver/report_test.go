package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/report"
	"github.com/beaver-analytics/beaver/report/format"
	"github.com/beaver-analytics/beaver/report/results"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// TestStudyReport: `beaver study report` writes the HTML and the PDF
// report of a run on a small synthetic region, in both languages; the
// adjusted HR of the document is in both, as formatted; the protocol is
// the run's own (its methods text is in the report).
func TestStudyReport(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	out, code := runBeaver(t, "", "synth", "--persons", "300", "--years", "8", "--seed", "4", "--load", "--database-url", url)
	require.Equal(t, 0, code, out)
	const example = "../../docs/examples/comparator-new-users.json"
	out, code = runBeaver(t, "", "study", "run", example, "--wait", "--json", "--database-url", url)
	require.Equal(t, 0, code, out)
	doc, err := results.Decode([]byte(out[strings.Index(out, "{\n"):]))
	require.NoError(t, err)
	dir := t.TempDir()

	for _, lang := range []format.Lang{format.EN, format.IT} {
		html := filepath.Join(dir, "report_"+string(lang)+".html")
		out, code = runBeaver(t, "", "study", "report", "1", "--html", html, "--lang", string(lang), "--database-url", url)
		require.Equal(t, 0, code, out)
		page, err := os.ReadFile(html)
		require.NoError(t, err)
		require.Contains(t, string(page), doc.ProtocolHash)
		if cox, ok := doc.Analyses["adjusted"].Result.(*results.Cox); ok && cox.CoxResult != nil {
			c := cox.Coefficients[0]
			require.Contains(t, string(page), format.RatioCI(lang, float64(c.HR), float64(c.HRLower), float64(c.HRUpper)))
		}
	}

	out, code = runBeaver(t, "", "study", "report", "1", "--database-url", url)
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "--pdf FILE or --html FILE")

	_, err = report.FindChromium()
	require.NoError(t, err, "make test installs Debian's chromium")
	pdf := filepath.Join(dir, "report.pdf")
	out, code = runBeaver(t, "", "study", "report", "1", "--pdf", pdf, "--lang", "it", "--data-dir", filepath.Join(dir, "data"), "--database-url", url)
	require.Equal(t, 0, code, out)
	b, err := os.ReadFile(pdf)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(b), "%PDF-"))
	text, err := exec.Command("pdftotext", pdf, "-").Output()
	require.NoError(t, err, "make test installs poppler-utils")
	require.Contains(t, string(text), "Pagina 1 di")
	require.Contains(t, string(text), "New users of ACE inhibitors")
}
