-- Stripe webhooks (F21) and the subscription lifecycle (F23).

-- Every Stripe event handled, by Stripe's event id: a redelivery finds its row and changes
-- nothing. A row is written only after the event's commands committed, so an event whose
-- handling died half-way is handled again (every step is idempotent) when Stripe retries.
CREATE TABLE stripe_webhook_events (
    event_id    text        PRIMARY KEY,
    event_type  text        NOT NULL,
    -- The Stripe object the event is about (`sub_…`, `in_…`, `cs_…`).
    object_id   text,
    -- Stripe's `created`: orders `customer.subscription.updated` of one subscription.
    created_at  timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_webhook_events_object_idx
    ON stripe_webhook_events (object_id, event_type, created_at);

-- Grace periods running: one per past-due subscription (its id is its tenant's id), written
-- by the lifecycle worker in the transaction of its checkpoint; the timer fires each due row
-- once (the aggregate ignores a late or repeated expiry) and deletes it.
CREATE TABLE billing_grace_deadlines (
    tenant_id uuid        PRIMARY KEY,
    due_at    timestamptz NOT NULL
);
CREATE INDEX billing_grace_deadlines_due_idx ON billing_grace_deadlines (due_at);

-- Tenants suspended for billing reasons: a later payment lifts only these suspensions,
-- never one an operator decided.
CREATE TABLE billing_suspensions (
    tenant_id    uuid        PRIMARY KEY,
    suspended_at timestamptz NOT NULL DEFAULT now()
);
