//! An event store that snapshots the state the command actually produced.
//!
//! cqrs-es 0.5's `PersistedEventStore::commit` builds the snapshot by applying the new events
//! to the context's aggregate, but since 0.5 the `EventSink` has already applied them while
//! the command was handled: every snapshot would count the events of the committing command
//! twice. Loading is correct, so it is delegated; committing is done here, through the same
//! postgres-es repository, snapshotting the context's state as it is.

use cqrs_es::persist::{
    EventStoreAggregateContext, PersistedEventRepository, PersistedEventStore, PersistenceError,
    SerializedEvent,
};
use cqrs_es::{Aggregate, AggregateError, DomainEvent, EventEnvelope, EventStore};
use postgres_es::PostgresEventRepository;
use sqlx::PgPool;
use std::collections::HashMap;

/// postgres-es storage with a snapshot every `every` events.
pub struct SnapshottingStore<A: Aggregate> {
    loader: PersistedEventStore<PostgresEventRepository, A>,
    repo: PostgresEventRepository,
    every: usize,
}

impl<A: Aggregate> std::fmt::Debug for SnapshottingStore<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshottingStore")
            .field("type", &A::TYPE)
            .field("every", &self.every)
            .finish()
    }
}

impl<A: Aggregate> SnapshottingStore<A> {
    /// A store over `pool`; `every` is at least 1.
    pub fn new(pool: PgPool, every: usize) -> Self {
        let every = every.max(1);
        Self {
            loader: PersistedEventStore::new_snapshot_store(
                PostgresEventRepository::new(pool.clone()),
                every,
            ),
            repo: PostgresEventRepository::new(pool),
            every,
        }
    }
}

fn to_json<E: std::error::Error>(e: serde_json::Error) -> AggregateError<E> {
    AggregateError::from(PersistenceError::from(e))
}

impl<A: Aggregate> EventStore<A> for SnapshottingStore<A> {
    type AC = EventStoreAggregateContext<A>;

    async fn load_events(&self, id: &str) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        self.loader.load_events(id).await
    }

    async fn load_aggregate(&self, id: &str) -> Result<Self::AC, AggregateError<A::Error>> {
        self.loader.load_aggregate(id).await
    }

    async fn commit(
        &self,
        events: Vec<A::Event>,
        context: Self::AC,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let last = context.current_sequence;
        let new_last = last + events.len();
        // Snapshot whenever the command crosses a multiple of `every`: a load then reads at
        // most `every` events after the snapshot.
        let snapshot = if new_last / self.every > last / self.every {
            let state = serde_json::to_value(&context.aggregate).map_err(to_json)?;
            let version = context.current_snapshot.map_or(1, |v| v + 1);
            Some((context.aggregate_id.clone(), state, version))
        } else {
            None
        };
        let meta = serde_json::to_value(&metadata).map_err(to_json)?;
        let mut serialized = Vec::with_capacity(events.len());
        let mut envelopes = Vec::with_capacity(events.len());
        for (i, event) in events.into_iter().enumerate() {
            let sequence = last + i + 1;
            serialized.push(SerializedEvent::new(
                context.aggregate_id.clone(),
                sequence,
                A::TYPE.to_owned(),
                event.event_type(),
                event.event_version(),
                serde_json::to_value(&event).map_err(to_json)?,
                meta.clone(),
            ));
            envelopes.push(EventEnvelope {
                aggregate_id: context.aggregate_id.clone(),
                sequence,
                payload: event,
                metadata: metadata.clone(),
            });
        }
        self.repo.persist::<A>(&serialized, snapshot).await?;
        Ok(envelopes)
    }
}
