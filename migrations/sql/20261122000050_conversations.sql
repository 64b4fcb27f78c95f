-- Read model of conversations (F4–F9, F41): one row per conversation and every message of
-- it, for the tenant's dashboard. Message texts stay sealed (`{"$pii": …}`, opened at read
-- time), so erasure and retention reach them without touching these tables. Only the
-- contact's number and name are kept in clear, for search; the projection clears them when
-- their key is destroyed.

-- Trigram indexes make "search by contact" (a substring of a name or number) an index scan.
-- A trusted extension since PostgreSQL 13: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE conversations (
    conversation_id        uuid        PRIMARY KEY,
    tenant_id              uuid        NOT NULL,
    status                 text        NOT NULL
        CHECK (status IN ('ai_active', 'awaiting_human', 'human_replied', 'resolved')),
    -- In clear for search; NULL once unreadable (erased, past retention).
    contact_phone          text,
    contact_name           text,
    -- Lower-case name and the number's digits, what `q` is matched against.
    contact_search         text,
    -- The subject key that sealed the contact fields, and when they were written: the
    -- retention sweep clears the clear copy when that key is gone.
    contact_key_id         uuid,
    contact_seen_at        timestamptz,
    -- The last message, sealed as in the event.
    last_message_preview   jsonb,
    last_message_direction text CHECK (last_message_direction IN ('inbound', 'outbound')),
    last_message_at        timestamptz,
    -- Customer messages since the last answer (AI or human).
    unanswered_count       integer     NOT NULL,
    assigned_agent         uuid,
    -- The last customer message plus 24 h (F3).
    window_ends_at         timestamptz,
    handed_off_at          timestamptz,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    -- The conversation's last applied sequence: the guard against applying twice.
    last_sequence          bigint      NOT NULL,
    last_position          bigint      NOT NULL
);
-- The list: newest first, keyset-paginated by (updated_at, conversation_id), optionally
-- filtered by status or agent.
CREATE INDEX conversations_list_idx
    ON conversations (tenant_id, updated_at DESC, conversation_id DESC);
CREATE INDEX conversations_status_idx
    ON conversations (tenant_id, status, updated_at DESC, conversation_id DESC);
CREATE INDEX conversations_agent_idx
    ON conversations (tenant_id, assigned_agent, updated_at DESC, conversation_id DESC);
CREATE INDEX conversations_search_idx
    ON conversations USING gin (contact_search gin_trgm_ops);
CREATE INDEX conversations_contact_seen_idx
    ON conversations (contact_seen_at) WHERE contact_key_id IS NOT NULL;

CREATE TABLE conversation_messages (
    conversation_id     uuid        NOT NULL,
    -- The sequence of the event that carried the message: message order.
    sequence            bigint      NOT NULL,
    direction           text        NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    -- `customer`, `ai`, `agent` (agent_id says who) or `system` (the tenant's fallback,
    -- waiting and return messages, whose text is the tenant's setting, not the event's).
    author              text        NOT NULL CHECK (author IN ('customer', 'ai', 'agent', 'system')),
    agent_id            uuid,
    -- `text` or `media`; media_type is the provider's (image, audio, …).
    kind                text        NOT NULL CHECK (kind IN ('text', 'media')),
    media_type          text,
    -- What the system message was for: `fallback`, `waiting` or `return`.
    purpose             text,
    -- Sealed as in the event; NULL for system messages and media without caption.
    body                jsonb,
    provider_message_id text,
    outbound_id         uuid,
    at                  timestamptz NOT NULL,
    position            bigint      NOT NULL,
    PRIMARY KEY (conversation_id, sequence)
);
CREATE INDEX conversation_messages_outbound_idx
    ON conversation_messages (conversation_id, outbound_id) WHERE outbound_id IS NOT NULL;

-- Provider delivery statuses by the provider's message id: kept apart from the messages so a
-- status that arrives before the message is linked to its provider id is not lost.
CREATE TABLE conversation_deliveries (
    conversation_id     uuid        NOT NULL,
    provider_message_id text        NOT NULL,
    status              text        NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
    status_at           timestamptz NOT NULL,
    error               text,
    PRIMARY KEY (conversation_id, provider_message_id)
);
