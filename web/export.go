package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"
	"github.com/xuri/excelize/v2"
)

// table is one table of a results document, as exported.
type table struct {
	Name    string
	Columns []string
	text    [][]string // empty cells are null (suppressed, not computed)
}

// documentTables flattens a results document into its tables: every
// array of objects is a table named by its JSON path (its rows' scalar
// members are the columns; an array inside a row becomes a table of its
// own whose rows carry the parent row's label), and every object's scalar
// members form a two-column table (field, value). The profile (timings)
// is left out. The order is the document's (keys sorted), so exports are
// deterministic.
func documentTables(doc []byte) ([]*table, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("web: export: decode results: %w", err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("web: export: results are not a JSON object")
	}
	delete(root, "profile")
	var out []*table
	byName := map[string]*table{}
	var walk func(path string, v any, parent string)
	addRow := func(name string, row map[string]any, parent string) {
		t := byName[name]
		if t == nil {
			t = &table{Name: name}
			if parent != "" {
				t.Columns = []string{"of"}
			}
			byName[name] = t
			out = append(out, t)
		}
		for _, k := range sortedKeys(row) {
			if isScalar(row[k]) && !slices.Contains(t.Columns, k) {
				t.Columns = append(t.Columns, k)
			}
		}
		cells := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			if c == "of" && parent != "" {
				cells[i] = parent
				continue
			}
			cells[i] = scalarText(row[c])
		}
		t.text = append(t.text, cells)
	}
	walk = func(path string, v any, parent string) {
		switch x := v.(type) {
		case map[string]any:
			scalars := map[string]any{}
			for _, k := range sortedKeys(x) {
				if isScalar(x[k]) {
					scalars[k] = x[k]
				}
			}
			if len(scalars) > 0 {
				for _, k := range sortedKeys(scalars) {
					addRow(path, map[string]any{"field": k, "value": scalars[k]}, parent)
				}
			}
			for _, k := range sortedKeys(x) {
				if !isScalar(x[k]) {
					walk(join(path, k), x[k], parent)
				}
			}
		case []any:
			for i, e := range x {
				row, ok := e.(map[string]any)
				if !ok {
					if isScalar(e) {
						addRow(path, map[string]any{"value": e}, parent)
					}
					continue
				}
				addRow(path, row, parent)
				label := rowLabel(row, i)
				if parent != "" {
					label = parent + " / " + label
				}
				for _, k := range sortedKeys(row) {
					if !isScalar(row[k]) && !notExported[k] {
						walk(join(path, k), row[k], label)
					}
				}
			}
		}
	}
	walk("", root, "")
	for _, t := range out {
		if t.Name == "" {
			t.Name = "document"
		}
		// Rows written before a later row added a column get empty cells.
		for i, r := range t.text {
			for len(r) < len(t.Columns) {
				r = append(r, "")
			}
			t.text[i] = r
		}
	}
	return out, nil
}

// notExported names the members of a row the exports leave out: an
// attrition line's args are its label's arguments for translation, and
// the label already holds them.
var notExported = map[string]bool{"args": true}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

func scalarText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// rowLabel names a row for its children: its term, group, label or name,
// else its position.
func rowLabel(row map[string]any, i int) string {
	for _, k := range []string{"term", "group", "label", "name", "level", "class"} {
		if s, ok := row[k].(string); ok && s != "" {
			return k + "=" + s
		}
	}
	return "#" + strconv.Itoa(i+1)
}

func (s *Server) runResultsCSV(c *echo.Context) error {
	id, st, b, err := s.resultsOf(c)
	if err != nil {
		return err
	}
	tables, err := documentTables(b)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for i, t := range tables {
		if i > 0 {
			_ = w.Write(nil)
		}
		_ = w.Write([]string{"# " + t.Name})
		_ = w.Write(t.Columns)
		for _, r := range t.text {
			_ = w.Write(r)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	s.audit(c, "results_export", st.Name, map[string]any{"study_id": st.ID, "run_id": id, "format": "csv"})
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="beaver-run-%d.csv"`, id))
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// sheetName makes a valid, unique Excel sheet name (at most 31
// characters, none of []:*?/\).
func sheetName(name string, used map[string]bool) string {
	n := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '_'
		}
		return r
	}, name)
	if len([]rune(n)) > 31 {
		r := []rune(n)
		n = string(r[len(r)-31:])
	}
	base := n
	for i := 2; used[strings.ToLower(n)]; i++ {
		suffix := "~" + strconv.Itoa(i)
		r := []rune(base)
		if len(r)+len(suffix) > 31 {
			r = r[len(r)+len(suffix)-31:]
		}
		n = string(r) + suffix
	}
	used[strings.ToLower(n)] = true
	return n
}

func (s *Server) runResultsXLSX(c *echo.Context) error {
	id, st, b, err := s.resultsOf(c)
	if err != nil {
		return err
	}
	tables, err := documentTables(b)
	if err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	used := map[string]bool{}
	for i, t := range tables {
		name := sheetName(t.Name, used)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return fmt.Errorf("web: xlsx: %w", err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return fmt.Errorf("web: xlsx: %w", err)
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return fmt.Errorf("web: xlsx: %w", err)
		}
		head := make([]any, len(t.Columns))
		for j, col := range t.Columns {
			head[j] = col
		}
		if err := sw.SetRow("A1", head); err != nil {
			return fmt.Errorf("web: xlsx: %w", err)
		}
		for r, row := range t.text {
			cells := make([]any, len(row))
			for j, v := range row {
				if x, err := strconv.ParseFloat(v, 64); err == nil && v != "" && !strings.ContainsAny(v, "ni") {
					cells[j] = x
				} else if v != "" {
					cells[j] = v
				}
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+2)
			if err := sw.SetRow(cell, cells); err != nil {
				return fmt.Errorf("web: xlsx: %w", err)
			}
		}
		if err := sw.Flush(); err != nil {
			return fmt.Errorf("web: xlsx: %w", err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return fmt.Errorf("web: xlsx: %w", err)
	}
	s.audit(c, "results_export", st.Name, map[string]any{"study_id": st.ID, "run_id": id, "format": "xlsx"})
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="beaver-run-%d.xlsx"`, id))
	return c.Blob(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buf.Bytes())
}
