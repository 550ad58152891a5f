// Package validate checks that studies recover the synthetic region's
// planted truths (docs/synthetic.md): it generates regions with several
// seeds and planted values, loads each through the validated import into a
// database of its own, runs the three example studies of docs/examples on
// it with the real engine, and tabulates each estimate, its 95% confidence
// interval, whether the interval covers the planted value, and the biased
// estimate beside it (`make validate` writes docs/validation.md).
package validate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beaver-analytics/beaver/engine"
	"github.com/beaver-analytics/beaver/engine/etl"
	"github.com/beaver-analytics/beaver/engine/study"
	"github.com/beaver-analytics/beaver/engine/synth"
	"github.com/beaver-analytics/beaver/report/results"
	"github.com/beaver-analytics/beaver/schema"
)

// Scenario is one synthetic region: its size, seed and planted values.
type Scenario struct {
	Seed    uint64
	Persons int
	Years   int
	// Truth holds the planted effects; nil means synth.DefaultTruth.
	Truth *synth.Truth
}

// Examples are the example protocols' file names, in docs/examples.
var Examples = []string{"comparator-new-users.json", "current-use.json", "hip-fracture-rates.json"}

// Config says what to validate and where.
type Config struct {
	Scenarios []Scenario
	// ExamplesDir holds the example protocols (docs/examples).
	ExamplesDir string
	// Admin is a pool on the server's maintenance database, which creates
	// and drops one database per scenario; Connect opens a pool on one of
	// them by name, on the same server.
	Admin   *pgxpool.Pool
	Connect func(ctx context.Context, database string) (*pgxpool.Pool, error)
	// Prefix names the scenario databases (Prefix + "_" + index).
	Prefix string
	// Keep leaves the scenario databases in place (default: dropped).
	Keep bool
	// Workers is the number of concurrent study steps (0: all cores).
	Workers int
	Logger  *slog.Logger
}

// Row is one line of the validation table.
type Row struct {
	Scenario int     `json:"scenario"`
	Seed     uint64  `json:"seed"`
	Persons  int     `json:"persons"`
	Years    int     `json:"years"`
	Truth    string  `json:"truth"`    // T1, T2, T3
	Study    string  `json:"study"`    // the example's name
	Analysis string  `json:"analysis"` // the analysis recovering the truth
	Term     string  `json:"term"`     // the coefficient or group compared
	Planted  float64 `json:"planted"`  // the value the estimate must cover
	Estimate float64 `json:"estimate"`
	Lower    float64 `json:"lower"`
	Upper    float64 `json:"upper"`
	Covers   bool    `json:"covers"`
	// Biased is the estimate a wrong analysis gives of the same quantity
	// (crude Cox, use at baseline, crude rate ratio), with its interval.
	BiasedAnalysis string  `json:"biased_analysis"`
	Biased         float64 `json:"biased"`
	BiasedLower    float64 `json:"biased_lower"`
	BiasedUpper    float64 `json:"biased_upper"`
	BiasedCovers   bool    `json:"biased_covers"`
	// Events is the number of outcome events behind the estimate (null
	// when suppressed).
	Events *float64 `json:"events"`
}

// Timing is where one scenario spent its time.
type Timing struct {
	Scenario     int                `json:"scenario"`
	LoadSeconds  float64            `json:"load_seconds"`
	StudySeconds map[string]float64 `json:"study_seconds"`
}

// Report is the outcome of a validation.
type Report struct {
	Rows    []Row    `json:"rows"`
	Timings []Timing `json:"timings"`
}

