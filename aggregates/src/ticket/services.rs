//! What the ticket aggregate needs from outside.

use crate::clock::Clock;
use std::fmt;
use std::sync::Arc;

/// The services the ticket aggregate uses.
#[derive(Clone)]
pub struct TicketServices {
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl TicketServices {
    /// Services from their parts.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock }
    }
}

impl fmt::Debug for TicketServices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketServices").finish_non_exhaustive()
    }
}
