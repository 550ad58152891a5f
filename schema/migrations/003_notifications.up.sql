-- Every notification about an import, per channel, with its outcome: the
-- record that the admins were told (or why they could not be).
CREATE TABLE etl_notification (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    import_id  bigint,
    channel    text NOT NULL CHECK (channel IN ('webhook', 'email')),
    subject    text NOT NULL,
    ok         boolean NOT NULL,
    error      text NOT NULL DEFAULT '',
    sent_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX etl_notification_import_idx ON etl_notification (import_id);
