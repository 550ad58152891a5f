-- Failed sign-ins, counted for the limit that every server process shares
-- (web.RateLimit): several servers behind one balancer allow the limit
-- once between them, not once each. One row per failure and key; the key
-- is a SHA-256 of "name:<user name>" or "addr:<client address>", so that a
-- password typed into the name field is not kept. Times are the
-- database's, so servers' clocks do not matter. Rows older than the
-- window are deleted as new failures come. A bookkeeping table: on Citus
-- it stays on the coordinator.
CREATE TABLE login_failure (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_hash  bytea NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failure_key_idx ON login_failure (key_hash, failed_at);
CREATE INDEX login_failure_at_idx ON login_failure (failed_at);
