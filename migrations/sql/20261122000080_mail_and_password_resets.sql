-- E-mail (the mailer) and password reset by e-mail (F30).

-- The outbox: one row per e-mail, written in the transaction of whatever caused it, so a
-- mail goes out if and only if its cause committed. The idempotency key names the cause (an
-- event, a request): enqueueing the same key twice keeps the first row, so each cause sends
-- once. Subject and bodies are rendered at enqueue time, so a later template change never
-- alters a mail already promised.
CREATE TABLE mail_outbox (
    id              uuid        PRIMARY KEY,
    idempotency_key text        NOT NULL UNIQUE,
    template        text        NOT NULL,
    locale          text        NOT NULL,
    recipient       text        NOT NULL,
    subject         text        NOT NULL,
    -- Cleared once the mail is sent or given up: bodies carry secrets (generated passwords,
    -- reset links) that must not outlive their delivery in the database.
    text_body       text,
    html_body       text,
    status          text        NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    -- For a queued mail: when it may be tried next (a worker that claims it pushes this
    -- forward by a lease, so a crashed worker's claim expires on its own).
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX mail_outbox_failed_idx ON mail_outbox (created_at) WHERE status = 'failed';

-- Password reset tokens: only their SHA-256 is kept, so the table cannot be used to reset
-- anyone's password. A token works once, within its expiry.
CREATE TABLE password_resets (
    token_hash bytea       PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);

-- Every reset request, whether or not the e-mail has an account: the input of rate
-- limiting, which must treat both alike or its 429s would tell which e-mails exist.
CREATE TABLE password_reset_requests (
    id    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    ip    inet        NOT NULL,
    email text        NOT NULL
);
CREATE INDEX password_reset_requests_ip_idx ON password_reset_requests (ip, at);
CREATE INDEX password_reset_requests_email_idx ON password_reset_requests (email, at);
