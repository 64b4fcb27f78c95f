-- Billing operations (issue #6 part B): the admin billing views (F26), the Stripe usage
-- meter's bookkeeping (F25) and quota alerts (F24). No personal data: plan keys, statuses,
-- Stripe ids and counts.

-- billing_admin projection (replayable) -------------------------------------------------
-- One row per subscription (its id is its tenant's id), as the aggregate derives it.
CREATE TABLE billing_subscriptions (
    tenant_id              uuid        PRIMARY KEY,
    stripe_customer_id     text,
    stripe_subscription_id text,
    plan                   text        NOT NULL,
    status                 text        NOT NULL,
    complimentary          boolean     NOT NULL,
    trial_end              timestamptz,
    started_at             timestamptz NOT NULL,
    -- The end of the last period an invoice paid for.
    paid_until             timestamptz,
    cancelled_at           timestamptz,
    cancel_reason          text,
    updated_at             timestamptz NOT NULL,
    -- The subscription's last applied sequence: the guard against applying twice.
    last_sequence          bigint      NOT NULL
);
CREATE INDEX billing_subscriptions_list_idx
    ON billing_subscriptions (started_at DESC, tenant_id DESC);

-- Every payment outcome Stripe reported, keyed by the event that recorded it.
CREATE TABLE billing_payments (
    position     bigint      PRIMARY KEY,
    tenant_id    uuid        NOT NULL,
    invoice_id   text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('succeeded', 'failed')),
    amount_cents bigint,
    currency     text,
    attempt      integer,
    period_end   timestamptz,
    at           timestamptz NOT NULL
);
CREATE INDEX billing_payments_list_idx ON billing_payments (at DESC, position DESC);
CREATE INDEX billing_payments_tenant_idx ON billing_payments (tenant_id, at DESC, position DESC);

-- stripe_usage_meter worker (not replayable: what was reported to Stripe stays reported) -
CREATE TABLE meter_tenants (
    tenant_id                  uuid    PRIMARY KEY,
    name                       text,
    registered_plan            text,
    subscription_plan          text,
    stripe_customer_id         text,
    -- The subscription's first day: billing periods begin on its day of the month.
    billing_anchor             date,
    last_tenant_sequence       bigint  NOT NULL DEFAULT 0,
    last_subscription_sequence bigint  NOT NULL DEFAULT 0
);

CREATE TABLE meter_conversations (
    conversation_id text   PRIMARY KEY,
    tenant_id       uuid   NOT NULL,
    last_sequence   bigint NOT NULL
);

-- AI answers per tenant and billing period. `billable` counts those answered while the
-- tenant had a Stripe customer; units 1..=`batched` of them are in `meter_reports`.
CREATE TABLE meter_usage (
    tenant_id    uuid        NOT NULL,
    period_start date        NOT NULL,
    ai_replies   bigint      NOT NULL,
    billable     bigint      NOT NULL,
    batched      bigint      NOT NULL DEFAULT 0 CHECK (batched <= billable),
    last_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, period_start)
);

-- Each report covers units first_unit..=last_unit of a tenant's period. It is written
-- before it is sent, so a resend after a crash carries the same identifier and value.
CREATE TABLE meter_reports (
    identifier         text        PRIMARY KEY,
    tenant_id          uuid        NOT NULL,
    period_start       date        NOT NULL,
    first_unit         bigint      NOT NULL,
    last_unit          bigint      NOT NULL,
    value              bigint      NOT NULL CHECK (value = last_unit - first_unit + 1 AND value > 0),
    stripe_customer_id text        NOT NULL,
    usage_at           timestamptz NOT NULL,
    status             text        NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'reported', 'failed')),
    attempts           integer     NOT NULL DEFAULT 0,
    next_attempt_at    timestamptz NOT NULL DEFAULT now(),
    last_error         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    reported_at        timestamptz,
    UNIQUE (tenant_id, period_start, first_unit)
);
CREATE INDEX meter_reports_due_idx ON meter_reports (next_attempt_at) WHERE status = 'pending';

-- One alert per tenant and billing period when AI answers reach 80% of the plan's quota;
-- admins read them at GET /api/v1/admin/quota-alerts.
CREATE TABLE quota_alerts (
    tenant_id     uuid        NOT NULL,
    period_start  date        NOT NULL,
    period_end    date        NOT NULL,
    tenant_name   text,
    plan          text        NOT NULL,
    quota         bigint      NOT NULL,
    ai_replies    bigint      NOT NULL,
    owners_mailed integer     NOT NULL,
    at            timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, period_start)
);
CREATE INDEX quota_alerts_recent_idx ON quota_alerts (at DESC, tenant_id DESC);
