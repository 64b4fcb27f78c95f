-- The usage monitor (issue 18): the `ai_spend_watch` consumer's state. It follows the AI's
-- answers and the admin-set monthly AI spend thresholds, and raises one admin notification
-- per tenant and UTC month when a tenant's estimated AI cost reaches its threshold.

-- The thresholds in force: `scope` is the aggregate id (`global`, or a tenant's id). A
-- cleared threshold keeps its row, with no amount, so its sequence still guards it.
CREATE TABLE ai_spend_thresholds (
    scope             text        PRIMARY KEY,
    tenant_id         uuid,
    monthly_usd_cents bigint,
    admin_id          uuid        NOT NULL,
    at                timestamptz NOT NULL,
    last_sequence     bigint      NOT NULL
);

-- Each conversation's tenant and last answer counted: a redelivered answer is skipped.
CREATE TABLE ai_spend_conversations (
    conversation_id text   PRIMARY KEY,
    tenant_id       uuid   NOT NULL,
    last_sequence   bigint NOT NULL
);

-- Answers and tokens per tenant, UTC month (its first day) and model: priced when judged.
CREATE TABLE ai_spend_monthly (
    tenant_id  uuid   NOT NULL,
    month      date   NOT NULL,
    model      text   NOT NULL,
    ai_replies bigint NOT NULL,
    tokens_in  bigint NOT NULL,
    tokens_out bigint NOT NULL,
    PRIMARY KEY (tenant_id, month, model)
);
