-- Read model: one row per tenant for the admin directory (F43). Only non-personal fields:
-- the owner's e-mail and the display number are sealed in the events and stay out of here.
CREATE TABLE tenant_directory (
    tenant_id       uuid        PRIMARY KEY,
    name            text        NOT NULL,
    plan            text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('active', 'suspended')),
    -- Meta's id of the number, not the number itself; not unique here because the claim
    -- table already enforces it and a read model must never refuse an event.
    phone_number_id text,
    registered_at   timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    -- The tenant aggregate's last applied sequence: the guard against applying twice.
    last_sequence   bigint      NOT NULL,
    last_position   bigint      NOT NULL
);
CREATE INDEX tenant_directory_status_idx ON tenant_directory (status, tenant_id);
CREATE INDEX tenant_directory_phone_idx ON tenant_directory (phone_number_id)
    WHERE phone_number_id IS NOT NULL;
