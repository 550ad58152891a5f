// Package study runs study runs. Its callers (the CLI, engine/validate, the
// web API) use one Service: Submit compiles a protocol into a plan
// (cohort.Compile), stores the run and one study_step row per plan step,
// and the steps are worked as River jobs on the "study_steps" queue, each
// step enqueued once all the steps it reads are done; Status, Wait,
// Results, Cancel, Delete and List follow and manage runs. Every statement
// on the runs' table is one function of queries.go.
//
// Durability: a step's table and its "done" mark commit in one transaction,
// so a job run twice (River is at-least-once) or a run resumed after a
// crash never recomputes a finished step. The successors of a step are
// enqueued in that same transaction, under a lock on the run's row, so each
// is enqueued exactly once.
//
// Each run writes its tables in its own schema (SchemaName). Its results
// document is a report/results.Document.
package study
