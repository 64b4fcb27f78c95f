//! `tenant_directory`: every tenant's name, plan, status and WhatsApp number id, for the
//! admin directory (F43). Built from tenant events, with the plan kept current from the
//! tenant's subscription, and each tenant's own AI limits ([`ai_limits`], issue 18).

mod directory;

pub use directory::{ai_limits, TenantDirectory};
#[cfg(test)]
mod tests;
