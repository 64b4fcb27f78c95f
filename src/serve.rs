//! `atende serve`: the API, the in-process event stream and its consumers.

use crate::database::{Database, DatabaseConfig};
use anyhow::Context;
use clap::Args;
use projections::{CommitSignal, Tail};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;

/// Settings of `atende serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address the HTTP API listens on.
    #[arg(long, env = "ATENDE_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,
    /// How often the tail looks for events written by other processes, in milliseconds.
    #[arg(long, env = "ATENDE_TAIL_POLL_MS", default_value_t = 100)]
    pub tail_poll_ms: u64,
}

/// Runs until Ctrl-C or SIGTERM, then shuts everything down in order.
pub async fn run(db_config: &DatabaseConfig, config: ServeConfig) -> anyhow::Result<()> {
    let db = Database::open(db_config).await?;
    let signal = CommitSignal::new();
    let tail = Tail::new(db.pool.clone())
        .with_commit_signal(&signal)
        .with_idle_poll(Duration::from_millis(config.tail_poll_ms));
    let runners = projections::builtin::spawn_all(&tail);
    let state = read_api::AppState::new(db.pool.clone())
        .with_consumers(runners.iter().map(|r| r.status_view()).collect());
    let listener = TcpListener::bind(config.http_addr)
        .await
        .with_context(|| format!("binding {}", config.http_addr))?;
    let addr = listener.local_addr()?;
    #[allow(clippy::print_stdout)]
    {
        println!("atende listening on http://{addr}");
    }
    tracing::info!(%addr, database = %redact(&db.url), "atende is serving");
    read_api::serve(listener, read_api::router(state), shutdown_signal())
        .await
        .context("serving HTTP")?;
    tracing::info!("shutting down");
    for r in runners {
        r.stop().await;
    }
    drop(signal);
    db.close().await
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// The URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].find(':') {
            Some(colon) => format!("{}:***{}", &url[..s + 3 + colon], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn logged_database_urls_hide_the_password() {
        assert_eq!(
            redact("postgres://atende:s3cret@127.0.0.1:5432/atende"),
            "postgres://atende:***@127.0.0.1:5432/atende"
        );
        assert_eq!(redact("postgres://localhost/x"), "postgres://localhost/x");
    }
}
