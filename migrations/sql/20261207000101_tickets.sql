-- Support tickets (F50).

-- The `tickets` read model: one row per ticket for the tenant's list and the admin queue.
-- The subject stays sealed exactly as in the events and is opened when read.
CREATE TABLE tickets (
    ticket_id               uuid        PRIMARY KEY,
    tenant_id               uuid        NOT NULL,
    category                text        NOT NULL,
    subject                 jsonb       NOT NULL,
    priority                text        NOT NULL,
    status                  text        NOT NULL,
    awaiting_admin          boolean     NOT NULL DEFAULT false,
    assigned_admin          uuid,
    opened_at               timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    -- Since when the tenant waits for support (its last unanswered message), for the
    -- oldest-waiting-first queue; NULL when support spoke last.
    waiting_since           timestamptz,
    first_ai_response_at    timestamptz,
    first_human_response_at timestamptz,
    resolved_at             timestamptz,
    closed_at               timestamptz,
    -- The last applied sequence of the ticket: the guard against applying twice.
    last_sequence           bigint      NOT NULL
);
CREATE INDEX tickets_tenant_idx ON tickets (tenant_id, opened_at DESC);
CREATE INDEX tickets_queue_idx ON tickets (status, waiting_since);

-- Every entry of a ticket's thread: the opening request, public messages, AI answers and
-- internal notes (only admins see those). Texts stay sealed as in the events.
CREATE TABLE ticket_messages (
    ticket_id   uuid        NOT NULL,
    sequence    bigint      NOT NULL,
    author_kind text        NOT NULL CHECK (author_kind IN ('tenant', 'admin', 'ai')),
    author_id   text,
    internal    boolean     NOT NULL DEFAULT false,
    text        jsonb       NOT NULL,
    confidence  double precision,
    sources     jsonb,
    at          timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, sequence)
);

-- The files of a ticket's thread, as the events describe them; `message_sequence` is the
-- message they came with. The bytes are in `ticket_attachments`.
CREATE TABLE ticket_files (
    ticket_id        uuid        NOT NULL,
    attachment_id    uuid        NOT NULL,
    message_sequence bigint      NOT NULL,
    name             jsonb       NOT NULL,
    size             bigint      NOT NULL,
    content_type     text        NOT NULL,
    sha256           text        NOT NULL,
    at               timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, attachment_id)
);

-- The bytes of attached files, outside the log: stored before the event that names them,
-- served only to the ticket's tenant and to admins. Not a read model: never replayed.
CREATE TABLE ticket_attachments (
    attachment_id uuid        PRIMARY KEY,
    tenant_id     uuid        NOT NULL,
    ticket_id     uuid        NOT NULL,
    content_type  text        NOT NULL,
    size          bigint      NOT NULL,
    sha256        text        NOT NULL,
    bytes         bytea       NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_attachments_ticket_idx ON ticket_attachments (ticket_id);

-- When each side last read a ticket: messages of the other side after it are unread.
CREATE TABLE ticket_reads (
    ticket_id uuid        NOT NULL,
    side      text        NOT NULL CHECK (side IN ('tenant', 'admin')),
    read_at   timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, side)
);

-- The categories a tenant may choose, edited by admins.
CREATE TABLE ticket_categories (
    key      text    PRIMARY KEY,
    label    text    NOT NULL,
    position integer NOT NULL
);
INSERT INTO ticket_categories (key, label, position) VALUES
    ('financeiro', 'Financeiro', 0),
    ('tecnico', 'Técnico', 1),
    ('duvida', 'Dúvida', 2);

-- The platform's support knowledge, which the support AI answers from. Indexed like a
-- tenant's knowledge, under a reserved id, when it is saved.
CREATE TABLE support_knowledge (
    id          boolean     PRIMARY KEY DEFAULT true CHECK (id),
    version     integer     NOT NULL,
    text        text        NOT NULL,
    char_count  integer     NOT NULL,
    replaced_at timestamptz NOT NULL,
    replaced_by uuid
);

-- Which tenant messages the support AI has dealt with (answered or handed to admins), so
-- a redelivered event never answers twice; the tokens it spent are the platform's.
CREATE TABLE support_ai_runs (
    ticket_id  uuid             NOT NULL,
    sequence   bigint           NOT NULL,
    outcome    text             NOT NULL CHECK (outcome IN ('answered', 'handed_off', 'skipped')),
    confidence double precision NOT NULL,
    mode       text             NOT NULL,
    tokens     integer          NOT NULL DEFAULT 0,
    at         timestamptz      NOT NULL,
    PRIMARY KEY (ticket_id, sequence)
);
