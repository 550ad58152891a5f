package web

import (
	"net/http"

	"github.com/labstack/echo/v5"
)

// accessRule is who may call a route. Object-level rules (a study's owner
// and readers) are decided by the services: another user's study is a 404.
type accessRule int

const (
	// public needs no user (health probes, the sign-in, the pages' shell).
	public accessRule = iota
	// signedIn needs any user: admin, analyst or viewer.
	signedIn
	// runner needs a user who may create and run studies (analyst, admin).
	runner
	// adminOnly needs an admin.
	adminOnly
)

func (a accessRule) String() string {
	return [...]string{"public", "any signed-in user", "analysts and admins", "admins"}[a]
}

// route is one entry of the route table, the single source of the routes,
// their access rules, their body limits and their OpenAPI description.
type route struct {
	Method  string
	Path    string // OpenAPI form: /api/v1/runs/{id}
	Access  accessRule
	Handler echo.HandlerFunc
	Summary string
	// Tag groups the route in the OpenAPI document.
	Tag string
	// Request names the JSON request body's schema (openapi.go), if any.
	Request string
	// Response names the success body's schema; Status is the success
	// status (200 when zero); Produces is its content type when not JSON.
	Response string
	Status   int
	Produces string
	// Query lists the query parameters.
	Query []string
	// MaxBody bounds the request body (bytes); 0 means defaultMaxBody.
	MaxBody int64
}

// Body limits.
const (
	defaultMaxBody  = 64 << 10 // sign-in, tokens, shares, settings
	protocolMaxBody = 16 << 20 // a protocol with 200 criteria and 50 lists of 1,000 codes is ~2 MB
)

