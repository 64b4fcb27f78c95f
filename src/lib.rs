//! The `atende` application: wiring of the libraries into subcommands.

pub mod admin;
pub mod ai;
pub mod audit;
pub mod bench;
pub mod cli;
pub mod database;
pub mod keys;
pub mod mail;
pub mod privacy;
pub mod replay;
pub mod serve;
pub mod subject_keys;
pub mod telemetry;
