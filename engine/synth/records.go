package synth

// noDay marks an absent date (open spell, no death).
const noDay = -1 << 31

// Person is one simulated person and every row the flows hold about them.
// Dates are day numbers since 1970-01-01.
type Person struct {
	ID                int64
	Sex               byte // 'F' or 'M'
	Birth             int
	Death             int // noDay when alive (or dead unseen, abroad)
	BirthMunicipality string

	Spells     []Spell
	Discharges []Discharge
	Dispensing []Dispensing // pharmacy and direct distribution
	Exemptions []Exemption
	ER         []Access
	Outpatient []Service
	CeDAP      []Delivery
	// Newborns are the children born to this person in the period; they
	// are written right after her.
	Newborns []*Person

	// Latent is what the simulation knew but the flows do not say; tests
	// use it to check the generator, studies never see it.
	Latent Latent
}

// Latent holds a person's unobserved simulation state.
type Latent struct {
	// Onset ages (years; +Inf when never) of the chronic conditions.
	Diabetes, Hypertension, HeartFailure, COPD, Cancer float64
	// NewUser is set when the person started C09A ("A") or C09C ("B") in
	// the period (truth T1), with the index day and the model's covariates.
	NewUser     string
	IndexDay    int
	IndexAge    float64
	IndexDiab   bool
	NSAIDClass  int // 0 never, 1 occasional, 2 frequent
	Immigrant   bool
	Anomalous   bool // carries an anomaly of truth T4
	ObservedEnd int  // last observed day
}

// Spell is an enrolment spell.
type Spell struct {
	Start, End   int // End noDay: open
	ASL          int // index in Params.ASLs
	Municipality string
	GP           string
	EndReason    string
}

// Discharge is a hospital discharge record (SDO).
type Discharge struct {
	ID, Hospital          string
	Admission, Discharge  int
	Regime, AdmissionType string
	Mode, Ward, DRG       string
	Tariff                float64
	Dx                    []string // principal first, then up to 5 secondary
	Proc                  []string // principal first
	ProcDate              []int
	Reason                string // kind of admission (not written): ami, gi, hip, generic, ...
}

// Dispensing is a pharmacy or direct-distribution row.
type Dispensing struct {
	Day        int
	Product    int // index in products
	Packs      float64
	Prescriber string
	Cost       float64
	Copay      float64
	Channel    string // direct distribution only
}

// Exemption is a co-pay exemption.
type Exemption struct {
	Code       string
	Start, End int // End noDay: open
}

// Access is an emergency-room access.
type Access struct {
	ID       string
	Day      int
	Minute   int
	Triage   string
	Outcome  string
	Admitted bool
	Dx       []string
}

// Service is an outpatient service.
type Service struct {
	Day    int
	Code   string
	Qty    float64
	Tariff float64
}

// Delivery is a CeDAP record: one per newborn of a delivery.
type Delivery struct {
	ID        string
	Day       int
	Weeks     int
	Mode      string // "vaginale" or "cesareo"
	Plurality int
	Newborn   int64
	Sex       byte
	WeightG   int
	Apgar5    int
}
