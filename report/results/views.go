package results

import (
	"encoding/json"

	"github.com/beaver-analytics/beaver/stats"
)

// Count is a count of persons, entries or events that is nil (null) when
// suppressed (below the document's MinCount).
type Count = *int64

// AttritionLine is what remains after one line of the attrition table,
// summed over partitions.
type AttritionLine struct {
	Line  int    `json:"line"`
	Label string `json:"label"`
	// Key and Args name the label for a renderer in another language
	// (cohort.Label); a criterion's line has none, its label being the
	// protocol's own name for it.
	Key        string   `json:"key,omitempty"`
	Args       []string `json:"args,omitempty"`
	Persons    Count    `json:"persons"`
	Entries    Count    `json:"entries"`
	Suppressed bool     `json:"suppressed,omitempty"`
}

// Attrition is the result of an attrition analysis: the document's
// attrition table.
type Attrition []AttritionLine

// Cox is a Cox result: the stats shape, with the row and event counts
// null below MinCount.
type Cox struct {
	*stats.CoxResult
	N          Count `json:"n"`
	Events     Count `json:"events"`
	Suppressed bool  `json:"suppressed,omitempty"`
}

// KaplanMeier is a Kaplan-Meier result: one curve per group.
type KaplanMeier struct {
	ConfType  string    `json:"conf_type"`
	ConfLevel float64   `json:"conf_level"`
	Groups    []KMGroup `json:"groups"`
}

// KMGroup is one Kaplan-Meier curve with small counts suppressed: N and
// Events null below MinCount, and per step only the time, the survival and
// its interval, and the number at risk (null below MinCount).
type KMGroup struct {
	Group       *string     `json:"group"` // null without groups
	N           Count       `json:"n"`
	Events      Count       `json:"events"`
	Suppressed  bool        `json:"suppressed,omitempty"`
	Median      stats.Float `json:"median"`
	MedianLower stats.Float `json:"median_lower"`
	MedianUpper stats.Float `json:"median_upper"`
	Steps       []KMStep    `json:"steps"`
}

// KMStep is a step of a Kaplan-Meier curve.
type KMStep struct {
	Time       float64     `json:"time"`
	NRisk      Count       `json:"n_risk"`
	Surv       stats.Float `json:"surv"`
	Lower      stats.Float `json:"lower"`
	Upper      stats.Float `json:"upper"`
	Suppressed bool        `json:"suppressed,omitempty"`
}

// Rates is a rates result: crude (and, when standardized, directly
// standardized) rates per group, with rate ratios against the reference
// group.
type Rates struct {
	Per       float64 `json:"per"`
	ConfLevel float64 `json:"conf_level"`
	TimeUnit  string  `json:"time_unit"` // "person-years"
	// Reference is the group the rate ratios compare with: the covariate's
	// reference in the protocol, else the first group (absent without
	// groups, and in documents written before it was recorded).
	Reference    *string     `json:"reference,omitempty"`
	Groups       []GroupRate `json:"groups"`
	Standardized bool        `json:"standardized"`
}

// GroupRate is one group's rate with its event count null below MinCount.
type GroupRate struct {
	*stats.GroupRate
	Events     Count `json:"events"`
	Suppressed bool  `json:"suppressed,omitempty"`
}

// Logistic is a logistic result: the stats shape with the row and event
// counts null below MinCount.
type Logistic struct {
	*stats.LogisticResult
	Horizon    int   `json:"horizon"` // days from follow-up start
	N          Count `json:"n"`
	Events     Count `json:"events"` // entries with the outcome within the horizon
	Suppressed bool  `json:"suppressed,omitempty"`
}

// Linear is a linear result.
type Linear struct {
	*stats.LinearResult
	Dependent  string `json:"dependent"`
	N          Count  `json:"n"`
	Suppressed bool   `json:"suppressed,omitempty"`
}

// VarType is the type of a covariate in a descriptive table.
type VarType string

// The types of covariate in a descriptive table.
const (
	VarContinuous  VarType = "continuous"
	VarBinary      VarType = "binary"
	VarCategorical VarType = "categorical"
)

