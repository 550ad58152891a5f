package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/web"
)

// multipartBody builds a multipart body with one part per file.
func multipartBody(t testing.TB, files map[string][]byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for name, b := range files {
		part, err := w.CreateFormFile("files", name)
		require.NoError(t, err)
		_, err = part.Write(b)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return w.FormDataContentType(), buf.Bytes()
}

func upload(t testing.TB, c *client, files map[string][]byte) (int, []byte) {
	t.Helper()
	return uploadTo(t, c, c.base, files)
}

// uploadTo uploads to the server at base (a second server of the same
// database, with a larger upload limit).
func uploadTo(t testing.TB, c *client, base string, files map[string][]byte) (int, []byte) {
	t.Helper()
	ctype, body := multipartBody(t, files)
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/imports", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("X-CSRF-Token", c.csrf)
	resp, err := c.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	return resp.StatusCode, out.Bytes()
}

type importView struct {
	ID     int64   `json:"id"`
	State  string  `json:"state"`
	Error  *string `json:"error"`
	Import *struct {
		RowsRead      int64 `json:"rows_read"`
		RowsPublished int64 `json:"rows_published"`
		RowsRejected  int64 `json:"rows_rejected"`
	} `json:"import"`
	RejectedByReason map[string]int64 `json:"rejected_by_reason"`
}

// waitImport polls an upload until its import has ended.
func waitImport(t testing.TB, c *client, id int64) importView {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var v importView
		c.json(t, http.MethodGet, fmt.Sprintf("/api/v1/imports/%d", id), nil, http.StatusOK, &v)
		if v.State != "queued" && v.State != "running" {
			return v
		}
		require.True(t, time.Now().Before(deadline), "upload %d did not end: %+v", id, v)
		time.Sleep(100 * time.Millisecond)
	}
}

