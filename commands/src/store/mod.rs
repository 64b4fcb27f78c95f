//! One aggregate type's store: postgres-es with snapshots, metadata and conflict retry.

mod snapshotting;

pub use snapshotting::SnapshottingStore;

use crate::error::CommandError;
use aggregates::error::DomainError;
use cqrs_es::{Aggregate, CqrsFramework, EventStore};
use schemas::CommandMetadata;
use sqlx::PgPool;
use std::sync::Arc;

/// Called after every commit; wakes in-process stream consumers.
pub type CommitHook = Arc<dyn Fn() + Send + Sync>;

/// How many times a command is re-run after a concurrent write to the same aggregate.
/// cqrs-es reports the conflict but does not retry; a re-run re-reads the new state, so
/// the business rules are checked again against what the other writer did.
const CONFLICT_RETRIES: usize = 5;

/// Executes commands on one aggregate type and loads its current state.
pub struct AggregateStore<A: Aggregate> {
    cqrs: CqrsFramework<A, SnapshottingStore<A>>,
    reader: SnapshottingStore<A>,
    on_commit: CommitHook,
}

impl<A: Aggregate> std::fmt::Debug for AggregateStore<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AggregateStore").field("type", &A::TYPE).finish()
    }
}

impl<A> AggregateStore<A>
where
    A: Aggregate + 'static,
    A::Error: DomainError,
    A::Command: Clone,
{
    /// A store writing to `pool`, snapshotting every `snapshot_every` events so a command
    /// never reads more than that many events.
    pub fn new(pool: PgPool, services: A::Services, snapshot_every: usize, on_commit: CommitHook) -> Self {
        let store = SnapshottingStore::new(pool.clone(), snapshot_every);
        let reader = SnapshottingStore::new(pool, snapshot_every);
        Self {
            cqrs: CqrsFramework::new(store, vec![], services),
            reader,
            on_commit,
        }
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
        let map = metadata.to_map();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .cqrs
                .execute_with_metadata(id, command.clone(), map.clone())
                .await
            {
                Ok(()) => {
                    (self.on_commit)();
                    return Ok(());
                }
                Err(cqrs_es::AggregateError::AggregateConflict) if attempt <= CONFLICT_RETRIES => {
                    tracing::debug!(attempt, "concurrent write to the aggregate; retrying");
                }
                Err(e) => return Err(CommandError::from_aggregate(A::TYPE, e)),
            }
        }
    }

    /// The aggregate's current state and last sequence (0 when it has no events).
    pub async fn load(&self, id: &str) -> Result<(A, usize), CommandError> {
        let ctx = self
            .reader
            .load_aggregate(id)
            .await
            .map_err(|e| CommandError::from_aggregate(A::TYPE, e))?;
        Ok((ctx.aggregate, ctx.current_sequence))
    }
}
