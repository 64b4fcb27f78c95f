-- Per-tenant AI limits (issue 18): each tenant's own limits as the last `AiLimitsChanged`
-- set them (the AiLimits JSON; a limit absent or null is the platform's default).
ALTER TABLE tenant_directory ADD COLUMN ai_limits jsonb NOT NULL DEFAULT '{}';

-- When each tenant's subscription moved onto its current plan (its start, or its latest
-- plan change): the quota it bought is the plan's revision in force then. Null for rows
-- written before this column (and tenants without a subscription): the catalogue in force.
ALTER TABLE usage_tenants ADD COLUMN plan_since timestamptz;
ALTER TABLE meter_tenants ADD COLUMN plan_since timestamptz;
