-- Read model: every aggregate, its tenant and how far it has got. Rebuilt from the
-- stream by the `aggregate_index` projection.
CREATE TABLE aggregate_index (
    aggregate_type  text        NOT NULL,
    aggregate_id    text        NOT NULL,
    tenant_id       uuid,
    last_sequence   bigint      NOT NULL,
    last_event_type text        NOT NULL,
    last_position   bigint      NOT NULL,
    first_seen_at   timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
);
CREATE INDEX aggregate_index_tenant_idx ON aggregate_index (tenant_id, aggregate_type);
