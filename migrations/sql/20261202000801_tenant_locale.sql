-- The language the product writes to each tenant in (e-mails). Tenants registered before
-- they could choose one speak the default.
ALTER TABLE tenant_directory ADD COLUMN locale text NOT NULL DEFAULT 'pt-BR';
