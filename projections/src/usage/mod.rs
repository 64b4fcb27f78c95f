//! `tenant_usage`: what each tenant consumed per UTC day (customer messages; AI replies and
//! tokens per model) and what its billing periods hang on (the plan and the subscription's
//! start). Periods and prices are applied when reading, so a price change or a new period
//! needs no rebuild.

mod projection;

pub use projection::TenantUsage;
#[cfg(test)]
mod tests;
