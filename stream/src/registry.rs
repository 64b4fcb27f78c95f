//! The handlers a process runs, by name, so the admin API and the CLI can reach them.

use super::handler::EventHandler;
use super::runner::{Runner, RunnerHandle};
use super::source::EventSource;
use super::tail::Tail;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Stream handlers by consumer name. Cheap to clone; the runners and the admin API share
/// the same instances, so a retry or a replay runs exactly the code the runner runs.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: Arc<BTreeMap<&'static str, Arc<dyn EventHandler>>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.handlers.keys()).finish()
    }
}

impl Registry {
    /// A registry of `handlers`; a later handler with an already used name replaces the
    /// earlier one.
    pub fn new(handlers: impl IntoIterator<Item = Arc<dyn EventHandler>>) -> Self {
        Self {
            handlers: Arc::new(handlers.into_iter().map(|h| (h.name(), h)).collect()),
        }
    }

    /// The handler named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn EventHandler>> {
        self.handlers.get(name).cloned()
    }

    /// Every handler, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn EventHandler>> {
        self.handlers.values()
    }

    /// Starts a runner for every handler on `tail`.
    pub fn spawn_all(&self, tail: &Tail) -> Vec<RunnerHandle> {
        self.iter()
            .map(|h| Runner::spawn(h.clone(), tail.clone()))
            .collect()
    }

    /// Starts a runner for every handler on `source`.
    pub fn spawn_on(
        &self,
        source: &EventSource,
    ) -> Result<Vec<RunnerHandle>, rdkafka::error::KafkaError> {
        self.iter().map(|h| source.spawn(h.clone())).collect()
    }
}
