-- The web API's access model (issue #11): viewers, data scopes, API
-- tokens, sessions with CSRF tokens and an absolute expiry, saved studies
-- with versions and shares, settings, and imports uploaded through the web.

-- Viewers read what is shared with them and cannot run.
ALTER TABLE app_user DROP CONSTRAINT app_user_role_check;
ALTER TABLE app_user ADD CONSTRAINT app_user_role_check CHECK (role IN ('admin', 'analyst', 'viewer'));
-- The ASLs a user's runs are restricted to; empty: the whole region.
ALTER TABLE app_user ADD COLUMN scope text[] NOT NULL DEFAULT '{}';
-- Bumped on every password change: sessions of an older one end.
ALTER TABLE app_user ADD COLUMN password_changed_at timestamptz NOT NULL DEFAULT now();

-- A session ends when idle (expires_at, slid on use) or at absolute_expires_at.
ALTER TABLE app_session ADD COLUMN absolute_expires_at timestamptz NOT NULL DEFAULT now() + interval '12 hours';
-- The CSRF token of the session, sent back in X-CSRF-Token on every
-- state-changing request that authenticates with the cookie.
ALTER TABLE app_session ADD COLUMN csrf_token text NOT NULL DEFAULT '';
CREATE INDEX app_session_user_idx ON app_session (user_id);

-- Personal API tokens, stored by their SHA-256: shown once at creation.
CREATE TABLE api_token (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    name         text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_token_user_idx ON api_token (user_id);

-- Saved studies: study holds the current version, study_version every save.
ALTER TABLE study ADD COLUMN version integer NOT NULL DEFAULT 1;
CREATE INDEX study_owner_idx ON study (owner_id) WHERE deleted_at IS NULL;

CREATE TABLE study_version (
    study_id    bigint NOT NULL REFERENCES study (id),
    version     integer NOT NULL,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    protocol    jsonb NOT NULL,
    saved_by    bigint REFERENCES app_user (id),
    saved_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (study_id, version)
);

CREATE TABLE study_share (
    study_id   bigint NOT NULL REFERENCES study (id),
    user_id    bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    access     text NOT NULL CHECK (access IN ('read')),
    shared_by  bigint REFERENCES app_user (id),
    shared_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (study_id, user_id)
);
CREATE INDEX study_share_user_idx ON study_share (user_id);

-- Settings an admin may change (min_count, ...), one JSON value per key.
CREATE TABLE app_setting (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint REFERENCES app_user (id)
);

-- Imports uploaded through the web: the files are written under the data
-- dir, then a River job imports them (never inside the request).
CREATE TABLE web_import (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint REFERENCES app_user (id),
    state       text NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'running', 'published', 'unchanged', 'failed')),
    dir         text NOT NULL,
    files       jsonb NOT NULL DEFAULT '[]',
    bytes       bigint NOT NULL DEFAULT 0,
    import_id   bigint,
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

CREATE INDEX audit_log_user_idx ON audit_log (user_id, at DESC);
