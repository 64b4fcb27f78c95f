-- The AI responder (workers::responder) and the 24 h timeout saga (workers::saga). Worker
-- state, not read models: written by their stream consumers in the runner's transaction
-- (exactly once with the checkpoint) and by their schedulers; never replayed.

-- What the responder knows of each conversation: who answers, and the burst waiting for an
-- answer. `pending_through` is the position of the last customer message to answer
-- (NULL: nothing to answer); the answer is due at `due_at` (last message + burst window).
CREATE TABLE ai_conversations (
    conversation_id  text        PRIMARY KEY,
    tenant_id        uuid        NOT NULL,
    status           text        NOT NULL,
    last_sequence    bigint      NOT NULL,
    -- The last message already answered (or handed off): the burst starts after it.
    answered_through bigint      NOT NULL DEFAULT 0,
    pending_through  bigint,
    due_at           timestamptz,
    -- A scheduler working on the burst holds it until then (a crashed one lets go).
    leased_until     timestamptz,
    correlation_id   uuid,
    causation_id     uuid
);
CREATE INDEX ai_conversations_due_idx ON ai_conversations (due_at)
    WHERE pending_through IS NOT NULL;

-- The conversation's latest messages, personal texts sealed exactly as in the events (an
-- erasure or the retention job makes them unreadable here too). Trimmed to the memory size.
CREATE TABLE ai_memory (
    conversation_id text        NOT NULL,
    position        bigint      NOT NULL,
    role            text        NOT NULL CHECK (role IN ('customer', 'ai', 'human')),
    text            jsonb,
    at              timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, position)
);

-- Every AI answer recorded (from `AiReplied`), for the per-tenant limits and the plan quota.
CREATE TABLE ai_usage (
    position   bigint           PRIMARY KEY,
    tenant_id  uuid             NOT NULL,
    at         timestamptz      NOT NULL,
    model      text             NOT NULL,
    tokens_in  bigint           NOT NULL,
    tokens_out bigint           NOT NULL,
    cost_usd   double precision NOT NULL,
    -- Answers from the cache or the extractive fallback make no model request.
    model_call boolean          NOT NULL
);
CREATE INDEX ai_usage_tenant_at_idx ON ai_usage (tenant_id, at);

-- The response cache (F14): an answer per tenant, knowledge version, normalized question
-- and context. The answer is business text derived from the tenant's knowledge, but it may
-- echo the question, so it is kept only for its TTL.
CREATE TABLE ai_response_cache (
    cache_key         text             PRIMARY KEY,
    tenant_id         uuid             NOT NULL,
    knowledge_version integer          NOT NULL,
    answer            text             NOT NULL,
    model             text             NOT NULL,
    sources           jsonb            NOT NULL,
    confidence        double precision NOT NULL,
    created_at        timestamptz      NOT NULL,
    expires_at        timestamptz      NOT NULL,
    hits              bigint           NOT NULL DEFAULT 0,
    last_hit_at       timestamptz
);
CREATE INDEX ai_response_cache_tenant_idx ON ai_response_cache (tenant_id);

-- The 24 h timeout saga's deadlines, one per conversation ever handed off; `due_at` is NULL
-- while the AI answers (kept, so `last_sequence` still guards against applying twice).
CREATE TABLE saga_deadlines (
    conversation_id text        PRIMARY KEY,
    tenant_id       uuid        NOT NULL,
    due_at          timestamptz,
    -- Whether a human answered since the hand-off (no "attendance pending" mail then).
    human_answered  boolean     NOT NULL,
    -- The deadline a resumption was already asked for; a moved deadline fires again.
    fired_for       timestamptz,
    last_sequence   bigint      NOT NULL
);
CREATE INDEX saga_deadlines_due_idx ON saga_deadlines (due_at) WHERE due_at IS NOT NULL;
