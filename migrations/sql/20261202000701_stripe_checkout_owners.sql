-- Who a completed but not yet paid Stripe Checkout is for, as our checkout told Stripe
-- (business name, language): the invoice that later pays it carries neither, and
-- provisioning must not call Stripe back to ask.
CREATE TABLE stripe_checkout_owners (
    tenant_id     UUID PRIMARY KEY,
    email         TEXT,
    business_name TEXT,
    locale        TEXT,
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
