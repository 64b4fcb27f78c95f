//! Black-box tests of the HTTP API against a server on a random port.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod admin_ops;
mod admin_trail;
// The usage monitor's AI spend thresholds (issue 18).
mod ai_handoff;
// Per-tenant AI limits (issue 18).
mod ai_limits;
mod ai_spend;
mod answers_e2e;
mod audit;
mod audit_log;
mod auth;
mod billing;
// The long commands' progress bars (issue 19).
mod cli_progress;
mod console;
mod content;
mod conversations;
mod cors;
mod greeting;
// Reports export (issue 18, F45).
mod exports;
mod health;
mod helpers;
mod invitations;
mod isolation;
mod knowledge;
mod metrics;
mod notifications;
// Operational metrics and service checks (issue 19).
mod observability;
mod onboarding;
mod openapi;
mod password_reset;
// Reports export (issue 18, F45): reading its PDFs back.
mod pdf_text;
mod pipeline_e2e;
// Platform users page (issue 18).
mod platform_users;
// Plans managed by admins (issue 18).
mod plans;
mod privacy;
mod projections;
// Rate limits (issue 19, F34).
mod rate_limits;
mod reports;
mod settings;
// Graceful shutdown of the real binaries (issue 19).
mod shutdown;
mod stream;
mod stripe_lifecycle;
mod stripe_onboarding;
mod stripe_support;
mod stripe_webhooks;
mod tenants;
mod tickets;
mod usage;
mod whatsapp;
mod worker;
