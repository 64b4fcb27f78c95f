//! How far a long operation (a replay, a verification of the chain) has got, told to
//! whoever runs it: the command line draws a progress bar from it, a server ignores it.
//! Libraries report through this trait and never draw anything themselves.

/// Receives a long operation's progress. Calls come from any task, often many a second.
pub trait Progress: Send + Sync {
    /// The work ahead, in the operation's unit (events, links), once known.
    fn total(&self, total: u64);
    /// The work done so far (never less than at the previous call).
    fn done(&self, done: u64);
}

/// Progress nobody watches.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unwatched;

impl Progress for Unwatched {
    fn total(&self, _: u64) {}
    fn done(&self, _: u64) {}
}
