-- Consumers reading the stream from Kafka (F61).
--
-- Kafka delivers at least once: a relay retry or a partition moving to another worker
-- redelivers events. Each Kafka consumer records, per aggregate, the last sequence it
-- applied, in the transaction that applies the effect; an event at or below it is a
-- duplicate and is skipped. One partition carries one aggregate's events in sequence order,
-- so "the last sequence" is all a consumer needs to remember.
CREATE TABLE stream_dedup (
    consumer       text   NOT NULL,
    aggregate_type text   NOT NULL,
    aggregate_id   text   NOT NULL,
    last_sequence  bigint NOT NULL,
    PRIMARY KEY (consumer, aggregate_type, aggregate_id)
);
