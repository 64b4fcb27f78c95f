//! Drives one handler from Kafka through a consumer group, exactly once per event.

use super::config::KafkaConfig;
use super::dedup;
use super::topics::ensure_topics;
use crate::apply::fence;
use crate::checkpoint::Checkpoint;
use crate::handle::{Handle, Stop};
use crate::handler::{EventHandler, BACKGROUND_PACE};
use crate::parked;
use crate::runner::MAX_BACKOFF;
use crate::runner::{set, sleep_or_stop, ConsumerStatus, RetryPolicy};
use futures::FutureExt;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use schemas::StoredEvent;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Runs handlers from Kafka.
#[derive(Debug)]
pub struct KafkaRunner;

impl KafkaRunner {
    /// Starts `handler` as a member of its consumer group (`<group prefix>.<name>`).
    ///
    /// Offsets are committed only after the transaction that applied the events and recorded
    /// them in `stream_dedup` committed; a redelivery after a crash or a rebalance finds them
    /// recorded and skips them.
    pub fn spawn(
        handler: Arc<dyn EventHandler>,
        pool: PgPool,
        config: KafkaConfig,
        policy: RetryPolicy,
    ) -> Result<Handle, KafkaError> {
        let mut client = config.client();
        client
            .set("group.id", config.group(handler.name()))
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "1000")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("fetch.wait.max.ms", fetch_wait(handler.as_ref()));
        let consumer: StreamConsumer = config.with_options(&mut client).create()?;
        let status = Arc::new(Mutex::new(ConsumerStatus {
            name: handler.name().to_owned(),
            ..Default::default()
        }));
        let ctx = Ctx {
            handler,
            pool,
            config,
            policy,
            status: status.clone(),
        };
        Ok(Handle::spawn(move |stop| run(ctx, consumer, stop)).with_status(status))
    }
}

/// How long the broker may hold a fetch that finds nothing new: a broker answers as soon as
/// it has data, or after this long without, and some (like tansu) always wait it out, so this
/// is the latency floor of a consumer. Consumers nobody waits on poll seldom, which leaves the
/// broker's time to those someone does (measured with tansu in BENCHMARKS.md: at 50 ms for
/// every consumer group the broker took most of a core).
fn fetch_wait(handler: &dyn EventHandler) -> &'static str {
    if handler.pace() >= BACKGROUND_PACE {
        BACKGROUND_FETCH_WAIT_MS
    } else {
        LIVE_FETCH_WAIT_MS
    }
}

const LIVE_FETCH_WAIT_MS: &str = "30";
const BACKGROUND_FETCH_WAIT_MS: &str = "500";

struct Ctx {
    handler: Arc<dyn EventHandler>,
    pool: PgPool,
    config: KafkaConfig,
    policy: RetryPolicy,
    status: Arc<Mutex<ConsumerStatus>>,
}

#[tracing::instrument(name = "consuming the stream from kafka", skip_all, fields(consumer = ctx.handler.name()))]
async fn run(ctx: Ctx, consumer: StreamConsumer, mut stop: Stop) {
    let mut backoff = ctx.policy.backoff;
    loop {
        let subscribed = match ensure_topics(&ctx.config).await {
            Ok(()) => {
                let topics: Vec<String> = ctx
                    .handler
                    .aggregate_types()
                    .iter()
                    .map(|t| ctx.config.topic(t))
                    .collect();
                let names: Vec<&str> = topics.iter().map(String::as_str).collect();
                consumer.subscribe(&names)
            }
            Err(e) => Err(e),
        };
        match subscribed {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "subscribing to the stream's topics failed");
                set(&ctx.status, |s| s.last_error = Some(e.to_string()));
                if sleep_or_stop(&mut stop, backoff).await {
                    return;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    loop {
        let first = tokio::select! {
            m = consumer.recv() => m,
            _ = stop.wait() => break,
        };
        let mut messages = match first {
            Ok(m) => vec![m],
            Err(e) => {
                tracing::warn!(error = %e, "receiving from kafka failed");
                set(&ctx.status, |s| s.last_error = Some(e.to_string()));
                if sleep_or_stop(&mut stop, ctx.policy.backoff).await {
                    break;
                }
                continue;
            }
        };
        // Whatever else is already fetched joins the batch: one transaction for many events.
        while messages.len() < ctx.config.batch_size {
            match consumer.recv().now_or_never() {
                Some(Ok(m)) => messages.push(m),
                _ => break,
            }
        }
        let mut offsets: BTreeMap<(String, i32), i64> = BTreeMap::new();
        let mut events = Vec::with_capacity(messages.len());
        for m in &messages {
            offsets.insert((m.topic().to_owned(), m.partition()), m.offset() + 1);
            match m.payload().map(serde_json::from_slice::<StoredEvent>) {
                Some(Ok(event)) => events.push(event),
                // Not ours to repair: the relay only writes stored events, so this is a
                // stranger's message on our topic. Logged and passed over.
                other => tracing::error!(
                    topic = m.topic(),
                    partition = m.partition(),
                    offset = m.offset(),
                    error = ?other.and_then(Result::err).map(|e| e.to_string()),
                    "a message on the stream is not a stored event; skipped"
                ),
            }
        }
        drop(messages);
        let Some(applied) = apply_with_retries(&ctx, events, &mut stop).await else {
            break;
        };
        set(&ctx.status, |s| {
            s.applied += applied.applied;
            s.parked += applied.parked;
            s.checkpoint = s.checkpoint.max(applied.furthest);
            s.last_error = None;
        });
        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), offset) in offsets {
            if let Err(e) = tpl.add_partition_offset(&topic, partition, Offset::Offset(offset)) {
                tracing::warn!(error = %e, "recording an offset failed");
            }
        }
        // A partition revoked meanwhile refuses the store; its new owner redelivers and the
        // dedup table skips what was applied here.
        if let Err(e) = consumer.store_offsets(&tpl) {
            tracing::info!(error = %e, "storing offsets failed (partitions moved); the new owner skips the applied events");
        }
    }
    if let Err(e) = consumer.commit_consumer_state(CommitMode::Sync) {
        tracing::info!(error = %e, "committing offsets at shutdown failed; the next owner skips the applied events");
    }
}

