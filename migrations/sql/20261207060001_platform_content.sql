-- Tutorials and announcements the operator writes for tenants (issue 20), and the admins'
-- own workspaces.

-- The `platform_content` read model: tutorials, with their latest content.
CREATE TABLE tutorials (
    tutorial_id   uuid        PRIMARY KEY,
    slug          text        NOT NULL,
    category      text        NOT NULL,
    position      integer     NOT NULL,
    -- {"pt-BR": …, "en": …}
    title         jsonb       NOT NULL,
    body          jsonb       NOT NULL,
    video_url     text,
    published     boolean     NOT NULL DEFAULT false,
    written_by    uuid        NOT NULL,
    written_at    timestamptz NOT NULL,
    changed_by    uuid        NOT NULL,
    changed_at    timestamptz NOT NULL,
    -- The aggregate's last applied sequence: the guard against applying twice.
    last_sequence bigint      NOT NULL
);
CREATE INDEX tutorials_list_idx ON tutorials (published, position, written_at);
CREATE INDEX tutorials_slug_idx ON tutorials (slug);

-- Announcements with their latest content. Whether one shows is decided when read (its
-- window against the clock), so an expired one disappears with nobody acting.
CREATE TABLE announcements (
    announcement_id  uuid        PRIMARY KEY,
    title            jsonb       NOT NULL,
    body             jsonb       NOT NULL,
    severity         text        NOT NULL,
    audience_kind    text        NOT NULL CHECK (audience_kind IN ('everyone', 'plans', 'tenants')),
    audience_plans   text[]      NOT NULL DEFAULT '{}',
    audience_tenants uuid[]      NOT NULL DEFAULT '{}',
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    email_owners     boolean     NOT NULL,
    published        boolean     NOT NULL DEFAULT false,
    published_at     timestamptz,
    written_by       uuid        NOT NULL,
    written_at       timestamptz NOT NULL,
    changed_by       uuid        NOT NULL,
    changed_at       timestamptz NOT NULL,
    last_sequence    bigint      NOT NULL
);
CREATE INDEX announcements_window_idx ON announcements (published, starts_at, ends_at);

-- Who did what to each tutorial or announcement, in order.
CREATE TABLE content_history (
    content_id  uuid        NOT NULL,
    sequence    bigint      NOT NULL,
    event_type  text        NOT NULL,
    admin_id    uuid        NOT NULL,
    at          timestamptz NOT NULL,
    PRIMARY KEY (content_id, sequence)
);

-- A user closed an announcement's banner: it stays closed for them on every device. Not a
-- read model: the API writes it (a preference, not a business fact).
CREATE TABLE announcement_dismissals (
    announcement_id uuid        NOT NULL,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dismissed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (announcement_id, user_id)
);

-- An admin's complimentary tenant, which they open from the admin console with owner
-- rights for it alone.
CREATE TABLE admin_workspaces (
    admin_id   uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tenant_id  uuid        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
