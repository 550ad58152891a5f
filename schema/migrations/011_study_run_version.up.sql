-- The version of the saved study a run ran (study_version), so that a
-- run's page and list say which protocol of the study gave its results.
-- NULL for runs without a study (the CLI) and for runs older than this
-- migration.
ALTER TABLE study_run ADD COLUMN study_version integer;
