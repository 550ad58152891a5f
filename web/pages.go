package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
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
	assets    = map[string]asset{}  // by hashed name: app.3f2a….css
	assetURLs = map[string]string{} // plain name → /static/hashed name
	indexPage []byte
)

func init() {
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		panic("web: read embedded static files: " + err.Error())
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || name == "index.html" {
			continue
		}
		b, err := staticFS.ReadFile("static/" + name)
		if err != nil {
			panic("web: read embedded " + name + ": " + err.Error())
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		ctype := mime.TypeByExtension(ext)
		if ext == ".js" {
			ctype = "text/javascript; charset=utf-8"
		}
		assets[hashed] = asset{body: b, ctype: ctype}
		assetURLs[name] = "/static/" + hashed
	}
	page, err := staticFS.ReadFile("static/index.html")
	if err != nil {
		panic("web: read embedded index.html: " + err.Error())
	}
	s := string(page)
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
	a, ok := assets[c.Param("file")]
	if !ok {
		return fmt.Errorf("%w: no such file", errs.NotFound)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, a.ctype, a.body)
}
