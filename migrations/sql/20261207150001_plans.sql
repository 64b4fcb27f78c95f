-- Plans managed by admins (issue 18). The configured catalogue (built-in or ATENDE_PLANS) is
-- the seed; these tables hold what admins set on top of it, from the `plan` aggregate.

-- The `plan_catalogue` read model: each admin-touched plan's current spec, and whether it
-- was retired. A configured plan that was only retired has no spec here.
CREATE TABLE plan_catalogue (
    plan_id       text        PRIMARY KEY,
    -- The latest PlanSet's spec (the PlanSpec JSON); null when no admin set one.
    spec          jsonb,
    retired_at    timestamptz,
    retired_by    uuid,
    changed_by    uuid        NOT NULL,
    changed_at    timestamptz NOT NULL,
    -- The aggregate's last applied sequence: the guard against applying twice.
    last_sequence bigint      NOT NULL
);

-- Every spec an admin set, with the time it took effect: a subscription is priced with the
-- revision in force when it started on its plan.
CREATE TABLE plan_revisions (
    plan_id      text        NOT NULL,
    sequence     bigint      NOT NULL,
    spec         jsonb       NOT NULL,
    effective_at timestamptz NOT NULL,
    admin_id     uuid        NOT NULL,
    PRIMARY KEY (plan_id, sequence)
);

-- When each subscription moved onto its current plan (its start, or its latest plan
-- change): the terms it bought are the plan's revision in force then.
ALTER TABLE report_subscriptions ADD COLUMN plan_since timestamptz;
UPDATE report_subscriptions SET plan_since = started_at;
ALTER TABLE report_subscriptions ALTER COLUMN plan_since SET NOT NULL;
