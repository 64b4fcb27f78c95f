//! The `admin_action` aggregate: the trace of one operator action that no other aggregate
//! records (F46). One aggregate per action, recorded once: the rules are that the action is
//! named like an API operation, the target has a kind, and nothing is recorded twice under
//! one id.

mod aggregate;
#[cfg(test)]
mod tests;

pub use aggregate::{AdminAction, AdminActionCommand, AdminActionError};

use crate::clock::Clock;
use std::fmt;
use std::sync::Arc;

/// The services the admin-action aggregate uses.
#[derive(Clone)]
pub struct AdminActionServices {
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl AdminActionServices {
    /// Services from their parts.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock }
    }
}

impl fmt::Debug for AdminActionServices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminActionServices")
            .finish_non_exhaustive()
    }
}
