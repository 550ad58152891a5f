// Package study runs study runs: it compiles a protocol into a plan
// (cohort.Compile), stores the run and one study_step row per plan step,
// and works the steps as River jobs on the "study_steps" queue, each step
// enqueued once all the steps it reads are done.
//
// Durability: a step's table and its "done" mark commit in one transaction,
// so a job run twice (River is at-least-once) or a run resumed after a
// crash never recomputes a finished step. The successors of a step are
// enqueued in that same transaction, under a lock on the run's row, so each
// is enqueued exactly once.
//
// Each run writes its tables in its own schema (SchemaName).
package study