// Run validates every scenario in turn.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "beaver_validate"
	}
	if !schemaIdent(cfg.Prefix) {
		return nil, fmt.Errorf("validate: database prefix %q: use lower-case letters, digits and _", cfg.Prefix)
	}
	protocols := make(map[string][]byte)
	for _, name := range Examples {
		b, err := os.ReadFile(filepath.Join(cfg.ExamplesDir, name))
		if err != nil {
			return nil, fmt.Errorf("validate: example protocol: %w", err)
		}
		protocols[name] = b
	}
	rep := &Report{}
	for i, sc := range cfg.Scenarios {
		rows, tm, err := runScenario(ctx, cfg, i+1, sc, protocols)
		if err != nil {
			return rep, fmt.Errorf("validate: scenario %d (seed %d, %d persons): %w", i+1, sc.Seed, sc.Persons, err)
		}
		rep.Rows = append(rep.Rows, rows...)
		rep.Timings = append(rep.Timings, tm)
	}
	return rep, nil
}

func schemaIdent(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func runScenario(ctx context.Context, cfg Config, n int, sc Scenario, protocols map[string][]byte) ([]Row, Timing, error) {
	tm := Timing{Scenario: n, StudySeconds: map[string]float64{}}
	truth := synth.DefaultTruth()
	if sc.Truth != nil {
		truth = *sc.Truth
	}
	dbName := fmt.Sprintf("%s_%d", cfg.Prefix, n)
	ident := pgx.Identifier{dbName}.Sanitize()
	if _, err := cfg.Admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return nil, tm, err
	}
	if _, err := cfg.Admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return nil, tm, err
	}
	if !cfg.Keep {
		defer func() {
			dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := cfg.Admin.Exec(dctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
				cfg.Logger.Error("drop scenario database", "database", dbName, "err", err)
			}
		}()
	}
	pool, err := cfg.Connect(ctx, dbName)
	if err != nil {
		return nil, tm, err
	}
	defer pool.Close()
	if err := schema.Migrate(ctx, pool, cfg.Logger); err != nil {
		return nil, tm, err
	}

	began := time.Now()
	if err := loadRegion(ctx, pool, sc, &truth, cfg.Logger); err != nil {
		return nil, tm, err
	}
	tm.LoadSeconds = time.Since(began).Seconds()

	client, err := engine.NewClient(pool, engine.Config{Logger: cfg.Logger, Workers: cfg.Workers}, true)
	if err != nil {
		return nil, tm, err
	}
	if err := client.Start(ctx); err != nil {
		return nil, tm, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = engine.Stop(sctx, client, 5*time.Second)
	}()

	svc := &study.Service{Pool: pool, River: client, Logger: cfg.Logger, PollInterval: 250 * time.Millisecond}
	docs := make(map[string]*document)
	for _, name := range Examples {
		began := time.Now()
		doc, err := runStudy(ctx, svc, protocols[name])
		if err != nil {
			return nil, tm, fmt.Errorf("%s: %w", name, err)
		}
		tm.StudySeconds[name] = time.Since(began).Seconds()
		docs[name] = doc
	}
	base := Row{Scenario: n, Seed: sc.Seed, Persons: sc.Persons, Years: sc.Years}
	var rows []Row
	r1, err := coxRow(base, comparatorTruth, truth.HRComparator, docs["comparator-new-users.json"])
	if err != nil {
		return nil, tm, fmt.Errorf("comparator-new-users: %w", err)
	}
	r2, err := coxRow(base, currentUseTruth, truth.HRCurrentUse, docs["current-use.json"])
	if err != nil {
		return nil, tm, fmt.Errorf("current-use: %w", err)
	}
	r3, err := rateRows(base, docs["hip-fracture-rates.json"])
	if err != nil {
		return nil, tm, fmt.Errorf("hip-fracture-rates: %w", err)
	}
	rows = append(rows, r1, r2)
	rows = append(rows, r3...)
	return rows, tm, nil
}

