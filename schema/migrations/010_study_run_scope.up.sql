-- What the study service records of a run for the web API (engine/study,
-- issues 15 and 16), additively: the ASLs the run's population was
-- restricted to (the submitting user's data scope; empty: the whole
-- region), the protocol's design warnings found at submission
-- (cohort.Check), which the results document repeats, and the end of
-- enrolment for protocols that end follow-up there. Runs older than this
-- migration have none of them.
-- study_id (the saved study, with reuse of unchanged steps by study) has
-- been there since 001.

ALTER TABLE study_run
    ADD COLUMN scope         text[] NOT NULL DEFAULT '{}',
    ADD COLUMN warnings      jsonb  NOT NULL DEFAULT '[]',
    -- The latest end of enrolment of the data version, when the protocol's
    -- follow_up.end.data_end is "enrolment" (study.EnrolmentEnd): every
    -- compilation of the run's plan passes it to the compiler.
    ADD COLUMN enrolment_end date;

-- List: a user's runs, newest first.
CREATE INDEX study_run_submitter_idx ON study_run (submitted_by, id DESC);
