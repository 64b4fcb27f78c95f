-- Refunds of payments (issue 18). No personal data: Stripe ids and amounts.

-- billing_admin projection (replayable): every PaymentRefunded, keyed by the event that
-- recorded it; the payments list sums them per invoice.
CREATE TABLE billing_refunds (
    position     bigint      PRIMARY KEY,
    tenant_id    uuid        NOT NULL,
    refund_id    text        NOT NULL,
    invoice_id   text        NOT NULL,
    amount_cents bigint      NOT NULL,
    currency     text        NOT NULL,
    at           timestamptz NOT NULL
);
CREATE INDEX billing_refunds_payment_idx ON billing_refunds (tenant_id, invoice_id);

-- admin_reports projection: a month's `amount_cents` is now net of the refunds recorded
-- in that month, which `refunded_cents` and `refunds` count on their own.
ALTER TABLE report_revenue
    ADD COLUMN refunded_cents bigint NOT NULL DEFAULT 0,
    ADD COLUMN refunds        bigint NOT NULL DEFAULT 0;
