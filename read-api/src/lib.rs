//! The HTTP face of atende: dashboards, reports, the audit log and health.

pub mod audit;
pub mod auth;
pub mod billing;
pub mod content;
pub mod conversations;
pub mod error;
// Reports export (issue 18, F45).
pub mod exports;
pub mod health;
pub mod http;
pub mod knowledge;
pub mod metrics;
pub mod notifications;
// Operational metrics and service checks (issue 19).
pub mod observability;
pub mod onboarding;
pub mod openapi;
pub mod outbox;
// Plans managed by admins (issue 18).
pub mod plans;
pub mod privacy;
pub mod projections;
// Rate limits (issue 19, F34).
pub mod rate_limit;
pub mod reports;
pub mod request;
pub mod settings;
pub mod state;
pub mod stream;
pub mod stripe_webhook;
pub mod tenants;
pub mod tickets;
pub mod trail;
pub mod usage;
pub mod users;
pub mod webhooks;

pub use error::ApiError;
pub use http::{router, serve};
pub use state::AppState;