// loadRegion generates the scenario's region and imports it through the
// validated import path, as `beaver synth --load` does.
func loadRegion(ctx context.Context, pool *pgxpool.Pool, sc Scenario, truth *synth.Truth, logger *slog.Logger) error {
	dir, err := os.MkdirTemp("", "beaver-validate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	scfg := synth.Config{Persons: sc.Persons, Years: sc.Years, Seed: sc.Seed, Truth: truth}
	if err := scfg.WithDefaults().Validate(); err != nil {
		return err
	}
	if _, err := synth.WriteCSV(ctx, scfg, dir, nil); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	paths, err := synth.Files(dir)
	if err != nil {
		return err
	}
	_, err = etl.Load(ctx, pool, paths, etl.Options{StartedBy: "beaver validate", Logger: logger,
		AfterPublish: func(ctx context.Context, version int64) error { return etl.AfterPublish(ctx, pool, version) }})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return nil
}

// runStudy submits a protocol, waits for its run to end and returns its
// results document.
func runStudy(ctx context.Context, svc *study.Service, protocol []byte) (*document, error) {
	sub, err := svc.Submit(ctx, study.SubmitRequest{Protocol: protocol})
	if err != nil {
		return nil, err
	}
	p, err := svc.Wait(ctx, sub.RunID, nil)
	if err != nil {
		return nil, err
	}
	if p.State != study.StateDone {
		return nil, fmt.Errorf("run %d %s: %s", sub.RunID, p.State, p.Error)
	}
	doc, err := svc.Results(ctx, sub.RunID)
	if err != nil {
		return nil, err
	}
	return &document{doc}, nil
}

// document is a results document (docs/results.md) with the lookups the
// validation makes.
type document struct{ *results.Document }

// result returns the result of the analysis name, or why there is none.
func (d *document) result(name string) (results.Result, error) {
	a, ok := d.Analyses[name]
	if !ok {
		return nil, fmt.Errorf("no analysis %q in the results", name)
	}
	if a.Error != "" {
		return nil, fmt.Errorf("analysis %q failed: %s", name, a.Error)
	}
	if a.Result == nil {
		return nil, fmt.Errorf("analysis %q has no result", name)
	}
	return a.Result, nil
}

// hr returns a Cox analysis's hazard ratio for term with its interval and
// the events behind it (nil when suppressed).
func (d *document) hr(analysis, term string) (est, lo, hi float64, events *float64, err error) {
	res, err := d.result(analysis)
	if err != nil {
		return 0, 0, 0, nil, err
	}
	r, ok := res.(*results.Cox)
	if !ok {
		return 0, 0, 0, nil, fmt.Errorf("analysis %q is not a Cox analysis", analysis)
	}
	for _, c := range r.Coefficients {
		if c.Term == term {
			if c.HR.IsNA() || c.HRLower.IsNA() || c.HRUpper.IsNA() {
				return 0, 0, 0, nil, fmt.Errorf("analysis %q: term %q has no estimate", analysis, term)
			}
			if r.Events != nil {
				e := float64(*r.Events)
				events = &e
			}
			return float64(c.HR), float64(c.HRLower), float64(c.HRUpper), events, nil
		}
	}
	return 0, 0, 0, nil, fmt.Errorf("analysis %q has no term %q", analysis, term)
}

func covers(lo, hi, v float64) bool { return lo <= v && v <= hi }

// coxTruth is a truth a Cox analysis recovers, with the analysis of the
// same study that should not.
type coxTruth struct {
	truth, study, analysis, term    string
	biasedLabel, biased, biasedTerm string
}

var (
	// T1: the adjusted HR of A vs B covers the planted value; the crude
	// one is biased.
	comparatorTruth = coxTruth{"T1", "comparator-new-users", "adjusted", "exposure=A", "crude", "crude", "exposure=A"}
	// T2: the time-dependent HR of current use covers the planted value;
	// use at index does not.
	currentUseTruth = coxTruth{"T2", "current-use", "time-dependent", "current_use", "baseline (use_at_index)", "baseline", "use_at_index"}
)

// coxRow is the row of truth t planted at value in the results d.
func coxRow(base Row, t coxTruth, planted float64, d *document) (Row, error) {
	r := base
	r.Truth, r.Study, r.Analysis, r.Term, r.Planted = t.truth, t.study, t.analysis, t.term, planted
	var err error
	if r.Estimate, r.Lower, r.Upper, r.Events, err = d.hr(t.analysis, t.term); err != nil {
		return r, err
	}
	r.Covers = covers(r.Lower, r.Upper, r.Planted)
	r.BiasedAnalysis = t.biasedLabel
	if r.Biased, r.BiasedLower, r.BiasedUpper, _, err = d.hr(t.biased, t.biasedTerm); err != nil {
		return r, err
	}
	r.BiasedCovers = covers(r.BiasedLower, r.BiasedUpper, r.Planted)
	return r, nil
}

// rateRows is truth T3: hip-fracture incidence depends on age and sex
// only, so every ASL's directly standardized rate equals the others'
// (planted ratio 1) while the crude rates differ with the ASLs' age
// structures. Each ASL is compared with the other ASLs pooled, so that the
// two sides are independent (comparing every ASL with one reference ASL
// would make all the ratios move together with the reference's chance
// error):
//   - standardized: the others' rates are pooled on the log scale with
//     inverse-variance weights; each rate's standard error on the log scale
//     is taken from its Fay-Feuer interval as (log upper − log lower) /
//     (2 × 1.959964), so the interval of the ratio is approximate;
//   - crude: events over person-time of the ASL against those of the
//     others, Wald interval on the log scale (√(1/e₁ + 1/e₀)).
func rateRows(base Row, d *document) ([]Row, error) {
	res, err := d.result("rates-by-asl")
	if err != nil {
		return nil, err
	}
	rr, ok := res.(*results.Rates)
	if !ok {
		return nil, errors.New("analysis \"rates-by-asl\" is not a rates analysis")
	}
	if len(rr.Groups) < 2 {
		return nil, errors.New("fewer than two ASLs in the rates")
	}
	const z = 1.959963984540054
	type asl struct {
		name             string
		logDSR, se       float64
		events, persTime float64
	}
	var asls []asl
	for _, g := range rr.Groups {
		if g.Group == nil {
			return nil, errors.New("the rates are not by ASL")
		}
		if g.Adjusted.IsNA() || g.AdjustedLower.IsNA() || g.AdjustedUpper.IsNA() || g.Events == nil {
			return nil, fmt.Errorf("ASL %s has no standardized rate, or its events are suppressed", *g.Group)
		}
		if !(g.Adjusted > 0 && g.AdjustedLower > 0) {
			return nil, fmt.Errorf("ASL %s has no events", *g.Group)
		}
		asls = append(asls, asl{name: *g.Group, logDSR: math.Log(float64(g.Adjusted)),
			se:     (math.Log(float64(g.AdjustedUpper)) - math.Log(float64(g.AdjustedLower))) / (2 * z),
			events: float64(*g.Events), persTime: g.PersonTime})
	}
	var rows []Row
	for k, a := range asls {
		var sw, swl, e0, pt0 float64
		for j, o := range asls {
			if j == k {
				continue
			}
			w := 1 / (o.se * o.se)
			sw += w
			swl += w * o.logDSR
			e0 += o.events
			pt0 += o.persTime
		}
		lr := a.logDSR - swl/sw
		s := math.Sqrt(a.se*a.se + 1/sw)
		r := base
		r.Truth, r.Study, r.Analysis = "T3", "hip-fracture-rates", "rates-by-asl (standardized)"
		r.Term = fmt.Sprintf("ASL %s vs the others", a.name)
		r.Planted = 1
		r.Estimate, r.Lower, r.Upper = math.Exp(lr), math.Exp(lr-z*s), math.Exp(lr+z*s)
		r.Covers = covers(r.Lower, r.Upper, 1)
		r.BiasedAnalysis = "rates-by-asl (crude)"
		lc := math.Log((a.events / a.persTime) / (e0 / pt0))
		sc := math.Sqrt(1/a.events + 1/e0)
		r.Biased, r.BiasedLower, r.BiasedUpper = math.Exp(lc), math.Exp(lc-z*sc), math.Exp(lc+z*sc)
		r.BiasedCovers = covers(r.BiasedLower, r.BiasedUpper, 1)
		ev := a.events
		r.Events = &ev
		rows = append(rows, r)
	}
	return rows, nil
}
