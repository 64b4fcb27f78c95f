-- The event store: postgres-es's tables plus what it lacks (a global position, the
-- recording time and the writing transaction's id, so the tail can follow commit order).

CREATE TABLE events (
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    sequence       bigint      NOT NULL CHECK (sequence > 0),
    event_type     text        NOT NULL,
    event_version  text        NOT NULL,
    payload        jsonb       NOT NULL,
    metadata       jsonb       NOT NULL,
    -- Assigned at insert, not at commit: never tail by position alone.
    position       bigint      GENERATED ALWAYS AS IDENTITY,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    -- Every transaction below the current snapshot's xmin has ended, so rows with a smaller
    -- tx_id can never appear later: the tail reads in (tx_id, position) order up to xmin.
    tx_id          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE UNIQUE INDEX events_position_idx ON events (position);
CREATE INDEX events_tail_idx ON events (tx_id, position);

CREATE TABLE snapshots (
    aggregate_type   text   NOT NULL,
    aggregate_id     text   NOT NULL,
    last_sequence    bigint NOT NULL,
    current_snapshot bigint NOT NULL,
    payload          jsonb  NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
);

-- Where each consumer of the tail (projection, worker) has got to.
CREATE TABLE stream_checkpoints (
    consumer   text        PRIMARY KEY,
    tx_id      bigint      NOT NULL,
    position   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A WhatsApp phone_number_id belongs to at most one tenant. Aggregates cannot see each
-- other, so uniqueness is claimed here by the command side before the event is written.
CREATE TABLE phone_number_claims (
    phone_number_id text        PRIMARY KEY,
    tenant_id       uuid        NOT NULL,
    claimed_at      timestamptz NOT NULL DEFAULT now()
);
