package web

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/beaver-analytics/beaver/engine/access"
	"github.com/beaver-analytics/beaver/engine/catalog"
)

// schemaTypes are the Go types behind the schema names of the route table;
// their JSON Schemas are derived by reflection, so the document follows the
// code.
var schemaTypes = map[string]any{
	"Status":      map[string]any{},
	"Any":         nil,
	"Login":       LoginRequest{},
	"SessionInfo": SessionInfo{},
	"Tokens": struct {
		Tokens []access.Token `json:"tokens"`
	}{},
	"NewToken":     NewTokenRequest{},
	"CreatedToken": access.NewToken{},
	"StudyList": struct {
		Studies []studyItem `json:"studies"`
		Total   int         `json:"total"`
		Limit   int         `json:"limit"`
		Offset  int         `json:"offset"`
	}{},
	"StudyDraft":  catalog.Draft{},
	"Study":       catalog.Study{},
	"StudyUpdate": StudyUpdate{},
	"Versions": struct {
		Versions []catalog.Version `json:"versions"`
	}{},
	"ShareRequest": ShareRequest{},
	"Shares": struct {
		Shares []catalog.Share `json:"shares"`
	}{},
	"Validation": Validation{},
	"RunRequest": RunRequest{},
	"RunAccepted": struct {
		ID       int64    `json:"id"`
		State    string   `json:"state"`
		Warnings []string `json:"warnings"`
	}{},
	"Runs": struct {
		Runs []RunSummary `json:"runs"`
	}{},
	"Run": RunView{},
	"Codes": struct {
		Codes  []Code `json:"codes"`
		More   bool   `json:"more"`
		System string `json:"system"`
	}{},
	"Users": struct {
		Users []access.User `json:"users"`
	}{},
	"NewUser":    NewUserRequest{},
	"User":       access.User{},
	"UserChange": access.UserChange{},
	"Settings":   access.Settings{},
	"Error":      apiError{},
}

var timeType = reflect.TypeOf(time.Time{})
var rawType = reflect.TypeOf(json.RawMessage{})

// jsonSchema returns the JSON Schema (2020-12, as OpenAPI 3.1 uses it) of
// a Go type as encoding/json writes it.
func jsonSchema(t reflect.Type) map[string]any {
	if t == nil {
		return map[string]any{}
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := jsonSchema(t.Elem())
		if typ, ok := s["type"].(string); ok {
			s["type"] = []string{typ, "null"}
		}
		return s
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": jsonSchema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": jsonSchema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		props := map[string]any{}
		addFields(t, props)
		return map[string]any{"type": "object", "properties": props}
	}
	return map[string]any{}
}

func addFields(t reflect.Type, props map[string]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			addFields(ft, props)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = jsonSchema(f.Type)
	}
}

func (s *Server) openapiDocument() map[string]any {
	paths := map[string]any{}
	for _, rt := range s.routes {
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		op := map[string]any{
			"summary":     rt.Summary,
			"tags":        []string{rt.Tag},
			"operationId": strings.ToLower(rt.Method) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_").Replace(rt.Path),
			"x-access":    rt.Access.String(),
		}
		if rt.Access == public {
			op["security"] = []any{}
		}
		var params []any
		for _, seg := range strings.Split(rt.Path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		for _, q := range rt.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Request != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + rt.Request}}}}
		}
		status := rt.Status
		if status == 0 {
			status = http.StatusOK
		}
		ok := map[string]any{"description": http.StatusText(status)}
		switch {
		case rt.Produces != "":
			ok["content"] = map[string]any{rt.Produces: map[string]any{}}
		case rt.Response != "":
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + rt.Response}}}
		}
		errRef := map[string]any{"description": "error", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
		op["responses"] = map[string]any{itoa(status): ok, "default": errRef}
		item[strings.ToLower(rt.Method)] = op
	}
	schemas := map[string]any{}
	for name, v := range schemaTypes {
		schemas[name] = jsonSchema(reflect.TypeOf(v))
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Beaver API",
			"version":     "1",
			"description": "Observational studies on a region's administrative healthcare data: aggregates only. See docs/api.md.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie,
					"description": "Sign in with POST /api/v1/session; state-changing requests also need the X-CSRF-Token header."},
				"token": map[string]any{"type": "http", "scheme": "bearer", "description": "A personal API token (POST /api/v1/tokens); no CSRF header needed."},
			},
		},
		"security": []any{map[string]any{"session": []any{}}, map[string]any{"token": []any{}}},
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func (s *Server) openapi(c *echo.Context) error {
	return c.JSON(http.StatusOK, s.openapiDocument())
}

// DocumentedRoutes lists "METHOD path" of every operation of an OpenAPI
// document, sorted (the test compares it with RegisteredRoutes).
func DocumentedRoutes(doc map[string]any) []string {
	var out []string
	for p, item := range doc["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			out = append(out, strings.ToUpper(m)+" "+p)
		}
	}
	slices.Sort(out)
	return out
}

// RegisteredRoutes lists "METHOD path" (OpenAPI form) of every route the
// server's router holds, sorted: what the OpenAPI document must describe.
func (s *Server) RegisteredRoutes() []string {
	var out []string
	for _, r := range s.echo.Router().Routes() {
		out = append(out, r.Method+" "+openapiPath(r.Path))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// openapiPath turns echo's /runs/:id into /runs/{id}.
func openapiPath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if strings.HasPrefix(part, ":") {
			parts[i] = "{" + part[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}
