package synth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
)

// Config is one generation run: the region's size and period, the seed,
// the realism parameters and the planted truths. The zero value of a field
// means its default (see WithDefaults).
type Config struct {
	// Persons is the number of residents on 1 January of StartYear
	// (immigrants and newborns come on top).
	Persons int
	// Years is the length of the period, in calendar years (default 8).
	Years int
	// StartYear is the first calendar year (default 2012).
	StartYear int
	// Seed makes the run reproducible: same Config, same bytes.
	Seed uint64
	// Anomalies adds the documented data-quality anomalies of truth T4.
	Anomalies bool
	// Workers is the number of goroutines simulating persons (default
	// GOMAXPROCS). It never changes the output.
	Workers int
	// ChunkSize is the number of persons simulated as one unit of work
	// (default 512). It never changes the output.
	ChunkSize int
	// Params are the realism parameters (nil: DefaultParams).
	Params *Params
	// Truth are the planted effects (nil: DefaultTruth).
	Truth *Truth
}

// WithDefaults returns the config with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Years == 0 {
		c.Years = 8
	}
	if c.StartYear == 0 {
		c.StartYear = 2012
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.ChunkSize <= 0 {
		c.ChunkSize = 512
	}
	if c.Params == nil {
		p := DefaultParams()
		c.Params = &p
	}
	if c.Truth == nil {
		t := DefaultTruth()
		c.Truth = &t
	}
	return c
}

