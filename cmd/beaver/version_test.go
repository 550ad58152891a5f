package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/schema/pgtest"
)

// TestVersionEverywhere: the version make build sets with -X main.version
// is what `beaver version` prints and what a run's results document records
// as its software_version (issue 15, point 4: results said "beaver
// (devel)" while `beaver version` printed the build's version).
func TestVersionEverywhere(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "beaver")
	out, err := exec.Command("go", "build", "-ldflags", "-X main.version=v9.9.9-test", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	run := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = cleanEnv()
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	require.Equal(t, "beaver v9.9.9-test\n", run("version"))

	url := pgtest.URL(t)
	run("synth", "--persons", "200", "--years", "8", "--seed", "4", "--load", "--database-url", url)
	out2 := run("study", "run", "../../docs/examples/hip-fracture-rates.json", "--wait", "--json", "--database-url", url)
	var doc struct {
		SoftwareVersion string `json:"software_version"`
	}
	require.NoError(t, json.Unmarshal([]byte(out2[strings.Index(out2, "{\n"):]), &doc), out2)
	require.Equal(t, "beaver v9.9.9-test", doc.SoftwareVersion)
}
