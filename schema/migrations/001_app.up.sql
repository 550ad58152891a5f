-- Beaver's own tables: users and their sessions, studies and their runs,
-- and the audit log. Flow tables come with their own migrations.

CREATE TABLE app_user (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9._@-]{1,64}$'),
    role          text NOT NULL CHECK (role IN ('admin', 'analyst')),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

-- A session is stored by the SHA-256 of its token: a leaked table does not
-- leak usable cookies.
CREATE TABLE app_session (
    token_hash   bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX app_session_expires_idx ON app_session (expires_at);

CREATE TABLE study (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id    bigint NOT NULL REFERENCES app_user (id),
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    protocol    jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);

CREATE TABLE study_run (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    study_id        bigint REFERENCES study (id),
    submitted_by    bigint REFERENCES app_user (id),
    state           text NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    protocol        jsonb NOT NULL,
    protocol_hash   text NOT NULL,
    data_version    bigint NOT NULL DEFAULT 0,
    software_version text NOT NULL,
    error           text,
    results         jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz
);
CREATE INDEX study_run_study_idx ON study_run (study_id, created_at DESC);

CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    user_id    bigint REFERENCES app_user (id),
    action     text NOT NULL,
    target     text NOT NULL DEFAULT '',
    detail     jsonb NOT NULL DEFAULT '{}',
    remote_ip  text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
