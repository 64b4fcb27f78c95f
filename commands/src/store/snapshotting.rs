//! Loading and appending one aggregate type's events, with snapshots and a state cache.
//!
//! Why not cqrs-es's `PersistedEventStore` for commits: since 0.5 the `EventSink` applies
//! events while the command is handled, and `PersistedEventStore::commit` applies them again
//! to build the snapshot, so every snapshot would count the committing command's events
//! twice. Here the snapshot is the state the command produced, as it is.
//!
//! Why a cache: a command otherwise spends most of its time re-reading state it just wrote.
//! Cached state is only a guess: an append at sequence n+1 succeeds only if the stored
//! history really ends at n (the primary key), so events decided on stale state never land;
//! and `AggregateStore` re-runs on fresh state any command whose cached run wrote nothing.

use crate::group::{insert_events, EventAppends, Grouper, KeyedAppends, APPEND};
use crate::privacy::NewKeyRow;
use cqrs_es::persist::{
    EventStoreAggregateContext, PersistedEventRepository, PersistenceError, SerializedEvent,
};
use cqrs_es::{Aggregate, AggregateError, DomainEvent};
use postgres_es::PostgresEventRepository;
use quick_cache::sync::Cache;
use schemas::personal::{with_sealer, Sealer};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;

/// How many aggregates of one type keep their state in memory.
const CACHED_AGGREGATES: usize = 10_000;

struct Cached<A> {
    aggregate: A,
    sequence: usize,
    snapshot: Option<usize>,
}

/// What a commit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    /// The events were appended.
    Appended,
    /// Nothing was written: the new key could not go with the events (the subject has a
    /// key already, or a snapshot was due); commit again with the stored key.
    KeyNotStored,
}

/// postgres-es storage with a snapshot every `every` events and an in-memory state cache.
pub struct SnapshottingStore<A: Aggregate> {
    repo: PostgresEventRepository,
    pool: PgPool,
    every: usize,
    cache: Cache<String, Arc<Cached<A>>>,
    appends: Grouper<EventAppends>,
    keyed_appends: Grouper<KeyedAppends>,
}

impl<A: Aggregate> std::fmt::Debug for SnapshottingStore<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshottingStore")
            .field("type", &A::TYPE)
            .field("every", &self.every)
            .finish()
    }
}

/// Serializes an event, sealing its personal fields when a subject key is given.
fn to_stored_json<E: serde::Serialize>(
    event: &E,
    sealer: Option<Arc<dyn Sealer>>,
) -> Result<serde_json::Value, serde_json::Error> {
    match sealer {
        Some(s) => with_sealer(s, || serde_json::to_value(event)),
        None => serde_json::to_value(event),
    }
}

type Failure<A> = AggregateError<<A as Aggregate>::Error>;

fn to_json<E: std::error::Error>(e: serde_json::Error) -> AggregateError<E> {
    AggregateError::from(PersistenceError::from(e))
}

impl<A: Aggregate + Clone> SnapshottingStore<A> {
    /// A store over `pool`; `every` is at least 1.
    pub fn new(pool: PgPool, every: usize) -> Self {
        let every = every.max(1);
        Self {
            repo: PostgresEventRepository::new(pool.clone()),
            appends: Grouper::new(pool.clone()),
            keyed_appends: Grouper::new(pool.clone()),
            pool,
            every,
            cache: Cache::new(CACHED_AGGREGATES),
        }
    }

    /// The aggregate's state; from the cache when `cached` allows and it is there.
    /// Returns whether the state came from the cache.
    ///
    /// A cached state is taken out, not copied: states can be large (a conversation keeps
    /// its recent message ids) and the commit puts the new state back. A concurrent command
    /// on the same aggregate meanwhile simply loads from the database.
    pub async fn load(
        &self,
        id: &str,
        cached: bool,
    ) -> Result<(EventStoreAggregateContext<A>, bool), Failure<A>> {
        if cached {
            if let Some((_, c)) = self.cache.remove(id) {
                let c = Arc::try_unwrap(c).unwrap_or_else(|shared| Cached {
                    aggregate: shared.aggregate.clone(),
                    sequence: shared.sequence,
                    snapshot: shared.snapshot,
                });
                let ctx = EventStoreAggregateContext {
                    aggregate_id: id.to_owned(),
                    aggregate: c.aggregate,
                    current_sequence: c.sequence,
                    current_snapshot: c.snapshot,
                };
                return Ok((ctx, true));
            }
        }
        Ok((super::load::load(&self.pool, id).await?, false))
    }

