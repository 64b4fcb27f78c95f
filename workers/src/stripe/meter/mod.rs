//! Usage metering (F25) and the quota alert (F24).
//!
//! - [`UsageMeter`], a stream consumer (`stripe_usage_meter`), counts AI answers per tenant
//!   and billing period in the runner's transaction, so each answer counts once even when
//!   events are delivered again, and raises the 80% [`quota`] alert.
//! - [`MeterReporter`] reports the counted units of tenants with a Stripe customer to
//!   `POST /v1/billing/meter_events`, exactly once (see [`reporter`]).

mod handler;
pub mod quota;
pub mod reporter;

pub use handler::UsageMeter;
pub use reporter::{MeterReporter, ReporterConfig, Round};
