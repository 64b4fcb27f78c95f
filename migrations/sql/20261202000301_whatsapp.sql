-- WhatsApp channel (#5 part A): each tenant's channel settings and the outbound queue.

-- A tenant's WhatsApp channel. Not in events: the access token and the Evolution API key are
-- credentials, stored sealed under the tenant's subject key (wrapped by the master key), so
-- a database dump alone never reveals them. The webhook secret names the tenant in the
-- Evolution webhook URL (it is not a credential to anything else).
CREATE TABLE whatsapp_channels (
    tenant_id          uuid        PRIMARY KEY,
    -- `cloud_api` (Meta's WhatsApp Cloud API) or `evolution` (a self-hosted Evolution API).
    provider           text        NOT NULL DEFAULT 'cloud_api'
                       CHECK (provider IN ('cloud_api', 'evolution')),
    webhook_secret     text        NOT NULL UNIQUE,
    -- `<key id>.<nonce ‖ ciphertext>` as `Sealed::encode` writes it.
    access_token       text,
    template_name      text,
    template_language  text,
    evolution_url      text,
    evolution_instance text,
    evolution_api_key  text,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- One row per message the platform must send, written by the `whatsapp_outbound` stream
-- consumer in the transaction that moves its checkpoint, keyed by the causing event's
-- `outbound_id`: a redelivered event finds its row and adds nothing, so each cause is sent
-- at most once whatever the restarts. The text is copied sealed, as in the event; the
-- sender opens it just before sending.
CREATE TABLE whatsapp_outbound (
    outbound_id         uuid        PRIMARY KEY,
    tenant_id           uuid        NOT NULL,
    conversation_id     uuid        NOT NULL,
    -- `ai_reply`, `fallback`, `waiting`, `human_reply` or `return`.
    purpose             text        NOT NULL,
    body                jsonb,
    position            bigint      NOT NULL,
    caused_at           timestamptz NOT NULL,
    status              text        NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'sent', 'failed')),
    -- `cloud_api`, `evolution` or `local` (no token: kept here and logged, counted as sent).
    channel             text,
    -- `text` or `template` (outside the 24 h customer window).
    kind                text,
    attempts            integer     NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    last_error          text,
    provider_message_id text,
    sent_at             timestamptz,
    -- Whether the outcome is recorded on the conversation (`OutboundSent`/`OutboundRefused`).
    recorded            boolean     NOT NULL DEFAULT false
);
CREATE INDEX whatsapp_outbound_due_idx ON whatsapp_outbound (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX whatsapp_outbound_unrecorded_idx ON whatsapp_outbound (outbound_id)
    WHERE status <> 'pending' AND NOT recorded;
CREATE INDEX whatsapp_outbound_tenant_idx ON whatsapp_outbound (tenant_id, position DESC);