    /// Forgets the cached state of `id`.
    pub fn evict(&self, id: &str) {
        self.cache.remove(id);
    }

    /// Appends `events` after `context`'s sequence; `context.aggregate` must already hold
    /// the state after them (the `EventSink` applied them).
    pub(crate) async fn commit(
        &self,
        events: Vec<A::Event>,
        context: EventStoreAggregateContext<A>,
        metadata: &HashMap<String, String>,
        sealer: Option<Arc<dyn Sealer>>,
        new_key: Option<&NewKeyRow>,
    ) -> Result<Committed, Failure<A>> {
        let last = context.current_sequence;
        let new_last = last + events.len();
        let meta = serde_json::to_value(metadata).map_err(to_json)?;
        let mut serialized = Vec::with_capacity(events.len());
        for (i, event) in events.iter().enumerate() {
            serialized.push(SerializedEvent::new(
                context.aggregate_id.clone(),
                last + i + 1,
                A::TYPE.to_owned(),
                event.event_type(),
                event.event_version(),
                to_stored_json(event, sealer.clone()).map_err(to_json)?,
                meta.clone(),
            ));
        }
        // Snapshot whenever the command crosses a multiple of `every`: a cold load then
        // reads at most `every` events after the snapshot.
        let mut snapshot_version = context.current_snapshot;
        let snapshot = new_last / self.every > last / self.every;
        if let Some(row) = new_key {
            // postgres-es writes snapshots in its own transaction: no room for the key.
            if snapshot || !self.append_with_key(&serialized, row).await? {
                return Ok(Committed::KeyNotStored);
            }
        } else if snapshot {
            let state = serde_json::to_value(&context.aggregate).map_err(to_json)?;
            let version = context.current_snapshot.map_or(1, |v| v + 1);
            self.repo
                .persist::<A>(
                    &serialized,
                    Some((context.aggregate_id.clone(), state, version)),
                )
                .await?;
            snapshot_version = Some(version);
        } else {
            self.append(&serialized).await?;
        }
        self.cache.insert(
            context.aggregate_id,
            Arc::new(Cached {
                aggregate: context.aggregate,
                sequence: new_last,
                snapshot: snapshot_version,
            }),
        );
        Ok(Committed::Appended)
    }

    /// Appends `events` with the new key that seals them; `false` (nothing written) when
    /// the subject already has a key for that period or the place was taken (the command
    /// is then decided again on fresh state, with the stored key). Only a single event goes
    /// this way (with the other first events in flight); a new key with several events is
    /// the caller's to store with its own statement.
    async fn append_with_key(
        &self,
        events: &[SerializedEvent],
        key: &NewKeyRow,
    ) -> Result<bool, Failure<A>> {
        let [event] = events else {
            return Ok(false);
        };
        self.keyed_appends
            .write((event.clone(), key.clone()))
            .await
            .map_err(|e| AggregateError::DatabaseConnectionError(Box::new(e)))
    }

    /// One INSERT statement for all events: atomic on its own, so no BEGIN/COMMIT round trips.
    /// A single event goes with the other single events in flight ([`EventAppends`]).
    async fn append(&self, events: &[SerializedEvent]) -> Result<(), Failure<A>> {
        if let [event] = events {
            return match self.appends.write(event.clone()).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(AggregateError::AggregateConflict),
                Err(e) => Err(AggregateError::DatabaseConnectionError(Box::new(e))),
            };
        }
        match insert_events(APPEND, events).execute(&self.pool).await {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(AggregateError::AggregateConflict)
            }
            Err(e) => Err(AggregateError::DatabaseConnectionError(Box::new(e))),
        }
    }
}
