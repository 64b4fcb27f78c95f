//! The web console in a real browser: a headless Chromium (Debian's `chromium`) driven
//! over CDP against the whole product on a random port, clicking as a person would.
//! Screenshots of every page land in `<target dir>/screenshots/` on every run.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

#[allow(dead_code)] // this binary uses part of the API tests' helpers
#[path = "../api/helpers.rs"]
mod helpers;

mod harness;

// Admin cockpit, operations (issue 18): Stripe's webhooks as the API tests send them.
#[allow(dead_code)]
#[path = "../api/stripe_support.rs"]
mod stripe_support;

// Per-tenant AI limits (issue 18).
mod admin_ai_limits;
mod admin_ops;
// The System page's outside services (issue 19).
mod admin_system_services;
// Plans managed by admins (issue 18).
mod admin_plans;
// Admin notifications (issue 18)
mod admin_notifications;
// Platform users page and the admin's trail in the audit log (issue 18).
mod admin_users;
// The usage monitor (issue 18).
mod admin_usage;
// Refunds (issue 18).
mod admin_refunds;

// Admin cockpit: overview and tenants (issue 18).
mod admin_tenants;

// The auditor's desk (issue 18).
mod auditor;
mod content;
// Reports export (issue 18, F45).
mod exports;
mod inbox;
mod onboarding;
mod pages;
// Reports export (issue 18, F45): reading its PDFs back.
#[path = "../api/pdf_text.rs"]
mod pdf_text;
mod sign_in;
mod support;
mod tenant_pages;
mod try_bot;
mod whatsapp_connect;
