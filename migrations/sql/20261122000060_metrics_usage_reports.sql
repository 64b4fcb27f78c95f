-- Read models: tenant metrics per day, usage per tenant and day (billing periods are cut at
-- read time), and the admin reports (F42). No personal data: only counts, durations, plan
-- keys, statuses and business names.

-- tenant_metrics ------------------------------------------------------------------------
-- What the projection must remember of each conversation to measure it.
CREATE TABLE metrics_conversations (
    conversation_id text        PRIMARY KEY,
    tenant_id       uuid        NOT NULL,
    -- The conversation's last applied sequence: the guard against applying twice.
    last_sequence   bigint      NOT NULL,
    resolved        boolean     NOT NULL,
    -- No hand-off and no human reply since the conversation (re)opened.
    ai_only         boolean     NOT NULL,
    -- The customer message that opened the current wait for a first reply.
    waiting_since   timestamptz,
    -- The first hand-off not answered by a human yet.
    handoff_open_at timestamptz
);

CREATE TABLE metrics_daily (
    tenant_id        uuid   NOT NULL,
    day              date   NOT NULL,
    inbound_messages bigint NOT NULL,
    ai_replies       bigint NOT NULL,
    handoffs         bigint NOT NULL,
    resolved         bigint NOT NULL,
    resolved_by_ai   bigint NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

-- Every measured duration, so medians are exact over any range of days.
CREATE TABLE metrics_samples (
    -- The event that ended the wait; with kind, the guard against recording twice.
    position  bigint           NOT NULL,
    kind      text             NOT NULL CHECK (kind IN
                  ('ai_first_response', 'human_first_response', 'human_response')),
    tenant_id uuid             NOT NULL,
    day       date             NOT NULL,
    seconds   double precision NOT NULL,
    PRIMARY KEY (position, kind)
);
CREATE INDEX metrics_samples_tenant_day_idx ON metrics_samples (tenant_id, day, kind);

-- usage ---------------------------------------------------------------------------------
CREATE TABLE usage_tenants (
    tenant_id                  uuid        PRIMARY KEY,
    registered_plan            text,
    subscription_plan          text,
    -- The subscription's start: billing periods are anchored at its day of the month.
    billing_anchor             timestamptz,
    last_tenant_sequence       bigint      NOT NULL DEFAULT 0,
    last_subscription_sequence bigint      NOT NULL DEFAULT 0
);

CREATE TABLE usage_conversations (
    conversation_id text   PRIMARY KEY,
    tenant_id       uuid   NOT NULL,
    last_sequence   bigint NOT NULL
);

CREATE TABLE usage_daily (
    tenant_id        uuid   NOT NULL,
    day              date   NOT NULL,
    inbound_messages bigint NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

CREATE TABLE usage_model_daily (
    tenant_id  uuid   NOT NULL,
    day        date   NOT NULL,
    model      text   NOT NULL,
    ai_replies bigint NOT NULL,
    tokens_in  bigint NOT NULL,
    tokens_out bigint NOT NULL,
    PRIMARY KEY (tenant_id, day, model)
);

-- admin reports -------------------------------------------------------------------------
CREATE TABLE report_tenants (
    tenant_id     uuid        PRIMARY KEY,
    name          text        NOT NULL,
    plan          text        NOT NULL,
    status        text        NOT NULL,
    registered_at timestamptz NOT NULL,
    last_sequence bigint      NOT NULL
);
CREATE INDEX report_tenants_recent_idx ON report_tenants (registered_at DESC, tenant_id DESC);

CREATE TABLE report_subscriptions (
    tenant_id     uuid        PRIMARY KEY,
    plan          text        NOT NULL,
    status        text        NOT NULL,
    complimentary boolean     NOT NULL,
    started_at    timestamptz NOT NULL,
    cancelled_at  timestamptz,
    last_sequence bigint      NOT NULL
);

CREATE TABLE report_revenue (
    month        date   NOT NULL,
    currency     text   NOT NULL,
    amount_cents bigint NOT NULL,
    payments     bigint NOT NULL,
    PRIMARY KEY (month, currency)
);