// Descriptive is a descriptive table ("table 1"): each covariate's
// distribution by group, with standardized mean differences of every group
// against the reference group.
type Descriptive struct {
	By        string      `json:"by,omitempty"`
	Reference *string     `json:"reference"` // the group SMDs compare against; null without by
	Groups    []DescGroup `json:"groups"`    // in stats.SortLevels order
	Variables []DescVar   `json:"variables"` // in the analysis's order
}

// DescGroup is one group of a descriptive table and its size.
type DescGroup struct {
	Group      *string `json:"group"` // null without by
	N          Count   `json:"n"`
	Suppressed bool    `json:"suppressed,omitempty"`
}

// DescVar is one covariate of a descriptive table.
type DescVar struct {
	Covariate string  `json:"covariate"`
	Type      VarType `json:"type"`
	// Groups holds per group the non-missing and missing counts and, for a
	// continuous covariate, mean, SD, median and quartiles; for a binary
	// one, the count and percentage of true.
	Groups []DescCell `json:"groups"`
	// Levels holds, for a categorical covariate, each level's count and
	// percentage per group.
	Levels []DescLevel `json:"levels,omitempty"`
	// SMD is each group's standardized difference against the reference
	// (null for the reference itself, and when a count it derives from is
	// suppressed).
	SMD []stats.Float `json:"smd"`
}

// DescCell is one covariate in one group.
type DescCell struct {
	N          Count        `json:"n"` // rows with a value
	Missing    Count        `json:"missing"`
	Count      Count        `json:"count,omitempty"`   // binary: rows with true
	Percent    *stats.Float `json:"percent,omitempty"` // binary: count ÷ n × 100
	Mean       *stats.Float `json:"mean,omitempty"`    // continuous (null when n is suppressed)
	SD         *stats.Float `json:"sd,omitempty"`      // sample standard deviation (n − 1)
	Median     *stats.Float `json:"median,omitempty"`  // quantiles as R's type 7
	Q1         *stats.Float `json:"q1,omitempty"`
	Q3         *stats.Float `json:"q3,omitempty"`
	Suppressed bool         `json:"suppressed,omitempty"`
}

// DescLevel is one level of a categorical covariate, per group.
type DescLevel struct {
	Level  string         `json:"level"`
	Groups []DescLevelCut `json:"groups"`
}

// DescLevelCut is a level's count and percentage (of the group's rows with
// a value) in one group.
type DescLevelCut struct {
	Count      Count       `json:"count"`
	Percent    stats.Float `json:"percent"`
	Suppressed bool        `json:"suppressed,omitempty"`
}

// Stratified is an analysis computed within each class of a baseline
// covariate (stratify_by), classes in stats.SortLevels order. It is
// decoded only as the Result of an AnalysisResult, whose kind gives the
// classes' type.
type Stratified struct {
	StratifyBy string  `json:"stratify_by"`
	Classes    []Class `json:"classes"`
}

// Class is an analysis within one class: its rows (null below MinCount)
// and its result in the kind's shape (never *Stratified), or why it failed.
type Class struct {
	Class      string   `json:"class"`
	N          Count    `json:"n"`
	Suppressed bool     `json:"suppressed,omitempty"`
	Result     Result   `json:"result"`
	Error      string   `json:"error,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
}

// UnmarshalJSON reads a cell, keeping a null statistic (an NA: the SD of
// one row, say) apart from an absent one, so that the cell encodes again
// to the same bytes.
func (c *DescCell) UnmarshalJSON(b []byte) error {
	type plain DescCell
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	for key, ptr := range map[string]**stats.Float{
		"percent": &p.Percent, "mean": &p.Mean, "sd": &p.SD, "median": &p.Median, "q1": &p.Q1, "q3": &p.Q3,
	} {
		if raw, ok := keys[key]; ok && string(raw) == "null" {
			na := stats.NA
			*ptr = &na
		}
	}
	*c = DescCell(p)
	return nil
}
