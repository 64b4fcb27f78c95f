-- The audit log of rejected attempts (F46): every request the API refused with 401, 403 or
-- 429 (failed sign-ins, bad or expired tokens, forbidden roles or tenants, blocked IPs).
-- Not an event: a refusal changes no business state, and nothing may replay it; it is no
-- projection's table either, so a replay never rebuilds (nor wipes) it.
CREATE TABLE rejected_attempts (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    request_id  uuid        NOT NULL,
    -- Same policy as login throttling: the peer, or X-Forwarded-For behind a trusted proxy.
    client_ip   inet,
    method      text        NOT NULL,
    -- Without the query string: queries may carry personal data (a contact's number).
    path        text        NOT NULL,
    status      smallint    NOT NULL CHECK (status IN (401, 403, 429)),
    code        text        NOT NULL,
    reason      text        NOT NULL,
    -- Who, when the request carried a valid token (a 403); unknown for a 401.
    actor_id    uuid,
    actor_role  text,
    tenant_id   uuid
);
CREATE INDEX rejected_attempts_at_idx ON rejected_attempts (at, id);
CREATE INDEX rejected_attempts_tenant_idx ON rejected_attempts (tenant_id, at, id)
    WHERE tenant_id IS NOT NULL;
CREATE INDEX rejected_attempts_actor_idx ON rejected_attempts (actor_id, at, id)
    WHERE actor_id IS NOT NULL;

-- The audit log reads events in time order next to the attempts above.
CREATE INDEX events_recorded_at_idx ON events (recorded_at, position);
