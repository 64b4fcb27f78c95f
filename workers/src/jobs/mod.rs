//! The job runner every queue table of the workers runs on (the WhatsApp sender, the mailer,
//! the AI responder's bursts, the Stripe usage reports).
//!
//! A [`Queue`] knows its table: how to claim due jobs (`FOR UPDATE SKIP LOCKED`, moving
//! each claimed job's next attempt a lease away, so a job whose process died is claimed
//! again once the lease ends), how to do one, and how to record that it was done, is to be
//! retried later or is given up. The [`JobRunner`] owns the policy: it claims a batch, runs
//! it, retries transient failures with [`Backoff`] until [`RunnerConfig::max_attempts`] and
//! gives up permanent ones at once, then waits for a `pg_notify` on the queue's channel,
//! the queue's next due job or the poll interval, whichever comes first. A stop lets the
//! jobs in hand finish and claims no more.

mod runner;

pub use runner::JobRunner;

use std::time::Duration;

/// How one attempt at a job ended; `O` is what the queue records with the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt<O> {
    /// The job is done.
    Done(O),
    /// It failed in a way that may pass: retried after a backoff while attempts remain.
    Transient {
        /// Why, for the logs and the row.
        error: String,
        /// What to record if this attempt was the last.
        output: O,
    },
    /// It failed in a way that will not pass: given up at once.
    Permanent {
        /// Why, for the logs and the row.
        error: String,
        /// What to record with the failure.
        output: O,
    },
}

/// A queue table of jobs.
#[async_trait::async_trait]
pub trait Queue: Send + Sync + 'static {
    /// A claimed job.
    type Job: Send + Sync;
    /// What an attempt hands to [`Queue::complete`] or [`Queue::give_up`].
    type Output: Send;
    /// The queue's errors (the database's, mostly).
    type Error: std::fmt::Display + Send;

    /// The queue's name, in logs.
    fn name(&self) -> &'static str;

    /// Work done before each claim (recording outcomes not yet recorded, writing the jobs
    /// of the round); returns how much it did.
    async fn prepare(&self) -> Result<usize, Self::Error> {
        Ok(0)
    }

    /// Claims up to `limit` due jobs for `lease`, counting the attempt.
    async fn claim(&self, limit: usize, lease: Duration) -> Result<Vec<Self::Job>, Self::Error>;

    /// The number of this attempt at `job`, 1 for the first.
    fn attempt(&self, job: &Self::Job) -> u32;

    /// Tries `job` once.
    async fn run(&self, job: &Self::Job) -> Attempt<Self::Output>;

    /// Records that `job` is done.
    async fn complete(&self, job: &Self::Job, output: Self::Output) -> Result<(), Self::Error>;

    /// Whether the jobs of a claim that ran together are recorded done together, with
    /// [`Queue::complete_all`] once all of them ran, rather than each as it finishes.
    fn completes_together(&self) -> bool {
        false
    }

    /// Records that each of `done` is done (used when [`Queue::completes_together`]): one
    /// statement for all of them where the queue can.
    async fn complete_all(&self, done: Vec<(&Self::Job, Self::Output)>) -> Result<(), Self::Error> {
        for (job, output) in done {
            self.complete(job, output).await?;
        }
        Ok(())
    }

    /// Makes `job` due again `after` from now, noting `error`.
    async fn retry(&self, job: &Self::Job, after: Duration, error: &str)
        -> Result<(), Self::Error>;

    /// Records that `job` is given up.
    async fn give_up(
        &self,
        job: &Self::Job,
        error: &str,
        output: Self::Output,
    ) -> Result<(), Self::Error>;

    /// How long until the next job is due, when the queue can tell; the runner waits at
    /// most this long (and at most the poll interval).
    async fn next_due(&self) -> Option<Duration> {
        None
    }
}

/// Exponential backoff: `base` after the first failed attempt, doubling with each further
/// one, never more than `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Backoff {
    /// The wait before the attempt after `attempts` failed ones.
    pub fn after(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(31);
        self.base
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.max)
    }
}

/// How a [`JobRunner`] runs its queue.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// The `pg_notify` channel that announces new jobs; none: the runner only polls.
    pub channel: Option<&'static str>,
    /// The longest wait between rounds.
    pub poll_interval: Duration,
    /// Wait a poll interval before the first round (a periodic job, not a queue to drain).
    pub wait_first: bool,
    /// Jobs claimed at once.
    pub batch_size: usize,
    /// Jobs of one claim run at once (1: one after the other, in claim order).
    pub concurrency: usize,
    /// How long a claim lasts.
    pub lease: Duration,
    /// The wait before retrying a transient failure.
    pub backoff: Backoff,
    /// Attempts before a transient failure is given up; none: never.
    pub max_attempts: Option<u32>,
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// What [`Queue::prepare`] did.
    pub prepared: usize,
    /// Jobs claimed.
    pub claimed: usize,
    /// Jobs done.
    pub done: usize,
    /// Jobs to be retried.
    pub retried: usize,
    /// Jobs given up.
    pub given_up: usize,
}
