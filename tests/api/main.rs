//! Black-box tests of the HTTP API against a server on a random port.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod ai_handoff;
mod audit;
mod audit_log;
mod auth;
mod conversations;
mod cors;
mod health;
mod helpers;
mod isolation;
mod metrics;
mod openapi;
mod password_reset;
mod privacy;
mod projections;
mod reports;
mod settings;
mod stream;
mod tenants;
mod usage;
