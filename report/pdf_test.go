package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/report/chart"
	"github.com/beaver-analytics/beaver/report/format"
)

// artefactDir is where tests leave PDFs and PNGs for a reader to look
// at: $BEAVER_ARTEFACTS/report, else a directory under the temp dir. It
// is printed and kept.
func artefactDir(t testing.TB) string {
	t.Helper()
	base := os.Getenv("BEAVER_ARTEFACTS")
	if base == "" {
		base = filepath.Join(os.TempDir(), "beaver-artefacts")
	}
	dir := filepath.Join(base, "report")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// newTestRenderer starts a renderer on Debian's Chromium, or skips the
// test saying what to install.
func newTestRenderer(t testing.TB, cfg RendererConfig) *Renderer {
	t.Helper()
	if _, err := FindChromium(); err != nil {
		t.Fatalf("%v (make test installs it)", err)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	r, err := NewRenderer(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

// sampleHTML is a small report: a title, a table with a suppressed cell,
// a chart, many rows so that it runs over two pages.
func sampleHTML(t testing.TB, title string) []byte {
	t.Helper()
	km, err := chart.Forest([]chart.ForestRow{{Label: "exposure=A", Estimate: 1.4871, Lower: 1.1802, Upper: 1.8738}}, chart.ForestOptions{})
	require.NoError(t, err)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>%s</title><style>%s</style></head><body><h1>%s</h1>`, title, printCSS, title)
	b.WriteString(`<h2>Model</h2><table><tr><th>term</th><th>HR (95% CI)</th><th>events</th></tr>`)
	b.WriteString(`<tr><td>exposure=A</td><td>` + format.RatioCI(format.EN, 1.4871, 1.1802, 1.8738) + `</td><td>&lt;5</td></tr></table>`)
	b.WriteString(`<figure>`)
	b.Write(km)
	b.WriteString(`</figure><h2>Rows</h2><table>`)
	for i := range 80 {
		fmt.Fprintf(&b, "<tr><td>row %d</td><td>%s</td></tr>", i, format.Int(format.EN, 1000*i))
	}
	b.WriteString("</table></body></html>")
	return b.Bytes()
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %v: %s", name, args, out)
	return string(out)
}

func TestPDF(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, RendererConfig{})
	pdf, err := r.PDF(context.Background(), sampleHTML(t, "Comparator study &amp; co"), PDFOptions{Title: "comparator-new-users"})
	require.NoError(t, err)
	require.NoError(t, checkPDF(pdf))

	dir := artefactDir(t)
	path := filepath.Join(dir, "sample.pdf")
	require.NoError(t, os.WriteFile(path, pdf, 0o644))
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("poppler-utils (pdftotext, pdfinfo, pdftoppm) not installed: make test installs it")
	}
	info := run(t, "pdfinfo", path)
	require.Regexp(t, `Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)`, info)
	m := regexp.MustCompile(`Pages:\s+(\d+)`).FindStringSubmatch(info)
	require.NotNil(t, m)
	require.NotEqual(t, "1", m[1], "80 rows take more than a page")
	text := run(t, "pdftotext", "-layout", path, "-")
	for _, want := range []string{"Comparator study & co", "1.49 (1.18–1.87)", "<5", "Page 1 of " + m[1], "Page " + m[1] + " of " + m[1], "comparator-new-users", "row 79"} {
		require.Contains(t, text, want)
	}
	run(t, "pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", path, filepath.Join(dir, "sample"))
	t.Logf("artefacts (PDF, page 1 as PNG) in %s", dir)
}

func TestPDFItalianFooter(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, RendererConfig{})
	pdf, err := r.PDF(context.Background(), sampleHTML(t, "Studio"), PDFOptions{Title: "studio", Lang: format.IT})
	require.NoError(t, err)
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("poppler-utils (pdftotext, pdfinfo, pdftoppm) not installed: make test installs it")
	}
	path := filepath.Join(t.TempDir(), "it.pdf")
	require.NoError(t, os.WriteFile(path, pdf, 0o644))
	require.Contains(t, run(t, "pdftotext", path, "-"), "Pagina 1 di ")
}

// TestPDFHungPage: a page whose script never returns times out with an
// error, and the next report on the same renderer still prints.
func TestPDFHungPage(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, RendererConfig{MaxTabs: 1})
	hung := []byte(`<!DOCTYPE html><html><body><p>x</p><script>for(;;){}</script></body></html>`)
	_, err := r.PDF(context.Background(), hung, PDFOptions{Timeout: 3 * time.Second})
	require.Error(t, err)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Contains(t, err.Error(), "took longer than 3s")

	pdf, err := r.PDF(context.Background(), sampleHTML(t, "after the hang"), PDFOptions{})
	require.NoError(t, err)
	require.NoError(t, checkPDF(pdf))
}

func TestPDFBlankRefused(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, RendererConfig{})
	_, err := r.PDF(context.Background(), []byte(`<!DOCTYPE html><html><body>   </body></html>`), PDFOptions{})
	require.ErrorContains(t, err, "blank")
}

// TestPDFCrashRestart kills the browser between reports: the next report
// is printed by a new one.
func TestPDFCrashRestart(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, RendererConfig{})
	r.mu.Lock()
	b := r.browser
	r.mu.Unlock()
	require.NotNil(t, b)
	proc := chromedp.FromContext(b.ctx).Browser.Process()
	require.NotNil(t, proc)
	require.NoError(t, proc.Kill())
	_, _ = proc.Wait()

	pdf, err := r.PDF(context.Background(), sampleHTML(t, "after the crash"), PDFOptions{})
	require.NoError(t, err)
	require.NoError(t, checkPDF(pdf))
	r.mu.Lock()
	require.NotSame(t, b, r.browser, "a new browser")
	r.mu.Unlock()
}

// TestPDFCache: a keyed PDF is kept, and found again even with the
// browser closed; a different language is another entry.
func TestPDFCache(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, RendererConfig{SoftwareVersion: "test"})
	key := &CacheKey{ContentHash: "abc", Lang: format.EN, MinCount: 5}
	first, err := r.PDF(context.Background(), sampleHTML(t, "cached"), PDFOptions{Key: key})
	require.NoError(t, err)
	require.FileExists(t, r.cachePath(*key))
	require.NoError(t, r.Close())
	again, err := r.PDF(context.Background(), []byte("not even HTML"), PDFOptions{Key: key})
	require.NoError(t, err)
	require.Equal(t, first, again)
	_, err = r.PDF(context.Background(), sampleHTML(t, "closed"), PDFOptions{})
	require.ErrorIs(t, err, ErrClosed)
	require.NotEqual(t, r.cachePath(*key), r.cachePath(CacheKey{ContentHash: "abc", Lang: format.IT, MinCount: 5}))
	require.NotEqual(t, r.cachePath(*key), r.cachePath(CacheKey{ContentHash: "abc", Lang: format.EN, MinCount: 10}))
}

// TestPDFParallel prints 20 reports at once through 4 tabs.
func TestPDFParallel(t *testing.T) {
	if testing.Short() {
		t.Skip("20 PDFs")
	}
	t.Parallel()
	r := newTestRenderer(t, RendererConfig{MaxTabs: 4, Timeout: 60 * time.Second})
	doc := sampleHTML(t, "parallel")
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			pdf, err := r.PDF(context.Background(), doc, PDFOptions{Title: fmt.Sprint(i)})
			if err == nil {
				err = checkPDF(pdf)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
}

func TestFindChromiumError(t *testing.T) {
	t.Parallel()
	_, err := NewRenderer(RendererConfig{DataDir: t.TempDir(), ChromiumPath: "/nonexistent/chromium"})
	require.ErrorIs(t, err, ErrNoChromium)
	require.Contains(t, err.Error(), `Debian package "chromium"`)
	_, err = NewRenderer(RendererConfig{})
	require.ErrorContains(t, err, "DataDir is required")
}

func TestCheckPDF(t *testing.T) {
	t.Parallel()
	require.ErrorContains(t, checkPDF(nil), "no PDF")
	require.ErrorContains(t, checkPDF([]byte("%PDF-1.4\n1 0 obj << /Type /Pages >>")), "cut short")
	require.ErrorContains(t, checkPDF([]byte("%PDF-1.4\n1 0 obj << /Type /Pages >>\n%%EOF")), "no page")
	require.NoError(t, checkPDF([]byte("%PDF-1.4\n1 0 obj << /Type /Page >>\n%%EOF")))
	require.Equal(t, 2, pageCount([]byte("/Type /Pages /Type /Page /Type/Page")))
}

// BenchmarkPDFWarm prints the sample report with a warm browser.
func BenchmarkPDFWarm(b *testing.B) {
	r := newTestRenderer(b, RendererConfig{})
	doc := sampleHTML(b, "bench")
	for b.Loop() {
		if _, err := r.PDF(context.Background(), doc, PDFOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPDFCold starts a browser for each report (NewRenderer
// included).
func BenchmarkPDFCold(b *testing.B) {
	if _, err := FindChromium(); err != nil {
		b.Fatal(err)
	}
	doc := sampleHTML(b, "bench")
	for b.Loop() {
		r, err := NewRenderer(RendererConfig{DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.PDF(context.Background(), doc, PDFOptions{}); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}

// BenchmarkPDFParallel20 prints 20 comparator reports at once (4 tabs)
// and reports the browser's largest memory (all its processes, their
// proportional set sizes summed: shared pages divided among them).
func BenchmarkPDFParallel20(b *testing.B) {
	r := newTestRenderer(b, RendererConfig{MaxTabs: 4, Timeout: 60 * time.Second})
	doc, err := RenderHTML(fixtureReport(b, format.EN), HTMLOptions{})
	require.NoError(b, err)
	peak := 0.0
	for b.Loop() {
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if _, err := r.PDF(context.Background(), doc, PDFOptions{}); err != nil {
					b.Error(err)
				}
			})
		}
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				peak = max(peak, browserRSSMB(r))
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}()
		wg.Wait()
		close(stop)
		<-done
	}
	b.ReportMetric(peak, "browser-MB")
}

// BenchmarkReportPDFWarm prints the comparator fixture report (ten pages,
// six charts) with a warm browser.
func BenchmarkReportPDFWarm(b *testing.B) {
	r := newTestRenderer(b, RendererConfig{})
	doc, err := RenderHTML(fixtureReport(b, format.EN), HTMLOptions{})
	require.NoError(b, err)
	for b.Loop() {
		if _, err := r.PDF(context.Background(), doc, PDFOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// browserRSSMB sums the PSS (smaps_rollup) of the renderer's browser and
// its descendants, in MB.
func browserRSSMB(r *Renderer) float64 {
	r.mu.Lock()
	b := r.browser
	r.mu.Unlock()
	if b == nil {
		return 0
	}
	c := chromedp.FromContext(b.ctx)
	if c == nil || c.Browser == nil || c.Browser.Process() == nil {
		return 0
	}
	root := c.Browser.Process().Pid
	parent := map[int]int{}
	rss := map[int]float64{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		sm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "smaps_rollup"))
		for _, line := range strings.Split(string(st)+string(sm), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "PPid:" {
				parent[pid], _ = strconv.Atoi(f[1])
			}
			if len(f) >= 2 && f[0] == "Pss:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				rss[pid] = kb / 1024
			}
		}
	}
	total := 0.0
	for pid, mb := range rss {
		for p := pid; p > 1; p = parent[p] {
			if p == root {
				total += mb
				break
			}
		}
	}
	return total
}

// TestReportPDF prints the fixture report (html_test.go) in both
// languages: the title, the adjusted hazard ratio and its interval exactly
// as the HTML writes them, "<5" for a suppressed count; pages as PNG
// artefacts.
func TestReportPDF(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, RendererConfig{})
	dir := artefactDir(t)
	for _, lang := range []format.Lang{format.EN, format.IT} {
		rep := fixtureReport(t, lang)
		// a count below the minimum that the document did not null
		rep.Attrition = append(rep.Attrition, AttritionRow{Label: "tiny step", Persons: n64(4), Entries: n64(4)})
		doc, err := RenderHTML(rep, HTMLOptions{Lang: lang})
		require.NoError(t, err)
		pdf, err := r.PDF(context.Background(), doc, PDFOptions{Lang: lang, Title: rep.Title})
		require.NoError(t, err)
		path := filepath.Join(dir, "comparator_"+string(lang)+".pdf")
		require.NoError(t, os.WriteFile(path, pdf, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "comparator_"+string(lang)+".html"), doc, 0o644))
		if _, err := exec.LookPath("pdftotext"); err != nil {
			t.Fatal("poppler-utils (pdftotext, pdfinfo, pdftoppm) not installed: make test installs it")
		}
		text := run(t, "pdftotext", path, "-")
		hr := format.RatioCI(lang, 1.4871, 1.1802, 1.8738)
		require.Contains(t, string(doc), hr)
		require.Contains(t, text, hr)
		require.Contains(t, text, "<5")
		require.Contains(t, text, "New users of ACE inhibitors")
		layout := run(t, "pdftotext", "-layout", path, "-")
		require.Regexp(t, `tiny step\s+<5\s+<5`, layout, "the small count shows as <5")
		require.NotRegexp(t, `tiny step\s+4`, layout, "and never as itself")
		run(t, "pdftoppm", "-png", "-r", "70", path, filepath.Join(dir, "comparator_"+string(lang)))
	}
	t.Logf("artefacts (PDF, HTML, every page as PNG) in %s", dir)
}
