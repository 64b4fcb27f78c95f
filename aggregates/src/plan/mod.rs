//! The `plan` aggregate: a commercial plan admins publish, revise and retire (issue 18).
//! Its id is the plan's key. The configured catalogue (built-in or `ATENDE_PLANS`) is the
//! seed: its plans exist without events, so commands say whether the configuration lists
//! the plan. The rules checked here: a spec has a valid key, a name, a price and quota not
//! below zero and a 3-letter currency; a plan is published once, edited only while it
//! exists and is on sale, and retired once, after which nothing changes it.

mod aggregate;
mod commands;
mod error;
#[cfg(test)]
mod tests;

pub use aggregate::CataloguePlan;
pub use commands::PlanCommand;
pub use error::PlanError;

use crate::clock::Clock;
use std::fmt;
use std::sync::Arc;

/// The services the plan aggregate uses.
#[derive(Clone)]
pub struct PlanServices {
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl PlanServices {
    /// Services from their parts.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock }
    }
}

impl fmt::Debug for PlanServices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlanServices").finish_non_exhaustive()
    }
}
