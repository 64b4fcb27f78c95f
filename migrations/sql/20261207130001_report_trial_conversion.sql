-- The admin overview's trial→paid conversion (#18): whether a subscription began with a
-- trial, and when it was first paid (a payment of more than zero). Filled by the
-- `admin_reports` projection: replay `admin_reports` to fill them for subscriptions that
-- began before these columns existed.
ALTER TABLE report_subscriptions
    ADD COLUMN trialed       boolean NOT NULL DEFAULT false,
    ADD COLUMN first_paid_at timestamptz;
