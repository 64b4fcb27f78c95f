//! The tags every operation carries one of.

/// Routes of a tenant's owner or agent, scoped by the token's tenant. The isolation test
/// calls every operation with this tag.
pub const TENANT: &str = "tenant";
/// Admin and super-admin routes.
pub const ADMIN: &str = "admin";
/// Auditor (and admin) routes: read only.
pub const AUDITOR: &str = "auditor";
/// Sign-in, tokens and the caller's own account.
pub const AUTH: &str = "auth";
/// Health and the document itself.
pub const SYSTEM: &str = "system";
/// Provider webhooks (WhatsApp Cloud API, Evolution API): no token, each checks its own
/// signature or secret.
pub const WEBHOOKS: &str = "webhooks";
