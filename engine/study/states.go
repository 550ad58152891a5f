package study

// State is the state of a run or of a step, as the database stores it
// (the state columns of runs and steps).
type State string

// Run states; steps take them too.
const (
	StateQueued    State = "queued"
	StateRunning   State = "running"
	StateDone      State = "done"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
)

// StateWaiting is a step's state while some input is not done yet (runs
// are never waiting).
const StateWaiting State = "waiting"

// Ended reports whether a run in state s will not change any more.
func (s State) Ended() bool {
	return s == StateDone || s == StateFailed || s == StateCancelled
}

// Live reports whether a run in state s may still change: queued or
// running.
func (s State) Live() bool { return s == StateQueued || s == StateRunning }