struct Applied {
    applied: u64,
    parked: u64,
    furthest: Checkpoint,
}

/// Applies the batch, retrying it, then event by event, parking what keeps failing.
/// `None` when asked to stop before it was done (nothing stored; it will be redelivered).
async fn apply_with_retries(
    ctx: &Ctx,
    events: Vec<StoredEvent>,
    stop: &mut Stop,
) -> Option<Applied> {
    let furthest = events
        .iter()
        .map(|e| Checkpoint {
            tx_id: e.tx_id,
            position: e.position,
        })
        .max()
        .unwrap_or_default();
    let mut backoff = ctx.policy.backoff;
    let mut failures = 0;
    loop {
        match apply(ctx, events.clone()).await {
            Ok(applied) => {
                return Some(Applied {
                    applied,
                    parked: 0,
                    furthest,
                })
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, retry_in = ?backoff, "applying events from kafka failed; retrying");
                set(&ctx.status, |s| s.last_error = Some(e.clone()));
                if failures >= ctx.policy.batch_attempts
                    && ctx.handler.can_park()
                    && events.len() > 1
                {
                    break;
                }
                if sleep_or_stop(stop, backoff).await {
                    return None;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
    let mut out = Applied {
        applied: 0,
        parked: 0,
        furthest,
    };
    for event in events {
        let mut backoff = ctx.policy.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match apply(ctx, vec![event.clone()]).await {
                Ok(n) => {
                    out.applied += n;
                    break;
                }
                Err(e) if attempt >= ctx.policy.event_attempts && ctx.handler.can_park() => {
                    match park(ctx, &event, &e, attempt).await {
                        Ok(()) => {
                            out.parked += 1;
                            break;
                        }
                        Err(pe) => set(&ctx.status, |s| s.last_error = Some(pe.to_string())),
                    }
                }
                Err(e) => set(&ctx.status, |s| s.last_error = Some(e)),
            }
            if sleep_or_stop(stop, backoff).await {
                return None;
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
    Some(out)
}

/// One transaction: the consumer's fence, the events not applied yet, their effect, their
/// dedup record. Returns how many were new.
async fn apply(ctx: &Ctx, events: Vec<StoredEvent>) -> Result<u64, String> {
    transaction(ctx, events).await.map_err(|e| e.to_string())
}

async fn transaction(ctx: &Ctx, events: Vec<StoredEvent>) -> Result<u64, ApplyFailed> {
    let name = ctx.handler.name();
    let mut tx = ctx.pool.begin().await?;
    fence(&mut tx, name).await?;
    let fresh = dedup::fresh(&mut tx, name, events).await?;
    if fresh.is_empty() {
        return Ok(0);
    }
    ctx.handler
        .handle_batch(&mut tx, &fresh)
        .await
        .map_err(|e| ApplyFailed::Handler(e.to_string()))?;
    dedup::record(&mut tx, name, &fresh).await?;
    tx.commit().await?;
    Ok(fresh.len() as u64)
}

/// Records `event` as parked and as applied, so the consumer moves on.
#[tracing::instrument(name = "parking an event from kafka the handler keeps failing on", skip_all,
    fields(consumer = ctx.handler.name(), position = event.position))]
async fn park(
    ctx: &Ctx,
    event: &StoredEvent,
    error: &str,
    attempts: u32,
) -> Result<(), sqlx::Error> {
    let name = ctx.handler.name();
    let mut tx = ctx.pool.begin().await?;
    fence(&mut tx, name).await?;
    let attempts = i32::try_from(attempts).unwrap_or(i32::MAX);
    parked::park(&mut tx, name, event, error, attempts).await?;
    dedup::record(&mut tx, name, std::slice::from_ref(event)).await?;
    tx.commit().await?;
    tracing::warn!(
        error,
        attempts,
        "an event was parked; the consumer moves on"
    );
    Ok(())
}

#[derive(Debug, thiserror::Error)]
enum ApplyFailed {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Handler(String),
}
