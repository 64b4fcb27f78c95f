//! What the subscription aggregate needs from outside.

use crate::clock::Clock;
use std::fmt;
use std::sync::Arc;

/// The services the subscription aggregate uses.
#[derive(Clone)]
pub struct SubscriptionServices {
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl SubscriptionServices {
    /// Services from their parts.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock }
    }
}

impl fmt::Debug for SubscriptionServices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriptionServices")
            .finish_non_exhaustive()
    }
}
