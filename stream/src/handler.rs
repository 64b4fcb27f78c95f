//! What the runner drives: the handler trait and its error.

use schemas::StoredEvent;
use sqlx::PgConnection;
use std::sync::Arc;
use std::time::Duration;

/// The pace of a consumer nobody watches live (reports, counters, the event chain): it
/// takes what arrived in this time in one transaction instead of one per commit, which on a
/// busy machine leaves the cores to the consumers a person or a customer is waiting for.
pub const BACKGROUND_PACE: Duration = Duration::from_millis(100);

/// The pace of a consumer someone waits on (a dashboard, a customer): idle, it applies each
/// commit at once; under load it takes what arrived in this time in one transaction, which
/// costs less than the transaction per commit it would otherwise fall behind with. Not for
/// the links of a chain of consumers (the AI's answer, its sending): each would add its wait.
pub const LIVE_PACE: Duration = Duration::from_millis(5);

/// The events of `events` about aggregates of `aggregate_type`, in order: what a handler
/// that keeps one aggregate type's state applies of a batch.
pub fn of_aggregate<'a>(events: &'a [StoredEvent], aggregate_type: &str) -> Vec<&'a StoredEvent> {
    events
        .iter()
        .filter(|e| e.aggregate_type == aggregate_type)
        .collect()
}

/// A handler could not apply an event; the runner retries it with backoff, then parks it.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The handler's own database work failed.
    #[error("database error while applying the event")]
    Database(#[from] sqlx::Error),
    /// The event could not be understood (unknown version, malformed payload).
    #[error("cannot apply event: {0}")]
    Rejected(String),
}

/// Something that reacts to stored events: a projection or a worker.
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Stable consumer name; its checkpoint is stored under it.
    fn name(&self) -> &'static str;

    /// Applies one event using `db`, the runner's open transaction. The runner commits it
    /// together with the checkpoint, so the effect happens exactly once.
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError>;

    /// Applies `events`, in tail order, in the runner's open transaction. The default calls
    /// [`EventHandler::handle`] for each; a read model may override it to write a whole batch
    /// in a few statements, as long as the result is the same.
    async fn handle_batch(
        &self,
        db: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), HandlerError> {
        for event in events {
            self.handle(db, event).await?;
        }
        Ok(())
    }

    /// [`EventHandler::handle_batch`] for events given by reference, as a replay's lane picks
    /// them out of a batch it shares (see [`EventHandler::rows_per_aggregate`]). The default
    /// copies them; a read model that applies in lanes overrides it to spare the copies.
    async fn handle_picked(
        &self,
        db: &mut PgConnection,
        events: &[&StoredEvent],
    ) -> Result<(), HandlerError> {
        let owned: Vec<StoredEvent> = events.iter().map(|e| (*e).clone()).collect();
        self.handle_batch(db, &owned).await
    }

    /// The tables this read model owns, unqualified, so a replay can rebuild them elsewhere
    /// and swap them in. Empty (the default) means the handler cannot be replayed: its effects
    /// are not a pure function of the log (workers, the event chain).
    fn tables(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether each row of [`tables`](Self::tables) belongs to one aggregate and only that
    /// aggregate's events change it: a replay may then apply different aggregates' events
    /// in concurrent transactions. False (the default) is always correct.
    fn rows_per_aggregate(&self) -> bool {
        false
    }

    /// Whether an event that keeps failing may be parked so the consumer moves on. Consumers
    /// for which a skipped event is worse than stopping (the event chain) say no and retry
    /// forever instead.
    fn can_park(&self) -> bool {
        true
    }

    /// Whether the handler relies on events of *different* aggregates arriving in commit
    /// order (a subscription's event after its tenant's registration, a hash chain over the
    /// whole log). Kafka orders events only within a partition, that is within one
    /// aggregate, so such handlers keep reading the event-store tail even when Kafka carries
    /// the stream. The default (false) suits handlers that key every write by aggregate and
    /// guard it with that aggregate's sequence.
    fn needs_commit_order(&self) -> bool {
        false
    }

    /// Whether `event` can have any effect here. The runner never opens a transaction for a
    /// batch without such an event (it only moves its checkpoint, now and then), so a
    /// handler that reacts to a few event types says which; the default (true) is always
    /// correct. [`EventHandler::handle`] must ignore an event this refuses.
    fn wants(&self, _event: &StoredEvent) -> bool {
        true
    }

    /// The least time between the starts of two batches ([`BACKGROUND_PACE`] for consumers
    /// nobody waits on; zero, the default, for those someone does).
    fn pace(&self) -> Duration {
        Duration::ZERO
    }

    /// The aggregate types whose events can matter here: through Kafka the runner reads
    /// only their topics (each topic a consumer group fetches costs the broker work on every
    /// fetch). [`EventHandler::wants`] must refuse the events of any other type. The
    /// default is every type.
    fn aggregate_types(&self) -> &'static [&'static str] {
        &crate::kafka::AGGREGATE_TYPES
    }
}

#[async_trait::async_trait]
impl<T: EventHandler + ?Sized> EventHandler for Arc<T> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        (**self).handle(db, event).await
    }

    async fn handle_batch(
        &self,
        db: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), HandlerError> {
        (**self).handle_batch(db, events).await
    }

    async fn handle_picked(
        &self,
        db: &mut PgConnection,
        events: &[&StoredEvent],
    ) -> Result<(), HandlerError> {
        (**self).handle_picked(db, events).await
    }

    fn tables(&self) -> &'static [&'static str] {
        (**self).tables()
    }

    fn rows_per_aggregate(&self) -> bool {
        (**self).rows_per_aggregate()
    }

    fn can_park(&self) -> bool {
        (**self).can_park()
    }

    fn needs_commit_order(&self) -> bool {
        (**self).needs_commit_order()
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        (**self).wants(event)
    }

    fn pace(&self) -> Duration {
        (**self).pace()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        (**self).aggregate_types()
    }
}