// routeTable lists every route of the server.
func (s *Server) routeTable() []route {
	rt := []route{
		// Operations and pages.
		{Method: http.MethodGet, Path: "/healthz", Access: public, Handler: s.healthz, Tag: "operations", Summary: "Liveness: the process is up.", Response: "Status"},
		{Method: http.MethodGet, Path: "/readyz", Access: public, Handler: s.readyz, Tag: "operations", Summary: "Readiness: database, schema and workers (503 when failing).", Response: "Status"},
		{Method: http.MethodGet, Path: "/metrics", Access: public, Handler: s.metricsHandler, Tag: "operations", Summary: "Prometheus metrics: an admin session or the metrics bearer token (checked by the handler).", Produces: "text/plain"},
		{Method: http.MethodGet, Path: "/", Access: public, Handler: s.index, Tag: "pages", Summary: "The application's page.", Produces: "text/html"},
		{Method: http.MethodGet, Path: "/static/*", Access: public, Handler: s.static, Tag: "pages", Summary: "The application's scripts and styles, by content hash.", Produces: "application/octet-stream"},
		{Method: http.MethodGet, Path: "/api/v1/openapi.json", Access: public, Handler: s.openapi, Tag: "operations", Summary: "This API's OpenAPI 3.1 document.", Response: "Any"},

		// Sessions and tokens.
		{Method: http.MethodPost, Path: "/api/v1/session", Access: public, Handler: s.login, Tag: "session", Summary: "Sign in: sets the session cookie, returns the user and the CSRF token.", Request: "Login", Response: "SessionInfo"},
		{Method: http.MethodDelete, Path: "/api/v1/session", Access: signedIn, Handler: s.logout, Tag: "session", Summary: "Sign out.", Status: http.StatusNoContent},
		{Method: http.MethodGet, Path: "/api/v1/me", Access: signedIn, Handler: s.me, Tag: "session", Summary: "The signed-in user (and the session's CSRF token).", Response: "SessionInfo"},
		{Method: http.MethodGet, Path: "/api/v1/tokens", Access: signedIn, Handler: s.listTokens, Tag: "session", Summary: "My personal API tokens (without their secrets).", Response: "Tokens"},
		{Method: http.MethodPost, Path: "/api/v1/tokens", Access: signedIn, Handler: s.createToken, Tag: "session", Summary: "Create a personal API token: the secret is shown only in this answer.", Request: "NewToken", Response: "CreatedToken", Status: http.StatusCreated},
		{Method: http.MethodDelete, Path: "/api/v1/tokens/{id}", Access: signedIn, Handler: s.deleteToken, Tag: "session", Summary: "Revoke one of my tokens.", Status: http.StatusNoContent},

		// Studies.
		{Method: http.MethodGet, Path: "/api/v1/studies", Access: signedIn, Handler: s.listStudies, Tag: "studies", Summary: "My studies and those shared with me, most recently changed first.", Query: []string{"q", "limit", "offset"}, Response: "StudyList"},
		{Method: http.MethodPost, Path: "/api/v1/studies", Access: runner, Handler: s.createStudy, Tag: "studies", Summary: "Save a new study (version 1).", Request: "StudyDraft", Response: "Study", Status: http.StatusCreated, MaxBody: protocolMaxBody},
		{Method: http.MethodGet, Path: "/api/v1/studies/{id}", Access: signedIn, Handler: s.getStudy, Tag: "studies", Summary: "A study with its protocol.", Response: "Study"},
		{Method: http.MethodPut, Path: "/api/v1/studies/{id}", Access: runner, Handler: s.updateStudy, Tag: "studies", Summary: "Save a new version; 409 when the given version is not the current one.", Request: "StudyUpdate", Response: "Study", MaxBody: protocolMaxBody},
		{Method: http.MethodDelete, Path: "/api/v1/studies/{id}", Access: runner, Handler: s.deleteStudy, Tag: "studies", Summary: "Delete a study I own.", Status: http.StatusNoContent},
		{Method: http.MethodGet, Path: "/api/v1/studies/{id}/versions", Access: signedIn, Handler: s.studyVersions, Tag: "studies", Summary: "Every saved version of a study, newest first.", Response: "Versions"},
		{Method: http.MethodPost, Path: "/api/v1/studies/{id}/share", Access: runner, Handler: s.shareStudy, Tag: "studies", Summary: "Share a study I own with a user (access read), or stop (none).", Request: "ShareRequest", Status: http.StatusNoContent},
		{Method: http.MethodGet, Path: "/api/v1/studies/{id}/shares", Access: runner, Handler: s.studyShares, Tag: "studies", Summary: "Who a study I own is shared with.", Response: "Shares"},
		{Method: http.MethodPost, Path: "/api/v1/protocols/diagram", Access: signedIn, Handler: s.protocolDiagram, Tag: "studies", Summary: "The study design diagram of a protocol as SVG (?lang=it), redrawn as the editor changes it.", Request: "Any", Query: []string{"lang"}, Produces: "image/svg+xml", MaxBody: protocolMaxBody},
		{Method: http.MethodPost, Path: "/api/v1/protocols/validate", Access: signedIn, Handler: s.validateProtocol, Tag: "studies", Summary: "Check a protocol as the user types: errors and warnings with JSON paths, and the methods text.", Request: "Any", Response: "Validation", MaxBody: protocolMaxBody},

		// Runs.
		{Method: http.MethodPost, Path: "/api/v1/studies/{id}/runs", Access: runner, Handler: s.submitRun, Tag: "runs", Summary: "Run the study's current version (template parameters in params).", Request: "RunRequest", Response: "RunAccepted", Status: http.StatusAccepted},
		{Method: http.MethodGet, Path: "/api/v1/studies/{id}/runs", Access: signedIn, Handler: s.listRuns, Tag: "runs", Summary: "The study's runs, newest first.", Response: "Runs"},
		{Method: http.MethodGet, Path: "/api/v1/runs/{id}", Access: signedIn, Handler: s.getRun, Tag: "runs", Summary: "A run's state, progress per phase and step, ETA and error.", Response: "Run"},
		{Method: http.MethodGet, Path: "/api/v1/runs/{id}/events", Access: signedIn, Handler: s.runEvents, Tag: "runs", Summary: "Server-sent events: the run's state at every change, a heartbeat every 15 s; ends when the run ends.", Produces: "text/event-stream"},
		{Method: http.MethodPost, Path: "/api/v1/runs/{id}/cancel", Access: runner, Handler: s.cancelRun, Tag: "runs", Summary: "Cancel a queued or running run.", Response: "Run"},
		{Method: http.MethodDelete, Path: "/api/v1/runs/{id}", Access: runner, Handler: s.deleteRun, Tag: "runs", Summary: "Delete a run (cancelled first when live) with its tables.", Status: http.StatusNoContent},
		{Method: http.MethodGet, Path: "/api/v1/runs/{id}/results", Access: signedIn, Handler: s.runResults, Tag: "runs", Summary: "The results document (small counts suppressed).", Response: "Any"},
		{Method: http.MethodGet, Path: "/api/v1/runs/{id}/results.csv", Access: signedIn, Handler: s.runResultsCSV, Tag: "runs", Summary: "Every table of the results document as CSV, one block per table.", Produces: "text/csv"},
		{Method: http.MethodGet, Path: "/api/v1/runs/{id}/charts/{chart}", Access: signedIn, Handler: s.runChart, Tag: "runs", Summary: "One analysis's chart as SVG (ANALYSIS.svg; ?class= a class of a stratified analysis; ?lang=it), the same the reports show.", Query: []string{"class", "lang"}, Produces: "image/svg+xml"},
		{Method: http.MethodGet, Path: "/api/v1/runs/{id}/report.html", Access: signedIn, Handler: s.runReportHTML, Tag: "runs", Summary: "The run's report as one self-contained HTML page (?lang=it).", Query: []string{"lang"}, Produces: "text/html"},
		{Method: http.MethodGet, Path: "/api/v1/runs/{id}/report.pdf", Access: signedIn, Handler: s.runReportPDF, Tag: "runs", Summary: "The run's report as an A4 PDF (?lang=it), printed by headless Chromium and cached.", Query: []string{"lang"}, Produces: "application/pdf"},
		{Method: http.MethodGet, Path: "/api/v1/runs/{id}/results.xlsx", Access: signedIn, Handler: s.runResultsXLSX, Tag: "runs", Summary: "Every table of the results document, one sheet per table.", Produces: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},

		// Reference data.
		{Method: http.MethodGet, Path: "/api/v1/codes", Access: signedIn, Handler: s.searchCodes, Tag: "reference", Summary: "Search a code system by code prefix or words of the description (accent- and case-insensitive), valid on date.", Query: []string{"system", "q", "date", "limit"}, Response: "Codes"},
		{Method: http.MethodGet, Path: "/api/v1/codelists", Access: signedIn, Handler: s.codeLists, Tag: "reference", Summary: "The shipped library of named, versioned code lists.", Response: "Any"},
		{Method: http.MethodGet, Path: "/api/v1/areas", Access: signedIn, Handler: s.areas, Tag: "reference", Summary: "The areas of interest with their sizes (suppressed below k).", Response: "Any"},

		// Administration.
		{Method: http.MethodGet, Path: "/api/v1/users", Access: adminOnly, Handler: s.listUsers, Tag: "admin", Summary: "Every user.", Response: "Users"},
		{Method: http.MethodPost, Path: "/api/v1/users", Access: adminOnly, Handler: s.createUser, Tag: "admin", Summary: "Create a user.", Request: "NewUser", Response: "User", Status: http.StatusCreated},
		{Method: http.MethodPatch, Path: "/api/v1/users/{id}", Access: adminOnly, Handler: s.updateUser, Tag: "admin", Summary: "Change a user's role, scope, password or disable them (ends their sessions).", Request: "UserChange", Response: "User"},
		{Method: http.MethodGet, Path: "/api/v1/settings", Access: adminOnly, Handler: s.getSettings, Tag: "admin", Summary: "The settings (minimum cell count k).", Response: "Settings"},
		{Method: http.MethodPut, Path: "/api/v1/settings", Access: adminOnly, Handler: s.putSettings, Tag: "admin", Summary: "Change the settings.", Request: "Settings", Response: "Settings"},
		{Method: http.MethodPost, Path: "/api/v1/imports", Access: adminOnly, Handler: s.importUpload, Tag: "admin", Summary: "Upload flow files (multipart/form-data, one part per file): written under the data dir, then imported by a job.", Response: "Any", Status: http.StatusAccepted, MaxBody: s.cfg.MaxUpload},
		{Method: http.MethodGet, Path: "/api/v1/imports", Access: adminOnly, Handler: s.listImports, Tag: "admin", Summary: "The uploads with their imports, and the whole import history (command line and inbox too).", Response: "Any"},
		{Method: http.MethodGet, Path: "/api/v1/imports/{id}", Access: adminOnly, Handler: s.getImport, Tag: "admin", Summary: "An upload: state, files, rows read, published and refused, refusals by reason.", Response: "Any"},
		{Method: http.MethodGet, Path: "/api/v1/imports/{id}/quarantine", Access: adminOnly, Handler: s.importQuarantine, Tag: "admin", Summary: "The refused values of an upload's import (file, line, column, reason, value): the one route showing rows, of files the admin sent.", Query: []string{"reason", "limit", "offset"}, Response: "Any"},
		{Method: http.MethodGet, Path: "/api/v1/data/diagnostics", Access: adminOnly, Handler: s.diagnostics, Tag: "admin", Summary: "The data diagnostics of a data version (default: the latest), counts below k suppressed, no person ids.", Query: []string{"version"}, Response: "Any"},
		{Method: http.MethodGet, Path: "/api/v1/data/diagnostics/rows.svg", Access: adminOnly, Handler: s.diagnosticsRows, Tag: "admin", Summary: "The diagnostics' rows per year of every flow as an SVG chart (a missing year breaks a line).", Query: []string{"version", "lang"}, Produces: "image/svg+xml"},
		{Method: http.MethodGet, Path: "/api/v1/audit", Access: adminOnly, Handler: s.auditLog, Tag: "admin", Summary: "The audit log, newest first.", Query: []string{"user_id", "action", "since", "before", "limit"}, Response: "Any"},
	}
	for i := range rt {
		if rt[i].MaxBody == 0 {
			rt[i].MaxBody = defaultMaxBody
		}
	}
	return rt
}

// routeOf returns the table entry of the request's matched route.
func (s *Server) routeOf(c *echo.Context) *route {
	p := c.Path()
	if p == "" {
		return nil
	}
	for i := range s.routes {
		if s.routes[i].Method == c.Request().Method && echoPath(s.routes[i].Path) == p {
			return &s.routes[i]
		}
	}
	return nil
}
