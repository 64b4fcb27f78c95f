-- Team invitations (#15): an owner invites someone by e-mail; the e-mailed link lets them
-- choose their password once, within 48 hours. As for password resets, only the SHA-256 of
-- the token is kept, so the table cannot be used to join anyone's tenant. Credentials, not
-- business facts: kept here, never in events.
CREATE TABLE user_invitations (
    id          uuid        PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    -- Lowercased, as `users.email`.
    email       text        NOT NULL CHECK (email = lower(email)),
    role        text        NOT NULL CHECK (role IN ('agent')),
    token_hash  bytea       NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    invited_by  uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    -- Set when the invitee chose a password; `user_id` is the account it created.
    accepted_at timestamptz,
    user_id     uuid        REFERENCES users (id) ON DELETE SET NULL,
    revoked_at  timestamptz,
    CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
CREATE INDEX user_invitations_tenant_idx ON user_invitations (tenant_id, created_at);
