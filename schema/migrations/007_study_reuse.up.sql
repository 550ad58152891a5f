-- Reuse of unchanged steps, deletion and disk use of runs, and the data end
-- of each data version (engine/study/reuse.go, docs/results.md).
--
-- A step's identity is the hash of its definition compiled for a neutral
-- schema, its inputs' identities and the data version: equal identities
-- write equal tables whatever run they belong to. A new run's step whose
-- identity equals a done step of an earlier run of the same study takes
-- that step's table (a view in the new run's schema onto it) instead of
-- running. The table lives in the schema of table_run; when that run is
-- deleted or cancelled, the table moves into the schema of a run that
-- reuses it, and table_run follows.

ALTER TABLE study_step
    ADD COLUMN identity    text,    -- hex SHA-256, schema-independent
    ADD COLUMN table_name  text,    -- the relation's name in the run's schema
    ADD COLUMN table_run   bigint,  -- the run whose schema holds the table; NULL once dropped
    ADD COLUMN reused_from bigint;  -- the run whose table this step took instead of running

CREATE INDEX study_step_identity_idx ON study_step (identity) WHERE state = 'done';
CREATE INDEX study_step_table_run_idx ON study_step (table_run, table_name);

-- The last day of data of a data version (study.DataEnd), computed once:
-- it scans every flow table, and a version's rows never change.
CREATE TABLE study_data_end (
    data_version bigint PRIMARY KEY,
    data_end     date NOT NULL,
    computed_at  timestamptz NOT NULL DEFAULT now()
);
