-- The study engine (engine/study): what a run was compiled with, and one
-- row per step of its plan. A step's "done" mark is written in the same
-- transaction as its table, so a step found done is never run again.

ALTER TABLE study_run
    ADD COLUMN params      jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN schema_name text,
    ADD COLUMN partitions  integer,
    ADD COLUMN data_end    date;

CREATE TABLE study_step (
    run_id      bigint NOT NULL REFERENCES study_run (id) ON DELETE CASCADE,
    name        text NOT NULL,             -- the plan's step name, e.g. "index_p3"
    kind        text NOT NULL,             -- the stage: event, index, criteria, ...
    partition   integer NOT NULL,
    step_id     text NOT NULL,             -- hex SHA-256 identity (cohort.Step.ID)
    depends_on  text[] NOT NULL DEFAULT '{}',
    state       text NOT NULL DEFAULT 'waiting'
                CHECK (state IN ('waiting', 'queued', 'running', 'done', 'failed', 'cancelled')),
    job_id      bigint,                    -- the River job that works it, once queued
    attempts    integer NOT NULL DEFAULT 0,
    rows        bigint,
    wall_ms     bigint,
    error       text,
    queued_at   timestamptz,
    started_at  timestamptz,
    finished_at timestamptz,
    PRIMARY KEY (run_id, name)
);
CREATE INDEX study_step_waiting_idx ON study_step (run_id) WHERE state = 'waiting';
