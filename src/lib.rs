//! The `atende` application: wiring of the libraries into subcommands.

pub mod admin;
pub mod ai;
pub mod audit;
pub mod background;
pub mod backup;
pub mod bench;
pub mod billing;
pub mod cli;
pub mod database;
pub mod kafka;
pub mod keys;
pub mod knowledge;
pub mod mail;
pub mod observe;
pub mod privacy;
// Rate limits (issue 19, F34).
pub mod rate_limits;
pub mod replay;
pub mod serve;
pub mod shutdown;
pub mod stripe_webhooks;
pub mod subject_keys;
pub mod telemetry;
pub mod whatsapp;
pub mod worker;
