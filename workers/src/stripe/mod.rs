//! Stripe usage metering (F25) and the quota alert (F24), through the client in
//! [`integrations::stripe`].

pub mod meter;
