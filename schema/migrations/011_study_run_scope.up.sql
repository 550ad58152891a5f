-- What the study service records of a run for the web API (engine/study,
-- issue 16), additively: the ASLs the run's population was restricted to
-- (the submitting user's data scope; empty: the whole region), and the
-- protocol's design warnings found at submission (cohort.Check), which the
-- results document repeats. Runs older than this migration have neither.
-- study_id (the saved study, with reuse of unchanged steps by study) has
-- been there since 001.

ALTER TABLE study_run
    ADD COLUMN scope    text[] NOT NULL DEFAULT '{}',
    ADD COLUMN warnings jsonb  NOT NULL DEFAULT '[]';

-- List: a user's runs, newest first.
CREATE INDEX study_run_submitter_idx ON study_run (submitted_by, id DESC);