func TestUploads(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOpts{region: true, maxUpload: 1 << 20})
	// A second server on the same database takes uploads up to 64 MB.
	bigSrv := httptest.NewServer(web.New(web.Config{Pool: f.pool, River: f.river, Logger: slog.New(slog.DiscardHandler),
		DataDir: t.TempDir(), MaxUpload: 64 << 20}))
	t.Cleanup(bigSrv.Close)
	big := bigSrv.URL

	// A pharmacy file with two good rows and two bad ones.
	good := "person_id,dispensing_date,aic,atc,packs,prescriber_id,cost,copay\n" +
		"1,2019-03-01,900000149,J01CR02,1,MMG3020001,6.30,2.00\n" +
		"2,2019-13-01,900000149,J01CR02,1,MMG3020001,6.30,2.00\n" +
		"3,2019-03-02,900000149,J01CR02,1,MMG3020001,6.30,2.00\n" +
		"999999999,2019-03-02,900000149,J01CR02,1,MMG3020001,6.30,2.00\n"
	status, body := upload(t, f.admin, map[string][]byte{"pharmacy.csv": []byte(good)})
	require.Equal(t, http.StatusAccepted, status, "%s", body)
	var acc struct{ ID int64 }
	require.NoError(t, jsonUnmarshal(body, &acc))
	v := waitImport(t, f.admin, acc.ID)
	require.Equal(t, "published", v.State, "%+v", v)
	require.NotNil(t, v.Import)
	require.EqualValues(t, 4, v.Import.RowsRead)
	require.EqualValues(t, 2, v.Import.RowsRejected)
	require.NotEmpty(t, v.RejectedByReason)
	var q struct {
		Rows []struct {
			File   string `json:"file"`
			Line   int64  `json:"line"`
			Reason string `json:"reason"`
		} `json:"rows"`
	}
	f.admin.json(t, http.MethodGet, fmt.Sprintf("/api/v1/imports/%d/quarantine", acc.ID), nil, http.StatusOK, &q)
	require.Len(t, q.Rows, 2)
	require.Equal(t, "pharmacy.csv", q.Rows[0].File)
	require.EqualValues(t, 3, q.Rows[0].Line, "the bad date is on line 3")

	// A file with a wrong header fails with the reason, publishing nothing.
	status, body = upload(t, f.admin, map[string][]byte{"pharmacy.csv": []byte("who,when\n1,2\n")})
	require.Equal(t, http.StatusAccepted, status, "%s", body)
	require.NoError(t, jsonUnmarshal(body, &acc))
	v = waitImport(t, f.admin, acc.ID)
	require.Equal(t, "failed", v.State)
	require.NotNil(t, v.Error)
	require.Contains(t, *v.Error, "pharmacy")

	// 50 MB of garbage named like a flow file: accepted as an upload (it is
	// under the limit), refused by the import with the reason, nothing
	// published.
	garbage := make([]byte, 50<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	var before struct {
		History []struct{ ID int64 } `json:"history"`
	}
	f.admin.json(t, http.MethodGet, "/api/v1/imports", nil, http.StatusOK, &before)
	status, body = uploadTo(t, f.admin, big, map[string][]byte{"outpatient.csv": garbage})
	require.Equal(t, http.StatusAccepted, status, "%.200s", body)
	require.NoError(t, jsonUnmarshal(body, &acc))
	v = waitImport(t, f.admin, acc.ID)
	require.Equal(t, "failed", v.State)
	require.NotNil(t, v.Error)
	require.Contains(t, *v.Error, "outpatient.csv: line 2")
	require.NotContains(t, *v.Error, "/uploads/", "the server's paths are not shown")
	if v.Import != nil {
		require.Zero(t, v.Import.RowsPublished)
	}

	// Too large: 413, nothing recorded; a bad name: 400.
	status, body = upload(t, f.admin, map[string][]byte{"pharmacy.csv": bytes.Repeat([]byte("x"), 2<<20)})
	require.Equal(t, http.StatusRequestEntityTooLarge, status, "%.200s", body)
	status, body = upload(t, f.admin, map[string][]byte{"../etc/passwd.csv": []byte("x")})
	require.Equal(t, http.StatusAccepted, status, "a path is cut to its base name: %s", body)
	status, body = upload(t, f.admin, map[string][]byte{"notes.txt": []byte("x")})
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, string(body), "notes.txt")
	var list struct {
		Uploads []importView `json:"uploads"`
	}
	f.admin.json(t, http.MethodGet, "/api/v1/imports", nil, http.StatusOK, &list)
	require.Len(t, list.Uploads, 4, "the refused uploads left no record")

	// Viewers and analysts cannot reach the data pages.
	for _, c := range []*client{f.vic, f.ana} {
		status, _ = upload(t, c, map[string][]byte{"pharmacy.csv": []byte(good)})
		require.Equal(t, http.StatusForbidden, status)
		status, _ = c.do(t, http.MethodGet, "/api/v1/data/diagnostics", nil)
		require.Equal(t, http.StatusForbidden, status)
	}

	// An admin restricted to some ASLs may not read the region's diagnostics.
	f.admin.json(t, http.MethodPost, "/api/v1/users", map[string]any{"username": "district", "role": "admin", "password": "district-password", "scope": []string{"301"}}, http.StatusCreated, nil)
	district := f.login(t, "district")
	status, body = district.do(t, http.MethodGet, "/api/v1/data/diagnostics", nil)
	require.Equal(t, http.StatusForbidden, status, "%s", body)
	require.Contains(t, string(body), "whole region")

	// Diagnostics: aggregate only, no person ids, small counts blanked.
	status, body = f.admin.do(t, http.MethodGet, "/api/v1/data/diagnostics", nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.NotContains(t, string(body), "top_outliers")
	require.True(t, strings.Contains(string(body), `"flows"`))
	// Nothing gives a blanked count back: no change from or to a blanked
	// year, no z or events-per-person quantiles of one.
	var diag struct {
		Flows []struct {
			Flow  string `json:"flow"`
			Years []struct {
				Year      int              `json:"year"`
				Rows      *int64           `json:"rows"`
				Persons   *int64           `json:"persons"`
				Change    *float64         `json:"change_from_previous_year"`
				Z         *float64         `json:"robust_z"`
				PerPerson *json.RawMessage `json:"events_per_person"`
			} `json:"years"`
		} `json:"flows"`
	}
	require.NoError(t, json.Unmarshal(body, &diag))
	blanked := 0
	for _, fl := range diag.Flows {
		for i, y := range fl.Years {
			if y.Rows == nil {
				blanked++
				require.Nil(t, y.Change, "%s %d", fl.Flow, y.Year)
				require.Nil(t, y.Z, "%s %d", fl.Flow, y.Year)
				require.Nil(t, y.PerPerson, "%s %d", fl.Flow, y.Year)
				if i+1 < len(fl.Years) {
					require.Nil(t, fl.Years[i+1].Change, "%s %d: the change from a blanked year", fl.Flow, fl.Years[i+1].Year)
				}
			}
			if y.Persons == nil {
				require.Nil(t, y.PerPerson, "%s %d", fl.Flow, y.Year)
			}
		}
	}
	require.Positive(t, blanked, "the region has years below k to check")
}
