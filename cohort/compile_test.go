package cohort_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/cohort"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenOpts compiles golden cases for two partitions; the golden file shows
// partition 0 (partition 1 differs only in the _p1 suffixes, checked below).
var goldenOpts = cohort.Options{Schema: "study_golden", Partitions: 2, DataVersion: 7}

func loadProtocol(t *testing.T, path string) *cohort.Protocol {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	p, err := cohort.Decode(f)
	require.NoError(t, err, path)
	return p
}

// renderPlan writes the steps of one partition as a readable SQL script.
func renderPlan(p *cohort.Plan, part int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "-- plan for schema %s, %d partitions, data version %d; partition %d shown\n",
		p.Schema, p.Partitions, p.DataVersion, part)
	if p.DataEnd != "" {
		fmt.Fprintf(&sb, "-- data end: %s (%s)\n", p.DataEnd, p.DataEndRule)
	}
	if len(p.Scope) > 0 {
		fmt.Fprintf(&sb, "-- data scope: %s\n", strings.Join(p.Scope, ", "))
	}
	for _, nc := range p.NotCompiled {
		fmt.Fprintf(&sb, "-- not compiled: %s\n", nc)
	}
	for _, s := range p.Steps {
		if s.Partition != part {
			continue
		}
		fmt.Fprintf(&sb, "\n-- step %s (%s)", s.Name, s.Kind)
		if len(s.DependsOn) > 0 {
			fmt.Fprintf(&sb, " after %s", strings.Join(s.DependsOn, ", "))
		}
		sb.WriteString("\n")
		for i, a := range s.Args {
			if tm, ok := a.(time.Time); ok {
				a = tm.Format("2006-01-02")
			}
			fmt.Fprintf(&sb, "-- $%d = %#v\n", i+1, a)
		}
		sb.WriteString(s.Create + ";\n" + s.SQL + ";\n")
	}
	return sb.String()
}

// caseOptions is goldenOpts with, when the case has one, its options.json
// (e.g. {"Scope": ["ASL02"]}) laid over them.
func caseOptions(t *testing.T, dir string) cohort.Options {
	t.Helper()
	o := goldenOpts
	b, err := os.ReadFile(filepath.Join(dir, "options.json"))
	if os.IsNotExist(err) {
		return o
	}
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&o), dir)
	return o
}

func TestCompileGolden(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob("testdata/*/protocol.json")
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for _, path := range dirs {
		dir := filepath.Dir(path)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			p := loadProtocol(t, path)
			plan, err := cohort.Compile(p, caseOptions(t, dir))
			require.NoError(t, err)
			got := renderPlan(plan, 0)
			golden := filepath.Join(dir, "plan.golden.sql")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./cohort -update")
			require.Equal(t, string(want), got)

			// Partition 1 is partition 0 with its own tables, and nothing
			// of partition 0 (step IDs differ, so do tables).
			p1 := strings.ReplaceAll(renderPlan(plan, 1), "_p1", "_p0")
			p1 = strings.Replace(p1, "partition 1 shown", "partition 0 shown", 1)
			require.Equal(t, got, p1)
			for _, s := range plan.Steps {
				require.NotContains(t, s.SQL+s.Create, "now()")
				require.NotContains(t, s.SQL+s.Create, "current_date")
			}
		})
	}
}

func TestCompileStepIDs(t *testing.T) {
	t.Parallel()
	p := loadProtocol(t, "testdata/comparator/protocol.json")
	a, err := cohort.Compile(p, goldenOpts)
	require.NoError(t, err)
	b, err := cohort.Compile(p, goldenOpts)
	require.NoError(t, err)
	seen := map[string]bool{}
	for i := range a.Steps {
		require.Equal(t, a.Steps[i].ID, b.Steps[i].ID, "compilation is deterministic")
		require.False(t, seen[a.Steps[i].ID], "IDs are unique")
		seen[a.Steps[i].ID] = true
	}

	// Another data version changes every ID.
	o := goldenOpts
	o.DataVersion++
	c, err := cohort.Compile(p, o)
	require.NoError(t, err)
	for i := range a.Steps {
		require.NotEqual(t, a.Steps[i].ID, c.Steps[i].ID)
	}

	// Changing the washout changes the index step, not the event steps.
	p.Phases.Index.Washout.Days.V = 180
	d, err := cohort.Compile(p, goldenOpts)
	require.NoError(t, err)
	require.Equal(t, a.Step("ev_ace_dispensing_p0").ID, d.Step("ev_ace_dispensing_p0").ID)
	require.NotEqual(t, a.Step("index_p0").ID, d.Step("index_p0").ID)

	// Changing a code list changes its event and what depends on it.
	p.CodeLists[0].Include.Prefixes = []string{"C09A"}
	e, err := cohort.Compile(p, goldenOpts)
	require.NoError(t, err)
	require.NotEqual(t, d.Step("ev_ace_dispensing_p0").ID, e.Step("ev_ace_dispensing_p0").ID)
	require.Equal(t, d.Step("ev_arb_dispensing_p0").ID, e.Step("ev_arb_dispensing_p0").ID)
	require.NotEqual(t, d.Step("index_p0").ID, e.Step("index_p0").ID)
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	p := loadProtocol(t, "testdata/comparator/protocol.json")
	for _, tc := range []struct {
		opts cohort.Options
		want string
	}{
		{cohort.Options{Partitions: 1}, "schema"},
		{cohort.Options{Schema: "s", Partitions: 0}, "partition count 0"},
		{cohort.Options{Schema: "s", Partitions: 1, DataVersion: -1}, "data version"},
		{cohort.Options{Schema: "s", Partitions: 1, Scope: []string{"ASL01", " "}}, `scope[1] " " is not an ASL code`},
	} {
		_, err := cohort.Compile(p, tc.opts)
		require.ErrorContains(t, err, tc.want)
	}
	bad := *p
	bad.Phases.Population.Accrual.Start = nil
	_, err := cohort.Compile(&bad, goldenOpts)
	require.ErrorContains(t, err, "phases.population.accrual.start")
}

// TestCompileDistribute: on Citus every step table with person_id is
// distributed by person, the attrition's counts are not; on one server
// none is.
func TestCompileDistribute(t *testing.T) {
	t.Parallel()
	p := loadProtocol(t, "testdata/comparator/protocol.json")
	o := goldenOpts
	o.Distributed = true
	plan, err := cohort.Compile(p, o)
	require.NoError(t, err)
	n := 0
	for _, s := range plan.Steps {
		hasPerson := strings.Contains(s.Create, "(\nperson_id ")
		require.Equal(t, hasPerson, s.Distribute, "%s", s.Name)
		if s.Kind == cohort.StepAttrition {
			require.False(t, s.Distribute, "%s", s.Name)
		}
		if s.Distribute {
			n++
		}
	}
	require.Greater(t, n, len(plan.Steps)/2)
	plan, err = cohort.Compile(p, goldenOpts)
	require.NoError(t, err)
	for _, s := range plan.Steps {
		require.False(t, s.Distribute, "%s on one server", s.Name)
	}
}
