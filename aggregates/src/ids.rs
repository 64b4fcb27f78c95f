//! Fresh ids for the things aggregates create (outbound messages), behind a trait so
//! tests can predict them.

use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;

/// A source of new unique ids.
pub trait IdGenerator: Send + Sync {
    /// A new id, never returned before.
    fn new_id(&self) -> Uuid;
}

/// Time-ordered random ids (UUIDv7), for production.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

/// Ids 1, 2, 3, … (as `Uuid::from_u128`), for tests that assert on them.
#[derive(Debug, Default)]
pub struct SequentialIds {
    last: AtomicU64,
}

impl SequentialIds {
    /// A generator whose first id is `Uuid::from_u128(first)`.
    pub fn starting_at(first: u64) -> Self {
        Self {
            last: AtomicU64::new(first.saturating_sub(1)),
        }
    }
}

impl IdGenerator for SequentialIds {
    fn new_id(&self) -> Uuid {
        Uuid::from_u128(u128::from(self.last.fetch_add(1, Ordering::Relaxed)) + 1)
    }
}
