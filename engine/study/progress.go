package study

import "time"

// Progress is where a run stands.
type Progress struct {
	RunID       int64         `json:"run_id"`
	State       State         `json:"state"`
	Error       string        `json:"error,omitempty"`
	StepsDone   int           `json:"steps_done"` // reused steps included
	StepsReused int           `json:"steps_reused"`
	StepsTotal  int           `json:"steps_total"`
	Percent     float64       `json:"percent"`
	Elapsed     time.Duration `json:"elapsed_ns"`
	// ETA is the estimated time left (eta.go); null until a step of every
	// kind still to run has finished in this run.
	ETA         *time.Duration `json:"eta_ns"`
	DataVersion int64          `json:"data_version"`
	Schema      string         `json:"schema"`
	DiskBytes   int64          `json:"disk_bytes"` // held by the run's schema (DiskBytes)
	Steps       []StepProgress `json:"steps"`
	// StudyID is the saved study the run belongs to (0: none, the CLI's).
	StudyID int64 `json:"study_id,omitempty"`
	// StudyVersion is the saved study's version the run ran (0: none).
	StudyVersion int   `json:"study_version,omitempty"`
	SubmittedBy  int64 `json:"submitted_by,omitempty"` // an app_user id, 0 for none
	// Scope lists the ASLs the run's population is restricted to.
	Scope []string `json:"scope,omitempty"`
	// Warnings are the protocol's design warnings (cohort.Check), found at
	// submission.
	Warnings []string `json:"warnings,omitempty"`
}

// StepProgress is where one step stands.
type StepProgress struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Partition int    `json:"partition"`
	State     State  `json:"state"`
	Attempts  int    `json:"attempts"`
	Rows      *int64 `json:"rows,omitempty"`
	WallMS    *int64 `json:"wall_ms,omitempty"`
	Error     string `json:"error,omitempty"`
	// ReusedFrom is the earlier run whose table the step took instead of
	// running (reuse.go).
	ReusedFrom *int64 `json:"reused_from,omitempty"`

	started, finished *time.Time // for the ETA (eta.go)
}

// Ended reports whether the run will not change any more.
func (p *Progress) Ended() bool { return p.State.Ended() }
