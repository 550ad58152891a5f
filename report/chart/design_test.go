package chart

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beaver-analytics/beaver/cohort"
	"github.com/beaver-analytics/beaver/report/format"
	"github.com/stretchr/testify/require"
)

func readExample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", name))
	require.NoError(t, err)
	return b
}

func examples(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "examples", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	return names
}

// TestDesignExamples draws each example protocol (as stored: the
// hip-fracture template keeps its placeholders) in English and Italian.
func TestDesignExamples(t *testing.T) {
	t.Parallel()
	for _, name := range examples(t) {
		p, err := cohort.DecodeBytes(readExample(t, name))
		require.NoError(t, err)
		for _, lang := range []format.Lang{format.EN, format.IT} {
			got, err := Design(p, DesignOptions{Lang: lang})
			require.NoError(t, err)
			golden(t, "design_"+strings.TrimSuffix(name, ".json")+"_"+string(lang)+".svg", got)
		}
	}
}

func TestDesignContent(t *testing.T) {
	t.Parallel()
	p, err := cohort.DecodeBytes(readExample(t, "comparator-new-users.json"))
	require.NoError(t, err)
	got, err := Design(p, DesignOptions{})
	require.NoError(t, err)
	s := string(got)
	for _, want := range []string{
		"Washout: no prior occurrence of any index event [-365, -1]",
		"Continuous enrolment [-365, 0]",
		"Exclusion: no AMI admission in the year before [-365, -1]",
		"Covariates: exposure, age, sex [0, 0]",
		"Covariates: antidiabetic_use [-365, -1]",
		"Covariates: diabetes_admission, diabetes_exemption (-∞, -1]",
		"Follow-up (outcome: ami) [1, 1825]",
		"ends at the earliest of: ami; death; end of enrolment; study end 31 Dec 2019;", ">1825 days<",
		"Exposure: A vs B [0, 0]",
	} {
		require.Contains(t, strings.ReplaceAll(strings.ReplaceAll(s, "&#39;", "'"), "\u00a0", " "), want)
	}
}

// TestDesignFollowsWindows checks that the diagram changes with a window:
// its text and the box's place.
func TestDesignFollowsWindows(t *testing.T) {
	t.Parallel()
	src := readExample(t, "comparator-new-users.json")
	p, err := cohort.DecodeBytes(src)
	require.NoError(t, err)
	before, err := Design(p, DesignOptions{})
	require.NoError(t, err)

	q, err := cohort.DecodeBytes(bytes.Replace(src, []byte(`"window": {"start": -365, "end": -1}, "count"`), []byte(`"window": {"start": -180, "end": -1}, "count"`), 1))
	require.NoError(t, err)
	require.Equal(t, -180, q.Phases.Criteria[0].Window.Start.V)
	after, err := Design(q, DesignOptions{})
	require.NoError(t, err)
	require.NotEqual(t, before, after)
	require.Contains(t, string(after), "no AMI admission in the year before [-180,\u00a0-1]")
	require.NotContains(t, string(after), "no AMI admission in the year before [-365,\u00a0-1]")

	// an open start: the box reaches the left edge with an arrow
	q.Phases.Criteria[0].Window.Start = nil
	open, err := Design(q, DesignOptions{})
	require.NoError(t, err)
	require.Contains(t, string(open), "no AMI admission in the year before (-∞,\u00a0-1]")
	require.Greater(t, strings.Count(string(open), "<polygon"), strings.Count(string(after), "<polygon"))
}

func TestDesignNil(t *testing.T) {
	t.Parallel()
	_, err := Design(nil, DesignOptions{})
	require.ErrorContains(t, err, "chart: design: no protocol")
	got, err := Design(&cohort.Protocol{}, DesignOptions{})
	require.NoError(t, err)
	wellFormed(t, got)
}

// TestDesignLongLabels: a protocol with a 200 kB criterion name and
// covariate list draws (clipped) without quadratic work.
func TestDesignLongLabels(t *testing.T) {
	t.Parallel()
	p, err := cohort.DecodeBytes(readExample(t, "comparator-new-users.json"))
	require.NoError(t, err)
	p.Phases.Criteria[0].Name = strings.Repeat("very long name ", 14000)
	for i := 0; i < 3000; i++ {
		p.Phases.Covariates = append(p.Phases.Covariates, cohort.Covariate{Name: "c" + strings.Repeat("x", i%50), Kind: "age"})
	}
	got, err := Design(p, DesignOptions{})
	require.NoError(t, err)
	wellFormed(t, got)
	require.Less(t, len(got), 20_000, "labels are clipped to three lines")
}

func BenchmarkDesign(b *testing.B) {
	p, err := cohort.DecodeBytes(readExample(b, "comparator-new-users.json"))
	require.NoError(b, err)
	for b.Loop() {
		if _, err := Design(p, DesignOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDesign200 draws a protocol with 200 criteria and 100
// covariates, the editor's large case (issue 13).
func BenchmarkDesign200(b *testing.B) {
	p, err := cohort.DecodeBytes(readExample(b, "comparator-new-users.json"))
	require.NoError(b, err)
	base := p.Phases.Criteria[0]
	for i := range 200 {
		c := base
		c.Name = fmt.Sprintf("criterion %d", i)
		c.Window = &cohort.Window{Start: cohort.I(-1 - i*7), End: cohort.I(-1)}
		p.Phases.Criteria = append(p.Phases.Criteria, c)
	}
	for i := range 100 {
		p.Phases.Covariates = append(p.Phases.Covariates, cohort.Covariate{Name: fmt.Sprintf("cov%d", i), Kind: "presence", Event: "ami_admission", Window: &cohort.Window{Start: cohort.I(-30 * (i%10 + 1)), End: cohort.I(-1)}})
	}
	for b.Loop() {
		if _, err := Design(p, DesignOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDesignCriteria draws the compiler's criteria test protocol: a gap
// says its length, a group spans the union of its members' windows (an
// open start and a demographic condition at day 0).
func TestDesignCriteria(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "cohort", "testdata", "criteria", "protocol.json"))
	require.NoError(t, err)
	p, err := cohort.DecodeBytes(b)
	require.NoError(t, err)
	got, err := Design(p, DesignOptions{})
	require.NoError(t, err)
	s := strings.ReplaceAll(string(got), "\u00a0", " ")
	require.Contains(t, s, "Exclusion: c5 (180 days without statin) [-365, -1]")
	require.Contains(t, s, "Exclusion: c1 [-365, -1]")
	require.Contains(t, s, "Inclusion: c3 [0, 0]")
	require.Contains(t, s, "Criterion: c6 (-∞, 0]")
}
