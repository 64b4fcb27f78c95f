-- Access (F30, F31, F33): users, refresh tokens and login attempts. These are credentials,
-- not business facts, so they live here and never in events: a password change must not be
-- replayable, and a hash must never reach the log, its exports or its copies.

CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    -- Stored lowercased (checked), so uniqueness is case-insensitive without citext, which
    -- an external PostgreSQL may not have installed.
    email         text        NOT NULL UNIQUE CHECK (email = lower(email)),
    -- argon2id in PHC string format (algorithm, parameters and salt travel with the hash).
    password_hash text        NOT NULL,
    role          text        NOT NULL
                  CHECK (role IN ('owner', 'agent', 'admin', 'super_admin', 'auditor')),
    -- Tenant users belong to exactly one tenant; platform users to none.
    tenant_id     uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz,
    CHECK ((role IN ('owner', 'agent')) = (tenant_id IS NOT NULL))
);
CREATE INDEX users_tenant_idx ON users (tenant_id) WHERE tenant_id IS NOT NULL;

-- Only SHA-256 hashes of refresh tokens are kept: a leaked table cannot be replayed. Tokens
-- rotate on every use; all tokens descending from one login share a family, so replaying a
-- rotated token (a sign it was stolen) revokes the whole family.
CREATE TABLE refresh_tokens (
    token_hash  bytea       PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   uuid        NOT NULL,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    -- Set when rotated (the successor was issued), logged out or revoked with its family.
    revoked_at  timestamptz,
    -- Set only by rotation: reuse of such a token is theft, not a stale client.
    replaced_at timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Every login attempt, kept as evidence and as the input of IP blocking.
CREATE TABLE login_attempts (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    ip         inet        NOT NULL,
    -- As typed (lowercased), whether or not such a user exists.
    email      text        NOT NULL,
    success    boolean     NOT NULL,
    -- Refused unchecked because the IP was blocked; does not extend the block.
    blocked    boolean     NOT NULL DEFAULT false,
    -- Set when an admin unblocks the IP: the failure no longer counts towards a block.
    cleared_at timestamptz
);
CREATE INDEX login_attempts_failures_idx ON login_attempts (ip, at)
    WHERE NOT success AND NOT blocked AND cleared_at IS NULL;
