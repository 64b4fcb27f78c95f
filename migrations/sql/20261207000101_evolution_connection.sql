-- The web console (#15): the last connection state an Evolution instance reported (through
-- the instance API or its `CONNECTION_UPDATE` webhook), so onboarding can say whether the
-- phone is connected without calling the tenant's Evolution server.
ALTER TABLE whatsapp_channels
    ADD COLUMN evolution_state    text CHECK (evolution_state IN ('open', 'connecting', 'close')),
    ADD COLUMN evolution_state_at timestamptz;
