-- Whether the checkout session said it was paid: the provisioning saga reacts to the
-- subscription's events, which do not carry the session's payment status.
ALTER TABLE stripe_checkout_owners ADD COLUMN paid BOOLEAN NOT NULL DEFAULT false;
