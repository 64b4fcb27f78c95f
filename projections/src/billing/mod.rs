//! `billing_admin`: every subscription as the aggregate derives it, with its Stripe ids,
//! and every payment outcome, for the admin billing views (F26). Replayable: its tables
//! are a pure function of the subscription events.

mod projection;

pub use projection::BillingAdmin;
#[cfg(test)]
mod tests;
