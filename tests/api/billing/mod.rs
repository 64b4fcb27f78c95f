//! Billing (issue #6 part B) against a fake Stripe at the HTTP boundary: plans, checkout,
//! portal, the admin billing views and actions, usage metering and the quota alert.

mod admin;
mod checkout;
pub(crate) mod fake;
mod metering;
mod metering_support;
mod onboarding;
mod quota;
mod refunds;
mod resubscribe;
