//! The mailer worker: every e-mail the product sends goes through an outbox table
//! (queued with [`integrations::mailer::enqueue`]).
//!
//! [`Mailer`] sends due mails (`FOR UPDATE SKIP LOCKED`, so any number of processes can run
//! it) through an [`integrations::mailer::Transport`], retries failures with exponential
//! backoff and gives up after [`MailerConfig::max_attempts`] (status `failed`, visible in
//! /health through [`integrations::mailer::status`]). It wakes on `pg_notify` from
//! `enqueue` and polls as a fallback.

mod outbox;
mod worker;

pub use worker::{Mailer, MailerConfig, DEFAULT_FROM};
