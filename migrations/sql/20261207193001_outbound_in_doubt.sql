-- The sender's double-send window (issue 19). `sending_since` is set when an attempt is
-- claimed and cleared when its outcome is recorded: a row claimed again while it is still
-- set had an attempt whose outcome nobody recorded (the process died between the call and
-- the record), so the provider may have accepted it. `resends_in_doubt` counts the attempts
-- made in that doubt; the sender makes at most one (docs/whatsapp.md says which provider
-- gets which guarantee).
ALTER TABLE whatsapp_outbound
    ADD COLUMN sending_since    timestamptz,
    ADD COLUMN resends_in_doubt integer NOT NULL DEFAULT 0;
