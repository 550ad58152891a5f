package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/beaver-analytics/beaver/report/format"
)

// ErrNoChromium is returned (wrapped) when no Chromium binary is found.
var ErrNoChromium = errors.New(`report: pdf: Chromium not found: install the Debian package "chromium" (and "fonts-dejavu-core"), or give its path`)

// chromiumPaths are looked for in order: Debian's real binary (the one in
// /usr/bin is a wrapper script), then names on PATH.
var chromiumPaths = []string{"/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome"}

// FindChromium returns the path of the Chromium binary, or an error that
// wraps ErrNoChromium.
func FindChromium() (string, error) {
	for _, p := range chromiumPaths {
		if filepath.IsAbs(p) {
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p, nil
			}
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%w (looked for %s)", ErrNoChromium, strings.Join(chromiumPaths, ", "))
}

// RendererConfig configures a Renderer. DataDir is required; nil or zero
// fields take the defaults of WithDefaults.
type RendererConfig struct {
	// ChromiumPath is the browser binary; empty: FindChromium.
	ChromiumPath string
	// DataDir holds the browser's profile, HOME, XDG directories and
	// TMPDIR (DataDir/chromium) and the PDF cache (DataDir/pdf-cache).
	DataDir string
	// MaxTabs is how many reports print at once; more wait in a queue.
	// Default 4.
	MaxTabs int
	// Timeout is the longest one report may take, queueing excluded.
	// Default 30 s.
	Timeout time.Duration
	// RecycleAfter restarts the browser after this many reports, which
	// bounds its memory. Default 200.
	RecycleAfter int
	// CacheFiles is how many PDFs the cache keeps (oldest dropped first);
	// default 500, negative: no cache.
	CacheFiles int
	// SoftwareVersion is part of every cache key.
	SoftwareVersion string
	// Logger receives restarts and failures; default slog.Default().
	Logger *slog.Logger
}

// WithDefaults returns c with empty fields set to their defaults.
func (c RendererConfig) WithDefaults() RendererConfig {
	if c.MaxTabs <= 0 {
		c.MaxTabs = 4
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.RecycleAfter <= 0 {
		c.RecycleAfter = 200
	}
	if c.CacheFiles == 0 {
		c.CacheFiles = 500
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// PDFOptions are the options of one report's PDF.
type PDFOptions struct {
	Lang  format.Lang
	Title string // the running header (the study's name)
	// Timeout, when positive, replaces RendererConfig.Timeout for this
	// report.
	Timeout time.Duration
	// Key, when set, caches the PDF under (content hash, language,
	// minimum cell count, software version); a later call with the same
	// key returns the cached bytes without printing.
	Key *CacheKey
}

// CacheKey identifies a PDF in the cache: the results document's hash,
// the language, the suppression setting. The Renderer adds its software
// version.
type CacheKey struct {
	ContentHash string
	Lang        format.Lang
	MinCount    int
}

// Renderer prints HTML reports to PDF with one warm headless Chromium:
// a bounded number of tabs at once (a queue beyond), a timeout per report,
// a crashed or hung browser restarted, a cache of finished PDFs. It is
// safe for concurrent use.
type Renderer struct {
	cfg  RendererConfig
	sem  chan struct{}
	dirs chromiumDirs

	mu      sync.Mutex
	closed  bool
	browser *browserProc // nil until started, or after a failure
	gen     int          // browser generations started
	cacheMu sync.Mutex
}

type chromiumDirs struct{ root, home, tmp, cache string }

type browserProc struct {
	ctx     context.Context // a chromedp context whose browser is running
	cancel  func()
	reports int // printed so far
	users   int // reports in flight
	retired bool
}

// NewRenderer checks the configuration, finds Chromium and starts it, so
// that the first report finds it warm.
func NewRenderer(cfg RendererConfig) (*Renderer, error) {
	cfg = cfg.WithDefaults()
	if cfg.DataDir == "" {
		return nil, errors.New("report: pdf: RendererConfig.DataDir is required")
	}
	if cfg.ChromiumPath == "" {
		p, err := FindChromium()
		if err != nil {
			return nil, err
		}
		cfg.ChromiumPath = p
	} else if _, err := os.Stat(cfg.ChromiumPath); err != nil {
		return nil, fmt.Errorf("%w (%s: %v)", ErrNoChromium, cfg.ChromiumPath, err)
	}
	root := filepath.Join(cfg.DataDir, "chromium")
	d := chromiumDirs{root: root, home: filepath.Join(root, "home"), tmp: filepath.Join(root, "tmp"), cache: filepath.Join(cfg.DataDir, "pdf-cache")}
	for _, dir := range []string{d.home, d.tmp, d.cache} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("report: pdf: %w", err)
		}
	}
	r := &Renderer{cfg: cfg, sem: make(chan struct{}, cfg.MaxTabs), dirs: d}
	if _, err := r.acquireBrowser(); err != nil {
		return nil, err
	}
	r.releaseBrowser(r.browser, false)
	return r, nil
}

// ErrClosed is returned by PDF after Close (cached PDFs are still served).
var ErrClosed = errors.New("report: pdf: the renderer is closed")

// Close stops the browser. Reports in flight fail; later ones return
// ErrClosed unless cached.
func (r *Renderer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.browser != nil {
		r.browser.cancel()
		r.browser = nil
	}
	return nil
}

// start launches a browser with a fresh profile.
func (r *Renderer) start() (*browserProc, error) {
	r.gen++
	profile := filepath.Join(r.dirs.root, "profile-"+strconv.Itoa(r.gen))
	if r.gen == 1 {
		// profiles left by an earlier process are of dead browsers
		old, _ := filepath.Glob(filepath.Join(r.dirs.root, "profile-*"))
		for _, o := range old {
			os.RemoveAll(o)
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(r.cfg.ChromiumPath),
		chromedp.UserDataDir(profile),
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"), // no network at all
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.Env("HOME="+r.dirs.home, "TMPDIR="+r.dirs.tmp,
			"XDG_CONFIG_HOME="+filepath.Join(r.dirs.home, ".config"),
			"XDG_CACHE_HOME="+filepath.Join(r.dirs.home, ".cache"),
			"XDG_DATA_HOME="+filepath.Join(r.dirs.home, ".local", "share")),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses root with its sandbox
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	// stopping the browser also removes its profile (a retired browser
	// keeps its own until its last report ends)
	cancel := func() {
		cancelCtx()
		cancelAlloc()
		if c := chromedp.FromContext(ctx); c != nil {
			if ea, ok := c.Allocator.(*chromedp.ExecAllocator); ok {
				go func() { ea.Wait(); os.RemoveAll(profile) }() // once the process is gone
				return
			}
		}
		os.RemoveAll(profile)
	}
	startCtx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- chromedp.Do(ctx) }() // starts the browser (no timeout on ctx itself)
	select {
	case err := <-errc:
		if err != nil {
			cancel()
			return nil, fmt.Errorf("report: pdf: start %s: %w", r.cfg.ChromiumPath, err)
		}
	case <-startCtx.Done():
		cancel()
		return nil, fmt.Errorf("report: pdf: start %s: no answer in 30 s", r.cfg.ChromiumPath)
	}
	return &browserProc{ctx: ctx, cancel: cancel}, nil
}

// acquireBrowser returns the running browser, starting one when there is
// none, the last one died, or it printed RecycleAfter reports.
func (r *Renderer) acquireBrowser() (*browserProc, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	b := r.browser
	if b != nil && (b.ctx.Err() != nil || b.reports >= r.cfg.RecycleAfter) {
		r.retire(b)
		b = nil
	}
	if b == nil {
		nb, err := r.start()
		if err != nil {
			return nil, err
		}
		r.browser, b = nb, nb
	}
	b.users++
	b.reports++
	return b, nil
}

// retire takes b out of service; it is stopped when its last report ends.
// r.mu is held.
func (r *Renderer) retire(b *browserProc) {
	if r.browser == b {
		r.browser = nil
	}
	b.retired = true
	if b.users == 0 {
		b.cancel()
	}
}

// releaseBrowser ends a report on b; broken retires it (a crash, or a
// hang the health check confirmed).
func (r *Renderer) releaseBrowser(b *browserProc, broken bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b.users--
	if broken && !b.retired {
		r.cfg.Logger.Warn("report: restarting Chromium", "generation", r.gen)
		r.retire(b)
	}
	if b.retired && b.users == 0 {
		b.cancel()
	}
}

// PDF prints an HTML document to an A4 PDF with a running header (the
// title) and "page X of Y" footers. It waits for a free tab (or ctx's
// end), gives the report Config.Timeout, and returns an error rather than
// an empty or partial file. With opts.Key the result is cached.
func (r *Renderer) PDF(ctx context.Context, htmlDoc []byte, opts PDFOptions) ([]byte, error) {
	var cachePath string
	if opts.Key != nil && r.cfg.CacheFiles > 0 {
		cachePath = r.cachePath(*opts.Key)
		if b, ok := r.cached(*opts.Key); ok {
			return b, nil
		}
	}
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("report: pdf: waiting for a free tab: %w", ctx.Err())
	}
	defer func() { <-r.sem }()

	var out []byte
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var b *browserProc
		b, err = r.acquireBrowser()
		if err != nil {
			return nil, err
		}
		out, err = r.print(ctx, b, htmlDoc, opts)
		broken := false
		if err != nil && ctx.Err() == nil {
			// the browser died, or the page hung: is the browser still sound?
			broken = b.ctx.Err() != nil || r.probe(b) != nil
		}
		r.releaseBrowser(b, broken)
		// a browser that died under a report is replaced and the report
		// tried once more; a report that timed out is not (it would again)
		if err == nil || !broken || errors.Is(err, context.DeadlineExceeded) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if cachePath != "" {
		r.cacheStore(cachePath, out)
	}
	return out, nil
}

// print renders htmlDoc in a new tab of b.
func (r *Renderer) print(ctx context.Context, b *browserProc, htmlDoc []byte, opts PDFOptions) ([]byte, error) {
	timeout := r.cfg.Timeout
	if opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	tctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel) // the caller's cancellation too
	defer stop()
	tab, closeTab := chromedp.NewContext(tctx)
	defer closeTab()

	type result struct {
		pdf []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		pdf, err := chromedp.Run(tab, printAction(htmlDoc, opts))
		done <- result{pdf, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-tctx.Done():
		// a hung renderer may not even answer the cancellation
		res.err = tctx.Err()
	}
	if res.err != nil {
		if errors.Is(res.err, context.DeadlineExceeded) || errors.Is(tctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("report: pdf: the report took longer than %s: %w", timeout, context.DeadlineExceeded)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("report: pdf: %w", ctx.Err())
		}
		return nil, fmt.Errorf("report: pdf: %w", res.err)
	}
	if err := checkPDF(res.pdf); err != nil {
		return nil, fmt.Errorf("report: pdf: %w", err)
	}
	return res.pdf, nil
}

// printAction loads the document and prints it.
func printAction(htmlDoc []byte, opts PDFOptions) chromedp.Action[[]byte] {
	return func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		tree, err := cdp.Call(ctx, t, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return nil, fmt.Errorf("frame tree: %w", err)
		}
		if tree.FrameTree == nil || tree.FrameTree.Frame == nil {
			return nil, errors.New("the tab has no frame")
		}
		if _, err := cdp.Call(ctx, t, page.SetDocumentContent, page.SetDocumentContentParams{FrameID: tree.FrameTree.Frame.ID, HTML: string(htmlDoc)}); err != nil {
			return nil, fmt.Errorf("load the document: %w", err)
		}
		// fonts loaded and laid out; a document without text is refused
		n, err := chromedp.Evaluate[int](`document.fonts.ready.then(() => document.body ? document.body.innerText.trim().length : 0)`, chromedp.EvalAwaitPromise)(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("wait for the fonts: %w", err)
		}
		if n == 0 {
			return nil, errors.New("the document has no text: refusing to print a blank PDF")
		}
		return chromedp.PrintToPDF(
			chromedp.PDFPaper(chromedp.PaperA4),
			chromedp.PDFMargins(0.8, 0.6, 0.8, 0.6), // inches: top, right, bottom, left
			chromedp.PDFPrintBackground(),
			chromedp.PDFHeaderTemplate(headerTemplate(opts.Title)),
			chromedp.PDFFooterTemplate(footerTemplate(opts.Lang)),
		)(ctx, t)
	}
}

const marginStyle = `font-family:'DejaVu Sans',sans-serif;font-size:7.5pt;color:#555;width:100%;margin:0 0.6in;`

func headerTemplate(title string) string {
	return `<div style="` + marginStyle + `border-bottom:0.5pt solid #999;padding-bottom:2pt;white-space:nowrap;overflow:hidden;text-overflow:ellipsis">` + html.EscapeString(title) + `</div>`
}

func footerTemplate(lang format.Lang) string {
	pageOf := fmt.Sprintf(lang.T("page_of"), `<span class="pageNumber"></span>`, `<span class="totalPages"></span>`)
	return `<div style="` + marginStyle + `text-align:center">` + pageOf + `</div>`
}

// checkPDF refuses what is not a whole PDF with at least one page.
func checkPDF(b []byte) error {
	switch {
	case !bytes.HasPrefix(b, []byte("%PDF-")):
		return errors.New("the browser returned no PDF")
	case !bytes.Contains(b[max(0, len(b)-1024):], []byte("%%EOF")):
		return errors.New("the PDF is cut short (no %%EOF)")
	case pageCount(b) == 0:
		return errors.New("the PDF has no page")
	}
	return nil
}

// pageCount counts the page objects ("/Type /Page", not "/Pages").
func pageCount(b []byte) int {
	n := 0
	for _, pat := range [][]byte{[]byte("/Type /Page"), []byte("/Type/Page")} {
		for i := 0; ; {
			j := bytes.Index(b[i:], pat)
			if j < 0 {
				break
			}
			i += j + len(pat)
			if i >= len(b) || b[i] != 's' {
				n++
			}
		}
	}
	return n
}

// probe checks that the browser still opens a tab and runs a script.
func (r *Renderer) probe(b *browserProc) error {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	tab, closeTab := chromedp.NewContext(ctx)
	defer closeTab()
	done := make(chan error, 1)
	go func() {
		v, err := chromedp.Run(tab, chromedp.Evaluate[int](`1 + 1`))
		if err == nil && v != 2 {
			err = fmt.Errorf("1 + 1 = %d", v)
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cached returns the cached PDF of k, if any (and marks it used).
func (r *Renderer) cached(k CacheKey) ([]byte, bool) {
	if r.cfg.CacheFiles <= 0 {
		return nil, false
	}
	path := r.cachePath(k)
	b, err := os.ReadFile(path)
	if err != nil || checkPDF(b) != nil {
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(path, now, now) // most recently used
	return b, true
}

func (r *Renderer) cachePath(k CacheKey) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%s", k.ContentHash, k.Lang, k.MinCount, r.cfg.SoftwareVersion)
	return filepath.Join(r.dirs.cache, hex.EncodeToString(h.Sum(nil))+".pdf")
}

// cacheStore writes the PDF atomically and drops the least recently used
// files beyond CacheFiles. Failures only cost a later print.
func (r *Renderer) cacheStore(path string, b []byte) {
	r.cacheMu.Lock()
	defer r.cacheMu.Unlock()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		r.cfg.Logger.Warn("report: pdf cache", "err", err)
		return
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return
	}
	files, _ := filepath.Glob(filepath.Join(r.dirs.cache, "*.pdf"))
	if len(files) <= r.cfg.CacheFiles {
		return
	}
	type fi struct {
		path string
		mod  time.Time
	}
	var all []fi
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			all = append(all, fi{f, st.ModTime()})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mod.Before(all[j].mod) })
	for _, f := range all[:max(0, len(all)-r.cfg.CacheFiles)] {
		os.Remove(f.path)
	}
}
