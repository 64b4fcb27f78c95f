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
use std::time::Duration;

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
        // Created here so that a bad configuration fails the start, not the task.
        let first = ctx.consumer()?;
        Ok(Handle::spawn(move |stop| run(ctx, first, stop)).with_status(status))
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

impl Ctx {
    /// A fresh member of the handler's consumer group, not subscribed yet.
    fn consumer(&self) -> Result<StreamConsumer, KafkaError> {
        let mut client = self.config.client();
        client
            .set("group.id", self.config.group(self.handler.name()))
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "1000")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("fetch.wait.max.ms", fetch_wait(self.handler.as_ref()));
        self.config.with_options(&mut client).create()
    }
}

/// Why [`consume`] returned.
enum Ended {
    /// Asked to stop.
    Stopped,
    /// The brokers went away or lost the topics: this consumer is done for.
    Outage(KafkaError),
}

/// Whether `e` says the brokers are unreachable or no longer have the stream's topics.
///
/// A consumer that lived through that must not be used again: when a broker comes back
/// without the topics, librdkafka (2.12, and its master as of 2.15) falls back to Fetch v12
/// for the partitions whose topic id it lost, and a leader hint in the reply becomes a
/// metadata update naming neither a topic nor a topic id, which its main thread looks up
/// by a null name (a SIGSEGV in `rd_kafka_metadata_update_op`, seen within seconds of a
/// tansu broker returning empty). A consumer created once the topics exist again knows
/// their ids and never takes that path.
fn lost_the_brokers(e: &KafkaError) -> bool {
    use rdkafka::error::RDKafkaErrorCode as Code;
    matches!(e, KafkaError::MessageConsumptionFatal(_))
        || matches!(
            e.rdkafka_error_code(),
            Some(
                Code::BrokerTransportFailure
                    | Code::AllBrokersDown
                    | Code::UnknownTopic
                    | Code::UnknownTopicOrPartition
            )
        )
}

/// Clears the positions `consumer` stored, so that it commits nothing more.
///
/// Giving up its partitions and closing commit what it stored, and librdkafka holds those
/// commits until the coordinator answers again: a broker that came back empty would take the
/// old positions for the recreated topics, and the group's new member would start there and
/// skip what the relay sent again from offset 0. Without them the new member starts where the
/// group last committed, or at the earliest offset; what it receives twice, `stream_dedup`
/// skips.
fn forget_positions(consumer: &StreamConsumer) {
    let Ok(assigned) = consumer.assignment() else {
        return;
    };
    let mut forget = TopicPartitionList::new();
    for p in assigned.elements() {
        if let Err(e) = forget.add_partition_offset(p.topic(), p.partition(), Offset::Invalid) {
            tracing::debug!(error = %e, "listing a partition to forget failed");
        }
    }
    if forget.count() > 0 {
        if let Err(e) = consumer.store_offsets(&forget) {
            tracing::warn!(error = %e, "clearing the old kafka client's positions failed; the group may resume past events");
        }
    }
}

/// Drops `consumer` off the runtime: closing a group member polls until librdkafka let it
/// go, which with the brokers away takes as long as its requests take to time out.
async fn close(consumer: StreamConsumer) {
    let _ = tokio::task::spawn_blocking(move || drop(consumer)).await;
}

#[tracing::instrument(name = "consuming the stream from kafka", skip_all, fields(consumer = ctx.handler.name()))]
async fn run(ctx: Ctx, first: StreamConsumer, mut stop: Stop) {
    let mut spare = Some(first);
    loop {
        let Some(consumer) = join(&ctx, spare.take(), &mut stop).await else {
            return;
        };
        match consume(&ctx, &consumer, &mut stop).await {
            Ended::Stopped => {
                if let Err(e) = consumer.commit_consumer_state(CommitMode::Sync) {
                    tracing::info!(error = %e, "committing offsets at shutdown failed; the next owner skips the applied events");
                }
                close(consumer).await;
                return;
            }
            Ended::Outage(e) => {
                tracing::warn!(error = %e, "lost the kafka brokers; pausing until they are back with the stream's topics");
                set(&ctx.status, |s| s.last_error = Some(e.to_string()));
                // Its partitions go at once, so it fetches nothing more; closing (a last
                // commit, leaving the group) may wait for the coordinator until the group's
                // session times out, and runs meanwhile.
                forget_positions(&consumer);
                consumer.unsubscribe();
                if let Err(e) = consumer.unassign() {
                    tracing::debug!(error = %e, "unassigning the old kafka client failed");
                }
                // On a thread of its own: a blocking task would hold the runtime's shutdown
                // until librdkafka lets the old member go.
                std::thread::spawn(move || drop(consumer));
            }
        }
    }
}

/// Makes sure the topics exist and subscribes a consumer (`spare`, or a new one) to them,
/// retrying with backoff until the brokers answer. `None` when asked to stop meanwhile.
async fn join(
    ctx: &Ctx,
    mut spare: Option<StreamConsumer>,
    stop: &mut Stop,
) -> Option<StreamConsumer> {
    let mut backoff = ctx.policy.backoff;
    loop {
        match try_join(ctx, &mut spare).await {
            Ok(consumer) => return Some(consumer),
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "subscribing to the stream's topics failed");
                set(&ctx.status, |s| s.last_error = Some(e.to_string()));
            }
        }
        if sleep_or_stop(stop, backoff).await {
            if let Some(consumer) = spare {
                close(consumer).await;
            }
            return None;
        }
        backoff = (backoff * 2).min(REJOIN_MAX_BACKOFF);
    }
}

async fn try_join(
    ctx: &Ctx,
    spare: &mut Option<StreamConsumer>,
) -> Result<StreamConsumer, KafkaError> {
    ensure_topics(&ctx.config).await?;
    let topics: Vec<String> = ctx
        .handler
        .aggregate_types()
        .iter()
        .map(|t| ctx.config.topic(t))
        .collect();
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    let consumer = match spare.take() {
        Some(consumer) => consumer,
        None => ctx.consumer()?,
    };
    match consumer.subscribe(&names) {
        Ok(()) => {
            tracing::debug!(?names, "subscribed a kafka client to the stream's topics");
            Ok(consumer)
        }
        Err(e) => {
            *spare = Some(consumer);
            Err(e)
        }
    }
}

/// The longest wait between two attempts to join: a consumer resumes within this long of
/// the brokers' return (the batch retries back off further, to `MAX_BACKOFF`).
const REJOIN_MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Applies what `consumer` receives until asked to stop or the brokers go away.
async fn consume(ctx: &Ctx, consumer: &StreamConsumer, stop: &mut Stop) -> Ended {
    loop {
        let first = tokio::select! {
            m = consumer.recv() => m,
            _ = stop.wait() => return Ended::Stopped,
        };
        let mut messages = match first {
            Ok(m) => vec![m],
            Err(e) if lost_the_brokers(&e) => return Ended::Outage(e),
            Err(e) => {
                tracing::warn!(error = %e, "receiving from kafka failed");
                set(&ctx.status, |s| s.last_error = Some(e.to_string()));
                if sleep_or_stop(stop, ctx.policy.backoff).await {
                    return Ended::Stopped;
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
        let Some(applied) = apply_with_retries(ctx, events, stop).await else {
            return Ended::Stopped;
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
