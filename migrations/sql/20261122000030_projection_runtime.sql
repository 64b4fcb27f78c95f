-- Events a stream consumer gave up on. The row is written in the transaction that moves the
-- consumer's checkpoint past the event, so an event is either applied, parked or pending.
CREATE TABLE parked_events (
    consumer       text        NOT NULL,
    position       bigint      NOT NULL,
    tx_id          bigint      NOT NULL,
    event_type     text        NOT NULL,
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    error          text        NOT NULL,
    attempts       integer     NOT NULL,
    parked_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, position)
);
