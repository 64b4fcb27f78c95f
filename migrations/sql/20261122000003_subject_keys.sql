-- Crypto-shredding: every data subject's personal data in events is sealed under keys kept
-- here, never in events. Destroying a subject's rows makes its data unreadable everywhere
-- (erasure); rotating subjects get a key per day so old days can be destroyed (retention).
CREATE TABLE subject_keys (
    key_id     uuid        PRIMARY KEY,
    subject    text        NOT NULL,
    period     date        NOT NULL,
    rotates    boolean     NOT NULL,
    tenant_id  uuid,
    -- The subject key, encrypted by the master key (which lives outside the database).
    wrapped    bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subject, period)
);
CREATE INDEX subject_keys_expiry_idx ON subject_keys (period) WHERE rotates;

-- A value sealed with the master key: a process started with another master key refuses to
-- run instead of writing data no other process could read.
CREATE TABLE master_key_check (
    id         smallint    PRIMARY KEY CHECK (id = 1),
    wrapped    bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