// Validate reports a config that cannot be generated.
func (c Config) Validate() error {
	switch {
	case c.Persons < 1:
		return errors.New("synth: persons must be at least 1")
	case c.Persons > 100_000_000:
		return errors.New("synth: persons must be at most 100,000,000")
	case c.Years < 1 || c.Years > 50:
		return errors.New("synth: years must be between 1 and 50")
	case c.StartYear < 1960 || c.StartYear+c.Years > 2100:
		return errors.New("synth: the period must lie between 1960 and 2099")
	}
	if c.Truth != nil {
		if err := c.Truth.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// ASL is a local health authority of the synthetic region.
type ASL struct {
	Code string `json:"code"`
	// Share is the ASL's share of the residents.
	Share float64 `json:"share"`
	// AgeTilt tilts the age pyramid: each 5-year band's weight is
	// multiplied by exp(AgeTilt × (band midpoint − 45) / 10). Positive: an
	// older population.
	AgeTilt float64 `json:"age_tilt"`
	// Municipalities are the ISTAT-like codes of its municipalities.
	Municipalities []string `json:"municipalities"`
}

// Onset is the age-dependent incidence of a chronic condition: a Gompertz
// hazard Rate60 × exp(Slope × (age − 60)) per person-year from MinAge on,
// times MaleRR for men. Onsets are drawn over the whole life, so persons
// already have the condition when the period starts (prevalent cases).
type Onset struct {
	MinAge float64 `json:"min_age"`
	Rate60 float64 `json:"rate_60"`
	Slope  float64 `json:"slope"`
	MaleRR float64 `json:"male_rr"`
}

// Params are the realism parameters of the synthetic region. Defaults and
// their sources are listed in docs/synthetic.md.
type Params struct {
	// Pyramid is the share of the population in 5-year age bands 0-4, 5-9,
	// ..., 100-104 (ISTAT 1 January 2019, Italy, rounded).
	Pyramid []float64 `json:"pyramid"`
	// MaleShare is the share of men in each band of Pyramid.
	MaleShare []float64 `json:"male_share"`
	ASLs      []ASL     `json:"asls"`
	// PatientsPerGP sets the number of GPs of an ASL: its adult residents
	// divided by this (at least one); children under 14 have a paediatrician
	// (PatientsPerPaediatrician).
	PatientsPerGP            int `json:"patients_per_gp"`
	PatientsPerPaediatrician int `json:"patients_per_paediatrician"`

	// Mortality is a Gompertz-Makeham hazard: MortalityAt80[sex] ×
	// exp(MortalitySlope × (age − 80)) + MortalityMakeham, plus
	// InfantMortality in the first year of life. Index 0 women, 1 men.
	MortalityAt80    [2]float64 `json:"mortality_at_80"`
	MortalitySlope   float64    `json:"mortality_slope"`
	MortalityMakeham float64    `json:"mortality_makeham"`
	InfantMortality  float64    `json:"infant_mortality"`
	// Excess mortality multipliers while a condition is present.
	MortalityRRDiabetes, MortalityRRHeartFailure, MortalityRRCOPD, MortalityRRCancer float64

	// Emigration is the yearly hazard of leaving the region; EmigrantReturn
	// the probability of coming back, after a gap of mean ReturnGapYears.
	Emigration     float64 `json:"emigration"`
	EmigrantReturn float64 `json:"emigrant_return"`
	ReturnGapYears float64 `json:"return_gap_years"`
	// Immigration is the yearly number of immigrants per resident of the
	// start population.
	Immigration float64 `json:"immigration"`
	// Moves is the yearly hazard of moving to another municipality (a new
	// spell), MoveOtherASL the probability the new one is in another ASL;
	// GPChange the yearly hazard of changing GP.
	Moves        float64 `json:"moves"`
	MoveOtherASL float64 `json:"move_other_asl"`
	GPChange     float64 `json:"gp_change"`

	// Fertility are births per woman-year in the 5-year bands 15-19 ... 45-49.
	Fertility []float64 `json:"fertility"`
	Twins     float64   `json:"twins"`
	Preterm   float64   `json:"preterm"`
	// Caesarean is the probability of a caesarean delivery for a term
	// singleton; preterm and multiple births have CaesareanHigh.
	Caesarean     float64 `json:"caesarean"`
	CaesareanHigh float64 `json:"caesarean_high"`
	MaleBirths    float64 `json:"male_births"`

	Diabetes, Hypertension, HeartFailure, COPD, Cancer Onset

	// CancerCured and CancerSurvivalYears give the relative survival after
	// a cancer, S(t) = cured + (1 − cured) × exp(−t / years) at t years
	// from diagnosis. A person whose drawn cancer came before they entered
	// the region enters with it only with probability S; otherwise they
	// stand for someone who had no cancer by then (the dead do not enter),
	// and their onset is drawn again from the entry age on. So the
	// prevalence at entry counts survivors, as the registries' does.
	CancerCured         float64 `json:"cancer_cured"`
	CancerSurvivalYears float64 `json:"cancer_survival_years"`

	// HypertensionTreated is the share of hypertensives who are treated;
	// HypertensionStart the yearly hazard that an untreated, diagnosed
	// hypertensive starts therapy; C09Share the share of starters whose
	// first drug is a renin-angiotensin agent (the others start amlodipine).
	HypertensionTreated float64 `json:"hypertension_treated"`
	HypertensionStart   float64 `json:"hypertension_start"`
	C09Share            float64 `json:"c09_share"`
	// DiabetesTreated is the share of diabetics on metformin, Insulin the
	// share on insulin (direct distribution), Statin the share of diabetics
	// and heart-failure patients on a statin.
	DiabetesTreated, Insulin, Statin float64
	// Exemption probabilities once a condition is present.
	ExemptDiabetes, ExemptHypertension, ExemptHeartFailure, ExemptCOPD, ExemptCancer float64

	// Adherence: a person's proportion of days covered on a chronic drug is
	// Beta(AdherenceA, AdherenceB); Discontinuation is the yearly hazard of
	// stopping it, Restart the probability of starting again after a gap of
	// mean RestartGapDays.
	AdherenceA, AdherenceB float64
	Discontinuation        float64 `json:"discontinuation"`
	Restart                float64 `json:"restart"`
	RestartGapDays         float64 `json:"restart_gap_days"`

	// Discharges scales the national age/sex discharge rates (SDO 2022);
	// UrgentShare is the share of generic admissions that come through the
	// emergency room. ChronicAdmissions are the yearly admissions for
	// heart failure, COPD and cancer (chemotherapy day hospital) patients.
	Discharges        float64    `json:"discharges"`
	UrgentShare       float64    `json:"urgent_share"`
	ChronicAdmissions [3]float64 `json:"chronic_admissions"`
	// ER is the yearly rate of emergency-room accesses not followed by an
	// admission, per age band 0-4, 5-14, 15-44, 45-64, 65-74, 75+.
	ER []float64 `json:"er"`
	// Outpatient is the yearly rate of outpatient contacts (one or more
	// services on one day) in the same age bands.
	Outpatient []float64 `json:"outpatient"`
	// Antibiotic courses and PPI courses per person-year.
	Antibiotics, PPI float64
	// NSAID use: the share of adults who are occasional or frequent users
	// (frequent: FrequentOld from age 65) and their yearly episode rates.
	NSAIDOccasional, NSAIDFrequent, NSAIDFrequentOld float64
	NSAIDOccasionalRate, NSAIDFrequentRate           float64
	// Copay is the co-payment per pack in euro when no exemption applies.
	Copay float64 `json:"copay"`
}

// DefaultParams returns the documented defaults (docs/synthetic.md).
func DefaultParams() Params {
	return Params{
		Pyramid: []float64{4.0, 4.6, 4.7, 4.8, 5.0, 5.3, 5.6, 6.4, 7.5, 8.0, 8.0, 7.2, 6.3,
			6.3, 5.6, 4.8, 3.7, 2.3, 1.0, 0.25, 0.03},
		MaleShare: []float64{0.514, 0.514, 0.514, 0.515, 0.515, 0.51, 0.505, 0.5, 0.5, 0.495, 0.49, 0.485, 0.48,
			0.475, 0.465, 0.445, 0.42, 0.37, 0.3, 0.22, 0.15},
		ASLs: []ASL{
			{Code: "301", Share: 0.36, AgeTilt: -0.12, Municipalities: []string{"099001", "099002", "099003", "099004"}},
			{Code: "302", Share: 0.22, AgeTilt: -0.02, Municipalities: []string{"099011", "099012", "099013", "099014"}},
			{Code: "303", Share: 0.18, AgeTilt: 0.03, Municipalities: []string{"098001", "098002", "098003"}},
			{Code: "304", Share: 0.14, AgeTilt: 0.22, Municipalities: []string{"098011", "098012", "098013", "098014", "098015"}},
			{Code: "305", Share: 0.10, AgeTilt: 0.12, Municipalities: []string{"097001", "097002", "097003"}},
		},
		PatientsPerGP:            1200,
		PatientsPerPaediatrician: 850,

		MortalityAt80:           [2]float64{0.022, 0.037},
		MortalitySlope:          0.105,
		MortalityMakeham:        0.0002,
		InfantMortality:         0.0028,
		MortalityRRDiabetes:     1.4,
		MortalityRRHeartFailure: 2.5,
		MortalityRRCOPD:         1.6,
		MortalityRRCancer:       2.5,

		Emigration:     0.006,
		EmigrantReturn: 0.25,
		ReturnGapYears: 2,
		Immigration:    0.007,
		Moves:          0.015,
		MoveOtherASL:   0.3,
		GPChange:       0.02,

		Fertility:     []float64{0.003, 0.025, 0.062, 0.085, 0.055, 0.014, 0.001},
		Twins:         0.016,
		Preterm:       0.058,
		Caesarean:     0.28,
		CaesareanHigh: 0.6,
		MaleBirths:    0.514,

		Diabetes:     Onset{MinAge: 20, Rate60: 0.0038, Slope: 0.05, MaleRR: 1.3},
		Hypertension: Onset{MinAge: 18, Rate60: 0.017, Slope: 0.05, MaleRR: 1.1},
		HeartFailure: Onset{MinAge: 40, Rate60: 0.0008, Slope: 0.10, MaleRR: 1.3},
		COPD:         Onset{MinAge: 40, Rate60: 0.0011, Slope: 0.05, MaleRR: 1.5},
		Cancer:       Onset{MinAge: 20, Rate60: 0.007, Slope: 0.06, MaleRR: 1.2},

		CancerCured:         0.5,
		CancerSurvivalYears: 3,

		HypertensionTreated: 0.8,
		HypertensionStart:   0.25,
		C09Share:            0.75,
		DiabetesTreated:     1.0,
		Insulin:             0.25,
		Statin:              0.5,
		ExemptDiabetes:      0.85,
		ExemptHypertension:  0.3,
		ExemptHeartFailure:  0.6,
		ExemptCOPD:          0.4,
		ExemptCancer:        0.9,

		AdherenceA:      4,
		AdherenceB:      1.5,
		Discontinuation: 0.15,
		Restart:         0.4,
		RestartGapDays:  120,

		Discharges:        0.68,
		UrgentShare:       0.28,
		ChronicAdmissions: [3]float64{0.25, 0.12, 0.5},
		ER:                []float64{0.42, 0.27, 0.25, 0.24, 0.27, 0.40},
		Outpatient:        []float64{1.0, 0.8, 1.2, 2.0, 3.0, 3.5},
		Antibiotics:       0.35,
		PPI:               0.15,

		NSAIDOccasional:     0.33,
		NSAIDFrequent:       0.10,
		NSAIDFrequentOld:    0.25,
		NSAIDOccasionalRate: 0.6,
		NSAIDFrequentRate:   4.0,
		Copay:               2.0,
	}
}

// Truth are the planted effects (docs/synthetic.md, "Planted truths"). A
// --truth JSON file overrides any of them; missing members keep their
// defaults.
type Truth struct {
	// T1: new users of C09A (A) vs C09C (B). P(A) = logistic(ChoiceIntercept
	// + ChoiceAge × (age − 65)/10 + ChoiceDiabetes × diabetes). From the
	// first dispensing on, AMI hazard per year = AMIBase × exp(log(AMIAge)
	// × (age − 65)/10) × AMIMale^male × AMIDiabetes^diabetes ×
	// HRComparator^A, age and diabetes at the first dispensing.
	HRComparator    float64 `json:"hr_comparator"`
	AMIBase         float64 `json:"ami_base"`
	AMIAge          float64 `json:"ami_age_per_decade"`
	AMIMale         float64 `json:"ami_male"`
	AMIDiabetes     float64 `json:"ami_diabetes"`
	ChoiceIntercept float64 `json:"choice_intercept"`
	ChoiceAge       float64 `json:"choice_age_per_decade"`
	ChoiceDiabetes  float64 `json:"choice_diabetes"`
	// AMIOther is the AMI hazard of everyone else at 65 (same age, sex and
	// diabetes terms, times AMIHypertension when hypertensive).
	AMIOther        float64 `json:"ami_other"`
	AMIHypertension float64 `json:"ami_hypertension"`

	// T2: GI bleeding hazard per year = GIBase × exp(GISlope × (age − 70))
	// × GIMale^male × HRCurrentUse^(covered by an NSAID dispensing).
	HRCurrentUse float64 `json:"hr_current_use"`
	GIBase       float64 `json:"gi_base"`
	GISlope      float64 `json:"gi_slope"`
	GIMale       float64 `json:"gi_male"`

	// T3: hip fracture hazard per year from age 50 = HipAt80[sex] ×
	// exp(HipSlope × (age − 80)); index 0 women, 1 men.
	HipAt80  [2]float64 `json:"hip_at_80"`
	HipSlope float64    `json:"hip_slope"`

	// T4: the anomalies added with --anomalies.
	Anomalies Anomalies `json:"anomalies"`
}

// Anomalies are the counts of truth T4.
type Anomalies struct {
	// UnknownCodes extra discharges whose principal diagnosis is not an
	// ICD-9-CM code.
	UnknownCodes int `json:"unknown_codes"`
	// FutureDispensings pharmacy rows dated in 2099.
	FutureDispensings int `json:"future_dispensings"`
	// MissingYear: the outpatient flow has no row in StartYear +
	// min(MissingYear, Years−1).
	MissingYear int `json:"missing_year"`
	// HeavyDispensings extra pharmacy rows of one person.
	HeavyDispensings int `json:"heavy_dispensings"`
	// BeforeBirth emergency-room accesses dated before the person's birth.
	BeforeBirth int `json:"before_birth"`
}

// DefaultTruth returns the planted effects' defaults.
func DefaultTruth() Truth {
	return Truth{
		HRComparator:    0.80,
		AMIBase:         0.04,
		AMIAge:          1.6,
		AMIMale:         1.8,
		AMIDiabetes:     2.0,
		ChoiceIntercept: -0.2,
		ChoiceAge:       0.5,
		ChoiceDiabetes:  1.2,
		AMIOther:        0.0015,
		AMIHypertension: 1.5,

		HRCurrentUse: 2.0,
		GIBase:       0.008,
		GISlope:      0.05,
		GIMale:       1.5,

		HipAt80:  [2]float64{0.010, 0.005},
		HipSlope: 0.10,

		Anomalies: Anomalies{UnknownCodes: 40, FutureDispensings: 30, MissingYear: 2, HeavyDispensings: 3000, BeforeBirth: 20},
	}
}

// Validate reports truths that cannot be planted.
func (t Truth) Validate() error {
	pos := map[string]float64{
		"hr_comparator": t.HRComparator, "hr_current_use": t.HRCurrentUse, "ami_base": t.AMIBase,
		"ami_age_per_decade": t.AMIAge, "ami_male": t.AMIMale, "ami_diabetes": t.AMIDiabetes,
		"ami_other": t.AMIOther, "ami_hypertension": t.AMIHypertension, "gi_base": t.GIBase, "gi_male": t.GIMale,
		"hip_at_80 (women)": t.HipAt80[0], "hip_at_80 (men)": t.HipAt80[1],
	}
	for name, v := range pos {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("synth: truth %s must be a positive number, not %v", name, v)
		}
	}
	a := t.Anomalies
	if a.UnknownCodes < 0 || a.FutureDispensings < 0 || a.MissingYear < 0 || a.HeavyDispensings < 0 || a.BeforeBirth < 0 {
		return errors.New("synth: anomaly counts must not be negative")
	}
	return nil
}

// LoadTruth reads a --truth JSON file over the defaults: members present in
// the file replace the defaults, the others stay.
func LoadTruth(path string) (Truth, error) {
	t := DefaultTruth()
	b, err := os.ReadFile(path)
	if err != nil {
		return t, fmt.Errorf("synth: read truth file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return t, fmt.Errorf("synth: truth file %s: %w", path, err)
	}
	return t, t.Validate()
}
