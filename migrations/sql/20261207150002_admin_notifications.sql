-- What the platform's admins are told (issue 18), one row per fact: `key` names the fact,
-- so raising it again does nothing. Written through `stream::notifications` only.
CREATE TABLE admin_notifications (
    id        bigserial   PRIMARY KEY,
    key       text        NOT NULL UNIQUE,
    kind      text        NOT NULL,
    tenant_id uuid,
    subject   text        NOT NULL DEFAULT '',
    detail    jsonb       NOT NULL DEFAULT '{}',
    at        timestamptz NOT NULL,
    raised_at timestamptz NOT NULL DEFAULT now()
);

-- Which admin read which notification: read state is each admin's own.
CREATE TABLE admin_notification_reads (
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    notification_id bigint      NOT NULL REFERENCES admin_notifications (id) ON DELETE CASCADE,
    read_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, notification_id)
);

-- The read model that raises what events say starts at the head of an existing log: an
-- upgrade must not tell the admins of every tenant that ever registered.
INSERT INTO stream_checkpoints (consumer, tx_id, position)
SELECT 'admin_notifications', tx_id::text::bigint, position
  FROM events ORDER BY tx_id DESC, position DESC LIMIT 1
ON CONFLICT (consumer) DO NOTHING;
