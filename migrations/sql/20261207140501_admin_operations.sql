-- The admins' operations pages (issue 18).

-- A replay's progress, one row per projection (its latest replay), written by the process
-- running it so any process can answer "how far has it got".
CREATE TABLE projection_replays (
    consumer        text        PRIMARY KEY,
    started_at      timestamptz NOT NULL DEFAULT now(),
    -- The log's head when the replay started: what "done" means for a progress bar.
    target_position bigint      NOT NULL,
    -- The last position read so far.
    position        bigint      NOT NULL DEFAULT 0,
    events          bigint      NOT NULL DEFAULT 0,
    finished_at     timestamptz,
    -- Why it stopped, when it failed (the live model is then untouched).
    error           text
);

-- The privacy page lists every erasure: a handful of rows among millions of events.
CREATE INDEX events_subject_erased_idx ON events (position) WHERE event_type = 'SubjectErased';
