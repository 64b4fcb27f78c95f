//! `tenant_directory`: every tenant's name, plan, status and WhatsApp number id, for the
//! admin directory (F43). Built from tenant events, with the plan kept current from the
//! tenant's subscription.

mod directory;

pub use directory::TenantDirectory;
#[cfg(test)]
mod tests;
