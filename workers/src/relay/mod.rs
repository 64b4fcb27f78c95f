//! The relay (F61): every stored event, in commit order, from the event-store tail to Kafka.
//!
//! One relay publishes at a time (a PostgreSQL advisory lock elects it), so several worker
//! processes may all run one. Its checkpoint (`stream_checkpoints`, consumer `kafka_relay`)
//! moves only after the broker acknowledged every message of a batch; a failed batch is sent
//! again from the checkpoint, so an outage pauses the relay and it resumes without loss.
//! Resent messages are duplicates the consumers' dedup skips (at least once on the wire,
//! exactly once in effect).

mod publish;

pub use publish::{Publisher, RelayError};

use sqlx::PgConnection;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stream::checkpoint;
use stream::kafka::{ensure_topics, KafkaConfig};
use stream::{Checkpoint, ConsumerStatus, Handle, Stop, Tail};

/// The relay's name: its checkpoint and its status are stored under it.
pub const RELAY: &str = "kafka_relay";

const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Starts the relay from the tail to the brokers of `config`.
pub fn spawn(tail: Tail, config: KafkaConfig) -> Result<Handle, RelayError> {
    let publisher = Publisher::new(&config)?;
    let status = Arc::new(Mutex::new(ConsumerStatus {
        name: RELAY.to_owned(),
        ..Default::default()
    }));
    let view = status.clone();
    Ok(Handle::spawn(move |stop| run(tail, config, publisher, status, stop)).with_status(view))
}

fn set(status: &Mutex<ConsumerStatus>, f: impl FnOnce(&mut ConsumerStatus)) {
    if let Ok(mut s) = status.lock() {
        f(&mut s);
    }
}

/// Sleeps, returning true when asked to stop meanwhile.
async fn sleep_or_stop(stop: &mut Stop, d: Duration) -> bool {
    stop.sleep(d).await
}

#[tracing::instrument(name = "relaying the event store to kafka", skip_all)]
async fn run(
    mut tail: Tail,
    config: KafkaConfig,
    mut publisher: Publisher,
    status: Arc<Mutex<ConsumerStatus>>,
    mut stop: Stop,
) {
    let mut backoff = Duration::from_millis(100);
    // Held for as long as this relay runs: the session lock makes it the only publisher.
    let _leader = loop {
        match lead(&tail, &config).await {
            Ok(Some(conn)) => break conn,
            Ok(None) => tracing::debug!("another relay is publishing; waiting"),
            Err(e) => {
                tracing::warn!(error = %e, "starting the relay failed; retrying");
                set(&status, |s| s.last_error = Some(e.to_string()));
            }
        }
        if sleep_or_stop(&mut stop, Duration::from_secs(1)).await {
            return;
        }
    };
    let mut at = match checkpoint::load(tail.pool(), RELAY).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "loading the relay's checkpoint failed");
            set(&status, |s| s.last_error = Some(e.to_string()));
            return;
        }
    };
    tracing::info!(?at, "this process relays the event store to kafka");
    set(&status, |s| s.checkpoint = at);
    loop {
        let batch = tokio::select! {
            b = tail.next_batch(at) => b,
            _ = stop.wait() => return,
        };
        let outcome = match batch {
            Ok(events) => match publisher.publish(&events).await {
                Ok(()) => {
                    let last = events.last().map(|e| Checkpoint {
                        tx_id: e.tx_id,
                        position: e.position,
                    });
                    match last {
                        Some(to) => checkpoint::save(tail.pool(), RELAY, to)
                            .await
                            .map(|()| (to, events.len() as u64))
                            .map_err(RelayError::from),
                        None => Ok((at, 0)),
                    }
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(RelayError::from(e)),
        };
        match outcome {
            Ok((to, n)) => {
                ::metrics::counter!("atende_relay_events_total").increment(n);
                at = to;
                backoff = Duration::from_millis(100);
                set(&status, |s| {
                    s.checkpoint = at;
                    s.applied += n;
                    s.last_error = None;
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, cause = ?std::error::Error::source(&e), retry_in = ?backoff, "relaying a batch failed; sending it again from the checkpoint");
                ::metrics::counter!("atende_relay_failures_total").increment(1);
                set(&status, |s| s.last_error = Some(e.to_string()));
                if publisher.is_fatal() || matches!(e, RelayError::Unacknowledged) {
                    match Publisher::new(&config) {
                        Ok(p) => publisher = p,
                        Err(e) => tracing::warn!(error = %e, "replacing the kafka producer failed"),
                    }
                }
                // A broker that came back empty has lost the topics too.
                if let Err(e) = ensure_topics(&config).await {
                    tracing::debug!(error = %e, "the topics cannot be checked yet");
                }
                if sleep_or_stop(&mut stop, backoff).await {
                    return;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Creates the topics and tries to become the publishing relay; the connection holding the
/// lock when it did.
async fn lead(tail: &Tail, config: &KafkaConfig) -> Result<Option<PgConnection>, RelayError> {
    ensure_topics(config).await?;
    // Out of the pool: dropping it closes the session, which releases the lock; a pooled
    // connection would go back to the pool still holding it.
    let mut conn = tail.pool().acquire().await?.detach();
    let (got,): (bool,) =
        sqlx::query_as("SELECT pg_try_advisory_lock(hashtext('kafka_relay_leader'))")
            .fetch_one(&mut conn)
            .await?;
    Ok(got.then_some(conn))
}
