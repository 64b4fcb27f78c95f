//! One aggregate type's store: postgres-es with snapshots, metadata and conflict retry.

mod load;
mod snapshotting;

pub use snapshotting::{Committed, SnapshottingStore};

use crate::error::CommandError;
use crate::privacy::{KeyRing, Subject};
use aggregates::error::DomainError;
use aggregates::Clock;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, AggregateError};
use schemas::personal::Sealer;
use schemas::CommandMetadata;
use sqlx::PgPool;
use std::sync::Arc;

/// Called after every commit with the aggregate type and id; wakes in-process stream
/// consumers and invalidates caches that depend on that aggregate.
pub type CommitHook = Arc<dyn Fn(&'static str, &str) + Send + Sync>;

/// How many times a command is re-run after a concurrent write to the same aggregate.
/// A re-run re-reads the new state, so the rules are checked again against what the other
/// writer did. With n writers racing on one aggregate the unluckiest loses n-1 times, so
/// this is generous, and re-runs back off with jitter so the racers spread out.
const CONFLICT_RETRIES: u32 = 20;

/// Sleeps a random 0..=(2 × attempt) ms, capped at 50 ms.
async fn back_off(attempt: u32) {
    let ceiling = u64::from(attempt * 2).min(50);
    let ms = rand::random::<u64>() % (ceiling + 1);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

/// Executes commands on one aggregate type and loads its current state.
pub struct AggregateStore<A: Aggregate> {
    store: SnapshottingStore<A>,
    services: A::Services,
    on_commit: CommitHook,
    keys: Option<Arc<KeyRing>>,
    clock: Arc<dyn Clock>,
}

impl<A: Aggregate> std::fmt::Debug for AggregateStore<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AggregateStore")
            .field("type", &A::TYPE)
            .finish()
    }
}

impl<A> AggregateStore<A>
where
    A: Aggregate + Clone + 'static,
    A::Error: DomainError,
    A::Command: Clone,
{
    /// A store writing to `pool`, snapshotting every `snapshot_every` events so a command
    /// never reads more than that many events.
    pub fn new(
        pool: PgPool,
        services: A::Services,
        snapshot_every: usize,
        on_commit: CommitHook,
        keys: Option<Arc<KeyRing>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store: SnapshottingStore::new(pool, snapshot_every),
            services,
            on_commit,
            keys,
            clock,
        }
    }

    /// Whose personal data this command's events carry.
    fn subject(&self, id: &str, metadata: &CommandMetadata) -> Option<Subject> {
        Subject::of(A::TYPE, id, metadata.tenant_id)
    }

    /// The key that seals the personal data of this command's events.
    async fn sealer(
        &self,
        id: &str,
        metadata: &CommandMetadata,
    ) -> Result<Option<Arc<dyn Sealer>>, CommandError> {
        let (Some(keys), Some(subject)) = (&self.keys, self.subject(id, metadata)) else {
            return Ok(None);
        };
        let key = keys
            .key_for(&subject, subject.period(self.clock.now()))
            .await
            .map_err(|e| CommandError::Store(Box::new(e)))?;
        Ok(Some(Arc::new(key)))
    }

    /// Executes `command` on aggregate `id`, storing `metadata` with the events.
    #[tracing::instrument(
        name = "executing a command",
        skip_all,
        fields(aggregate = A::TYPE, id = %id, request_id = %metadata.request_id)
    )]
    pub async fn execute(
        &self,
        id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
    ) -> Result<(), CommandError> {
        let started = std::time::Instant::now();
        let result = self.execute_once(id, command, metadata).await;
        let outcome = match &result {
            Ok(()) => "ok",
            Err(CommandError::Rejected { .. }) => "refused",
            Err(CommandError::Contended { .. }) => "contended",
            Err(CommandError::Store(_)) => "failed",
        };
        ::metrics::histogram!(
            "atende_command_duration_seconds",
            "aggregate" => A::TYPE,
            "outcome" => outcome,
        )
        .record(started.elapsed().as_secs_f64());
        result
    }

    async fn execute_once(
        &self,
        id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
    ) -> Result<(), CommandError> {
        let map = metadata.to_map();
        let mut conflicts = 0;
        let mut use_cache = true;
        let mut try_new_key = true;
        loop {
            let (mut ctx, from_cache) = self.store.load(id, use_cache).await.map_err(fail::<A>)?;
            let sink = EventSink::<A>::default();
            let handled = ctx
                .aggregate
                .handle(command.clone(), &self.services, &sink)
                .await;
            let events = sink.collect().await;
            // A refusal or a no-op decided on cached state may be wrong if another process
            // wrote since; only appends are checked by the store, so decide those again.
            if from_cache && (handled.is_err() || events.is_empty()) {
                use_cache = false;
                continue;
            }
            if let Err(e) = handled {
                return Err(fail::<A>(AggregateError::UserError(e)));
            }
            if events.is_empty() {
                return Ok(());
            }
            // A new conversation's contact has no key yet: it is stored by the statement
            // that appends its first events, not by one of its own.
            let pending = match (&self.keys, ctx.current_sequence) {
                (Some(keys), 0) if try_new_key => self
                    .subject(id, metadata)
                    .filter(|s| s.id == Subject::contact(id, metadata.tenant_id).id)
                    .and_then(|s| keys.pending_key(&s, s.period(self.clock.now()))),
                _ => None,
            };
            let sealer = match &pending {
                Some(p) => Some(Arc::new(p.key.clone()) as Arc<dyn Sealer>),
                None => self.sealer(id, metadata).await?,
            };
            let row = pending.as_ref().map(|p| &p.row);
            match self.store.commit(events, ctx, &map, sealer, row).await {
                Ok(Committed::Appended) => {
                    if let (Some(keys), Some(p)) = (&self.keys, &pending) {
                        keys.remember(p);
                    }
                    (self.on_commit)(A::TYPE, id);
                    return Ok(());
                }
                Ok(Committed::KeyNotStored) => {
                    try_new_key = false;
                    use_cache = false;
                }
                Err(AggregateError::AggregateConflict) if conflicts < CONFLICT_RETRIES => {
                    conflicts += 1;
                    ::metrics::counter!("atende_command_conflicts_total", "aggregate" => A::TYPE)
                        .increment(1);
                    self.store.evict(id);
                    use_cache = false;
                    tracing::debug!(conflicts, "concurrent write to the aggregate; retrying");
                    back_off(conflicts).await;
                }
                Err(e) => {
                    self.store.evict(id);
                    return Err(fail::<A>(e));
                }
            }
        }
    }

    /// The aggregate's current stored state and last sequence (0 when it has no events).
    pub async fn load(&self, id: &str) -> Result<(A, usize), CommandError> {
        let (ctx, _) = self.store.load(id, false).await.map_err(fail::<A>)?;
        Ok((ctx.aggregate, ctx.current_sequence))
    }
}

fn fail<A: Aggregate>(e: AggregateError<A::Error>) -> CommandError
where
    A::Error: DomainError,
{
    CommandError::from_aggregate(A::TYPE, e)
}
