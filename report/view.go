package report

import (
	"github.com/beaver-analytics/beaver/report/chart"
)

// Report is everything the HTML report shows, as plain values: the
// protocol's parts (NewReport fills them) and the results, section by
// section. The results document's adapter fills the rest; tests fill it by
// hand. Counts are *int64 as in the results document: nil when the
// document suppressed them. Statistics are float64, NaN when not
// estimated.
type Report struct {
	// Title block
	Title           string // the protocol's title, else its name
	Name            string // the protocol's name (the PDF's running header)
	Author          string
	RunDate         string // "2026-12-04"
	RunID           string
	DataVersion     int64
	DataEnd         string // "2019-12-31"
	ProtocolHash    string
	SoftwareVersion string
	Scope           []string // ASL codes the population was restricted to; empty: none
	MinCount        int      // counts below it are shown as "<k"

	// Methods
	Methods   string // cohort.Describe: paragraphs separated by blank lines
	DesignSVG []byte // chart.Design of the protocol

	// Results
	Attrition []AttritionRow
	Sections  []Section // in the protocol's order of analyses
	Warnings  []string  // the document's warnings, shown as footnotes

	// Appendix
	ProtocolJSON []byte // the bound protocol, indented
	Steps        []StepTiming
	AnalysesMS   int64
}

// AttritionRow is one line of the attrition table.
type AttritionRow struct {
	Label   string
	Persons *int64
	Entries *int64
}

// StepTiming is one step of the run's profile.
type StepTiming struct {
	Name       string
	Kind       string
	Rows       *int64
	WallMS     *int64
	ReusedFrom *int64 // the run whose table the step reused
}

// Section is one analysis of the protocol: exactly one of its result
// views is set, or Error says why there is none; Classes hold a
// stratified analysis's sections, one per class.
type Section struct {
	Name     string // the analysis's name
	Title    string // its title, else empty
	Kind     string // cohort.Analysis* kind
	Outcome  string // the outcome's title (or name), for KM, models, rates
	Error    string
	Warnings []string // the analysis's own warnings (footnotes)

	Descriptive *DescriptiveView
	KM          *KMView
	Model       *ModelView
	Rates       *RatesView

	StratifyBy string
	Classes    []ClassSection
}

// ClassSection is an analysis within one class of a stratified analysis.
type ClassSection struct {
	Class   string
	N       *int64
	Section Section
}

// DescriptiveView is a "table 1": covariates by group with SMDs.
type DescriptiveView struct {
	By        string
	Reference string // the group the SMDs compare against
	Groups    []DescGroup
	Variables []DescVariable
}

// DescGroup is one column of a descriptive table.
type DescGroup struct {
	Label string
	N     *int64
}

// DescVariable is one covariate: its cells per group, its levels when
// categorical, its SMD per group (NaN for the reference or when not
// shown).
type DescVariable struct {
	Label  string
	Type   string // "continuous", "binary", "categorical"
	Cells  []DescCell
	Levels []DescLevel
	SMD    []float64
}

// DescCell is one covariate in one group. Statistics absent for its type
// are NaN.
type DescCell struct {
	N, Missing, Count        *int64
	Percent                  float64
	Mean, SD, Median, Q1, Q3 float64
}

// DescLevel is a level of a categorical covariate: count and percent per
// group.
type DescLevel struct {
	Level    string
	Counts   []*int64
	Percents []float64
}

// KMView is a Kaplan-Meier analysis: the curves and each group's summary.
type KMView struct {
	Series []chart.KMSeries
	Groups []KMGroupRow
}

// KMGroupRow summarizes one curve.
type KMGroupRow struct {
	Label                            string
	N, Events                        *int64
	Median, MedianLower, MedianUpper float64
}

// ModelView is a Cox, logistic or linear model.
type ModelView struct {
	Model   string // "cox", "logistic", "linear"
	Form    string // cox: "baseline" or "counting_process"
	Ties    string // cox: "efron" or "breslow"
	Horizon int    // logistic: days
	N       *int64
	Events  *int64
	Terms   []ModelTerm
	Tests   []ModelTest // likelihood ratio, Wald, score
	PH      []ModelTest // proportional hazards (cox.zph), terms then GLOBAL
	R2      float64     // linear: R², NaN otherwise
}

// ModelTerm is one coefficient. Ratio and its limits are exp(coef) for
// Cox (HR) and logistic (OR) models, NaN for linear ones (Lower and Upper
// then hold the coefficient's interval).
type ModelTerm struct {
	Term                string
	Coef, SE            float64
	Ratio, Lower, Upper float64
	P                   float64
}

// ModelTest is a chi-square test.
type ModelTest struct {
	Name string // "lr", "wald", "score", or a term / "GLOBAL" for PH
	Chi2 float64
	DF   int
	P    float64
}

// RatesView is crude (and standardized) rates per group.
type RatesView struct {
	Per       float64 // per this many person-years
	Reference string  // the group the rate ratios compare with; "": the first
	Groups    []RateRow
}

// RateRow is one group's rates.
type RateRow struct {
	Label                                  string
	Events                                 *int64
	PersonTime                             float64
	Crude, CrudeLower, CrudeUpper          float64
	Adjusted, AdjustedLower, AdjustedUpper float64 // NaN when not standardized
	RateRatio, RRLower, RRUpper            float64 // NaN for the reference
}
