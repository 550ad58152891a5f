-- EXPLAIN (ANALYZE, BUFFERS) of a run's steps, on request (`beaver study
-- run --explain`): the step runs its statement under EXPLAIN ANALYZE, which
-- executes it, and keeps the plan with its actual rows, times and buffers.

ALTER TABLE study_run ADD COLUMN explain boolean NOT NULL DEFAULT false;
ALTER TABLE study_step ADD COLUMN explain text;
