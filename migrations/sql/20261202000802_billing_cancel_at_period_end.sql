-- Whether a subscription ends with its paid period (the customer or an admin scheduled the
-- cancellation and can still undo it). Filled by the billing_admin projection: replay
-- `billing_admin` to fill it for subscriptions scheduled before this column existed.
ALTER TABLE billing_subscriptions
    ADD COLUMN cancel_at_period_end boolean NOT NULL DEFAULT false;
