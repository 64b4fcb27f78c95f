//! Graceful shutdown of `serve` and `worker`: the signal that starts it, and the grace that
//! bounds it.
//!
//! On SIGTERM or Ctrl-C a process stops taking connections, lets the requests in flight
//! finish, asks every background part to stop after the work in hand (a stream consumer's
//! batch, a job round) so their checkpoints are committed, and stops the embedded
//! PostgreSQL last. The whole sequence gets `ATENDE_SHUTDOWN_GRACE_SECS`: an orchestrator
//! kills a process that takes longer than its own grace, and a kill in the middle of the
//! database's shutdown is worse than a request cut short (whose transaction rolls back).

use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, with the signal's name for the logs.
pub async fn signal() -> &'static str {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term => "SIGTERM",
    }
}

/// The time left of a shutdown's grace, shared by its steps.
#[derive(Debug, Clone, Copy)]
pub struct Grace {
    deadline: Option<Instant>,
}

impl Grace {
    /// A grace of `total` from now.
    pub fn starting_now(total: Duration) -> Self {
        Self {
            deadline: Instant::now().checked_add(total),
        }
    }

    /// What is left of it (zero once it ran out).
    pub fn remaining(&self) -> Duration {
        self.deadline.map_or(Duration::MAX, |d| {
            d.saturating_duration_since(Instant::now())
        })
    }

    /// Runs `step` for at most what is left; `None` when the grace ran out first (the
    /// step is then dropped).
    pub async fn within<F: Future>(&self, step: F) -> Option<F::Output> {
        tokio::time::timeout(self.remaining(), step).await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::Grace;
    use std::time::Duration;

    #[tokio::test]
    async fn a_step_longer_than_the_grace_left_is_cut_short() {
        let grace = Grace::starting_now(Duration::from_millis(300));
        let quick = grace
            .within(tokio::time::sleep(Duration::from_millis(100)))
            .await;
        assert!(quick.is_some());
        assert!(grace.remaining() <= Duration::from_millis(200));
        let slow = grace
            .within(tokio::time::sleep(Duration::from_millis(400)))
            .await;
        assert!(slow.is_none());
        assert_eq!(grace.remaining(), Duration::ZERO);
    }
}
