package web

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/beaver-analytics/beaver/schema/errs"
)

//go:embed static
var staticFS embed.FS

// asset is an embedded static file served under a URL that carries its
// content hash, so that it can be cached for a year.
type asset struct {
	body  []byte
	ctype string
}

var (
	assets    = map[string]asset{}  // by hashed path: app.3f2a….css, vendor/preact.1a2b….js
	assetURLs = map[string]string{} // plain path → /static/hashed path
	indexPage []byte
	// importMapHash is the CSP source of the page's one inline script, its
	// import map (sha256-…): no other inline script may run.
	importMapHash string
)

func init() {
	err := fs.WalkDir(staticFS, "static", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		if name == "index.html" {
			return nil
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		ctype := mime.TypeByExtension(ext)
		switch ext {
		case ".js", ".mjs":
			ctype = "text/javascript; charset=utf-8"
		case ".svg":
			ctype = "image/svg+xml"
		}
		assets[hashed] = asset{body: b, ctype: ctype}
		assetURLs[name] = "/static/" + hashed
		return nil
	})
	if err != nil {
		panic("web: read embedded static files: " + err.Error())
	}
	// Modules import each other by their plain paths ("./editor.js"); the
	// import map sends each to its hashed URL, so every asset is cached for
	// good and a new build is fetched anew.
	imports := map[string]string{}
	for name, url := range assetURLs {
		if strings.HasSuffix(name, ".js") || strings.HasSuffix(name, ".mjs") {
			imports["/static/"+name] = url
		}
	}
	im, err := json.Marshal(map[string]any{"imports": imports})
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(im)
	importMapHash = "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	page, err := staticFS.ReadFile("static/index.html")
	if err != nil {
		panic("web: read embedded index.html: " + err.Error())
	}
	s := strings.ReplaceAll(string(page), "{{importmap}}", `<script type="importmap">`+string(im)+`</script>`)
	for name, url := range assetURLs {
		s = strings.ReplaceAll(s, "{{"+name+"}}", url)
	}
	if strings.Contains(s, "{{") {
		panic("web: index.html names an asset that does not exist")
	}
	indexPage = []byte(s)
}

func (s *Server) index(c *echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.HTMLBlob(http.StatusOK, indexPage)
}

func (s *Server) static(c *echo.Context) error {
	a, ok := assets[strings.TrimPrefix(c.Request().URL.Path, "/static/")]
	if !ok {
		return fmt.Errorf("%w: no such file", errs.NotFound)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, a.ctype, a.body)
}
