//! Logs and traces: `RUST_LOG`-style filtering, plain or JSON output.

use clap::{Args, ValueEnum};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, with the span fields (request id) included.
    Json,
}

/// Telemetry settings.
#[derive(Debug, Clone, Args)]
pub struct TelemetryConfig {
    /// Log filter directives (tracing env-filter syntax).
    #[arg(
        long,
        env = "RUST_LOG",
        default_value = "info,sqlx=warn,tower_http=info",
        global = true
    )]
    pub log: String,
    /// Log output format.
    #[arg(
        long,
        env = "ATENDE_LOG_FORMAT",
        value_enum,
        default_value = "pretty",
        global = true
    )]
    pub log_format: LogFormat,
}

/// Keeps telemetry alive until dropped (nothing to flush today; keeps the call site stable).
#[derive(Debug)]
pub struct TelemetryGuard;

/// Installs the global subscriber. Logs go to stderr, so the CLI's own output on stdout
/// stays machine-readable.
pub fn init(config: &TelemetryConfig) -> anyhow::Result<TelemetryGuard> {
    let filter = EnvFilter::try_new(&config.log)?;
    let registry = tracing_subscriber::registry().with(filter);
    match config.log_format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(true)
                    .with_writer(crate::cli::progress::LogWriter),
            )
            .try_init()?,
        LogFormat::Pretty => registry
            .with(tracing_subscriber::fmt::layer().with_writer(crate::cli::progress::LogWriter))
            .try_init()?,
    }
    Ok(TelemetryGuard)
}
