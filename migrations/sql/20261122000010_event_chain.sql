-- Tamper evidence for the event log (F47): the `event_chain` consumer links every event, in
-- tail order, into a SHA-256 hash chain; `atende audit verify` recomputes it from `events`.
-- The link encoding is documented in projections/src/audit/mod.rs.

CREATE TABLE event_chain (
    -- 1, 2, 3, … without gaps: a missing number is itself evidence of tampering.
    link_no  bigint PRIMARY KEY CHECK (link_no > 0),
    -- The sealed event. Unique: an event is linked exactly once.
    position bigint NOT NULL UNIQUE,
    -- SHA-256(previous hash ‖ the event's stored columns).
    hash     bytea  NOT NULL CHECK (octet_length(hash) = 32)
);

-- The head of the chain every so often. Someone who edits an event and recomputes every later
-- link still disagrees with the checkpoints recorded before the edit (or copied elsewhere).
CREATE TABLE event_chain_checkpoints (
    link_no     bigint      PRIMARY KEY,
    position    bigint      NOT NULL,
    hash        bytea       NOT NULL CHECK (octet_length(hash) = 32),
    recorded_at timestamptz NOT NULL DEFAULT now()
);
