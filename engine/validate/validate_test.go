package validate

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/beaver-analytics/beaver/engine/synth"
	"github.com/beaver-analytics/beaver/schema/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestExamplesRecoverTruths runs the three example studies, unchanged, on a
// small region whose outcome hazards are raised (so that a few thousand
// persons give enough events) and checks each estimate against the planted
// truth with generous bounds, and the biased estimates against the
// direction of their bias (docs/synthetic.md). The region is fixed by its
// seed, so the estimates are too; the bounds hold for any seed with high
// probability (about ±3 standard errors at these event counts).
func TestExamplesRecoverTruths(t *testing.T) {
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, pgtest.ServerURL(t))
	require.NoError(t, err)
	defer admin.Close()
	truth := synth.DefaultTruth()
	truth.HRComparator, truth.HRCurrentUse = 0.6, 2.5
	truth.AMIBase *= 4
	truth.GIBase *= 3
	truth.HipAt80 = [2]float64{truth.HipAt80[0] * 6, truth.HipAt80[1] * 6}
	cfg := Config{
		Scenarios:   []Scenario{{Seed: 7, Persons: 4000, Years: 8, Truth: &truth}},
		ExamplesDir: "../../docs/examples",
		Admin:       admin,
		Connect: func(ctx context.Context, name string) (*pgxpool.Pool, error) {
			c, err := pgxpool.ParseConfig(pgtest.ServerURL(t))
			if err != nil {
				return nil, err
			}
			c.ConnConfig.Database = name
			return pgxpool.NewWithConfig(ctx, c)
		},
		Prefix: "validate_test",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	rep, err := Run(ctx, cfg)
	require.NoError(t, err)

	var t1, t2 *Row
	var t3 []Row
	for i := range rep.Rows {
		r := &rep.Rows[i]
		t.Logf("%s %s: %.3f (%.3f-%.3f) covers %v; %s %.3f (%.3f-%.3f)", r.Truth, r.Term, r.Estimate, r.Lower, r.Upper, r.Covers,
			r.BiasedAnalysis, r.Biased, r.BiasedLower, r.BiasedUpper)
		switch r.Truth {
		case "T1":
			t1 = r
		case "T2":
			t2 = r
		case "T3":
			t3 = append(t3, *r)
		}
	}
	require.NotNil(t, t1)
	require.NotNil(t, t2)
	require.Len(t, t3, 5, "five ASLs, each against the others")

	// T1: the adjusted HR is near 0.6; confounding by age and diabetes
	// (older and diabetic starters get A and have more AMIs) pushes the
	// crude HR up.
	require.InDelta(t, 0.6, t1.Estimate, 0.25)
	require.Greater(t, t1.Biased, t1.Estimate*1.3, "the crude HR must show the confounding")
	// T2: the time-dependent HR is near 2.5; use on day 0 is not the
	// exposure that raises the hazard, and its HR sits far below.
	require.InDelta(t, 2.5, t2.Estimate, 0.9)
	require.Less(t, t2.Biased, 1.6)
	// T3: standardized rates agree across ASLs; the crude rate of the
	// oldest ASL (304) is visibly higher than the first's.
	for _, r := range t3 {
		require.InDelta(t, 1, r.Estimate, 0.55, r.Term)
	}
	// ASL 301 is the youngest, 304 the oldest (docs/synthetic.md).
	require.Less(t, t3[0].Biased, 0.8, t3[0].Term)
	require.Greater(t, t3[3].Biased, 1.3, t3[3].Term)

	var b bytes.Buffer
	require.NoError(t, WriteMarkdown(&b, rep, "go test ./engine/validate"))
	require.Contains(t, b.String(), "| T1 | adjusted |")
}

func TestSummarize(t *testing.T) {
	rows := []Row{
		{Truth: "T1", Analysis: "adjusted", BiasedAnalysis: "crude", Covers: true},
		{Truth: "T1", Analysis: "adjusted", BiasedAnalysis: "crude", Covers: false, BiasedCovers: true},
		{Truth: "T3", Analysis: "std", BiasedAnalysis: "crude", Covers: true},
	}
	got := Summarize(rows)
	require.Equal(t, []Summary{
		{Truth: "T1", N: 2, Covered: 1, BiasedCover: 1, Adjusted: "adjusted", BiasedMethod: "crude"},
		{Truth: "T3", N: 1, Covered: 1, BiasedCover: 0, Adjusted: "std", BiasedMethod: "crude"},
	}, got)
}
