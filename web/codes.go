package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/beaver-analytics/beaver/cohort/library"
	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/schema/errs"
)

// Code is one dictionary row as the code pickers show it.
type Code struct {
	Code        string  `json:"code"`
	Description string  `json:"description"`
	ValidFrom   *string `json:"valid_from"`
	ValidTo     *string `json:"valid_to"`
	norm        string  // description without accents, lower case
	key         string  // code without dots, lower case
}

// codeSystems maps the API's system names to the dictionary queries. "er"
// diagnoses are ICD-9-CM diagnoses.
var codeSystems = map[string]string{
	"icd9cm_dx":   `SELECT code, description, valid_from::text, valid_to::text FROM dict_icd9cm WHERE kind = 'dx' ORDER BY code`,
	"er":          `SELECT code, description, valid_from::text, valid_to::text FROM dict_icd9cm WHERE kind = 'dx' ORDER BY code`,
	"icd9cm_proc": `SELECT code, description, valid_from::text, valid_to::text FROM dict_icd9cm WHERE kind = 'proc' ORDER BY code`,
	"atc":         `SELECT code, coalesce(name, ''), NULL::text, NULL::text FROM dict_atc ORDER BY code`,
	"exemption":   `SELECT code, description, valid_from::text, valid_to::text FROM dict_exemption ORDER BY code, valid_from, id`,
	"outpatient":  `SELECT code, coalesce(description, ''), valid_from::text, valid_to::text FROM dict_outpatient ORDER BY code, valid_from`,
	"product":     `SELECT aic, coalesce(name, '') || ' (' || atc || ')', valid_from::text, valid_to::text FROM dict_product ORDER BY aic, valid_from`,
}

// codeIndex holds the dictionaries in memory for searching as the user
// types: a scan of the 17,000 ICD-9-CM rows takes well under a millisecond.
// It is reloaded when a new data version is published (dictionaries come
// with imports), checked at most every refreshEvery.
type codeIndex struct {
	pool *pgxpool.Pool

	mu      sync.Mutex
	version int64
	checked time.Time
	systems map[string][]Code
}

const refreshEvery = 10 * time.Second

var unaccent = transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)

// fold returns s without accents, in lower case, so that "CARDIACA",
// "cardìaca" and "cardiaca" match.
func fold(s string) string {
	out, _, err := transform.String(unaccent, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

func (x *codeIndex) load(ctx context.Context, system string) ([]Code, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if time.Since(x.checked) > refreshEvery {
		var v int64
		if err := x.pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM etl_data_version").Scan(&v); err != nil {
			return nil, fmt.Errorf("web: codes: data version: %w", err)
		}
		if v != x.version || x.systems == nil {
			x.systems, x.version = map[string][]Code{}, v
		}
		x.checked = time.Now()
	}
	if list, ok := x.systems[system]; ok {
		return list, nil
	}
	rows, err := x.pool.Query(ctx, codeSystems[system])
	if err != nil {
		return nil, fmt.Errorf("web: codes: load %s: %w", system, err)
	}
	defer rows.Close()
	var list []Code
	for rows.Next() {
		var c Code
		if err := rows.Scan(&c.Code, &c.Description, &c.ValidFrom, &c.ValidTo); err != nil {
			return nil, fmt.Errorf("web: codes: load %s: %w", system, err)
		}
		c.norm = fold(c.Description)
		c.key = strings.ToLower(strings.ReplaceAll(c.Code, ".", ""))
		list = append(list, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("web: codes: load %s: %w", system, err)
	}
	x.systems[system] = list
	return list, nil
}

// search returns the codes whose code starts with q (dots ignored), then
// those whose description holds every word of q, each group by code;
// with a date, only the rows valid on it.
func (x *codeIndex) search(ctx context.Context, system, q, date string, limit int) ([]Code, bool, error) {
	list, err := x.load(ctx, system)
	if err != nil {
		return nil, false, err
	}
	fq := fold(strings.TrimSpace(q))
	key := strings.ReplaceAll(fq, ".", "")
	words := strings.Fields(fq)
	var byCode, byWords []Code
scan:
	for _, c := range list {
		if date != "" && !validOn(c, date) {
			continue
		}
		switch {
		case key != "" && strings.HasPrefix(c.key, key):
			byCode = append(byCode, c)
		case len(words) > 0 && allIn(c.norm, words):
			byWords = append(byWords, c)
		case len(words) == 0:
			byCode = append(byCode, c)
		}
		if len(byCode) > limit {
			break scan
		}
	}
	out := append(byCode, byWords...)
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

func allIn(s string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// validOn: dates are ISO text, so they compare as strings. A row with no
// valid_from is a code never valid in Italy (see 002_flows).
func validOn(c Code, date string) bool {
	if c.ValidFrom == nil {
		return false
	}
	return *c.ValidFrom <= date && (c.ValidTo == nil || date <= *c.ValidTo)
}

func (s *Server) searchCodes(c *echo.Context) error {
	system := c.QueryParam("system")
	if _, ok := codeSystems[system]; !ok {
		names := make([]string, 0, len(codeSystems))
		for k := range codeSystems {
			names = append(names, k)
		}
		slices.Sort(names)
		return fmt.Errorf("%w: system: %q is not one of %s", errs.Invalid, system, strings.Join(names, ", "))
	}
	date := c.QueryParam("date")
	if date != "" {
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			return fmt.Errorf("%w: date: %q is not a date (YYYY-MM-DD)", errs.Invalid, date)
		}
	}
	limit, err := queryInt(c, "limit", 50)
	if err != nil {
		return err
	}
	limit = min(max(limit, 1), 500)
	q := c.QueryParam("q")
	if len(q) > 200 {
		return fmt.Errorf("%w: q: at most 200 characters", errs.Invalid)
	}
	list, more, err := s.codes.search(c.Request().Context(), system, q, date, limit)
	if err != nil {
		return err
	}
	if list == nil {
		list = []Code{}
	}
	return c.JSON(http.StatusOK, map[string]any{"system": system, "codes": list, "more": more})
}

func (s *Server) codeLists(c *echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"codelists": library.All()})
}

// AreaView is an area of interest with its size.
type AreaView struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Persons is null when the area is not materialized yet or its size is
	// below the minimum cell count.
	Persons    *int64 `json:"persons"`
	Suppressed bool   `json:"suppressed,omitempty"`
}

func (s *Server) areas(c *echo.Context) error {
	ctx := c.Request().Context()
	defs, err := etl.Areas()
	if err != nil {
		return err
	}
	st, err := s.accounts.Settings(ctx)
	if err != nil {
		return err
	}
	sizes := map[string]int64{}
	rows, err := s.cfg.Pool.Query(ctx, "SELECT name, persons FROM area")
	if err != nil {
		return fmt.Errorf("web: areas: %w", err)
	}
	for rows.Next() {
		var n string
		var p int64
		if err := rows.Scan(&n, &p); err != nil {
			rows.Close()
			return fmt.Errorf("web: areas: %w", err)
		}
		sizes[n] = p
	}
	rows.Close()
	out := make([]AreaView, len(defs))
	for i, a := range defs {
		out[i] = AreaView{Name: a.Name, Title: a.Title}
		if p, ok := sizes[a.Name]; ok {
			if p < int64(st.MinCount) {
				out[i].Suppressed = true
			} else {
				out[i].Persons = &p
			}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"areas": out, "min_count": st.MinCount})
}
