//! The `tenant` aggregate: a business using atende — registration, its WhatsApp number,
//! bot settings (F17), knowledge (F10) and suspension.

mod aggregate;
mod commands;
mod error;
mod services;
#[cfg(test)]
mod tests;

pub use aggregate::{
    Tenant, MAX_COST_PER_MONTH_USD, MAX_HANDOFF_KEYWORDS, MAX_HANDOFF_KEYWORD_CHARS,
    MAX_KNOWLEDGE_CHARS, MAX_REQUESTS_PER_HOUR, MAX_TOKENS_PER_DAY,
};
pub use commands::TenantCommand;
pub use error::TenantError;
pub use services::{ClaimOutcome, PhoneNumberDirectory, TenantServices};
