-- Leases (engine/study/lease.go): a process working a step, or a run's
-- results, holds a lease that a heartbeat renews every few seconds. A lease
-- that ran out belongs to a dead process; the sweeper enqueues the work
-- again within a minute, long before River's rescuer (JobTimeout + 1 min).

ALTER TABLE study_step
    ADD COLUMN lease_owner text,         -- host/pid/random of the working process
    ADD COLUMN lease_until timestamptz;  -- renewed while the step's SQL runs

-- The lease of the results job of a run whose steps are all done.
ALTER TABLE study_run
    ADD COLUMN lease_owner text,
    ADD COLUMN lease_until timestamptz;

CREATE INDEX study_step_active_idx ON study_step (lease_until) WHERE state IN ('queued', 'running');
