//! The loop: claim, run, settle, wait.

use super::{Attempt, Queue, Round, RunnerConfig};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use stream::{Handle, Stop};

/// Runs a [`Queue`]'s jobs; see the [module docs](super).
#[derive(Debug)]
pub struct JobRunner<Q> {
    queue: Arc<Q>,
    pool: PgPool,
    config: RunnerConfig,
}

impl<Q> Clone for JobRunner<Q> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            pool: self.pool.clone(),
            config: self.config.clone(),
        }
    }
}

/// How one job was settled.
enum Settled {
    Done,
    Retried,
    GivenUp,
}

impl<Q: Queue> JobRunner<Q> {
    /// A runner of `queue`, listening for its notifications on `pool`.
    pub fn new(queue: Arc<Q>, pool: PgPool, config: RunnerConfig) -> Self {
        Self {
            queue,
            pool,
            config,
        }
    }

    /// The queue it runs.
    pub fn queue(&self) -> &Arc<Q> {
        &self.queue
    }

    /// Prepares, claims one batch and runs it; returns what it did. An error recording an
    /// outcome ends the round: the jobs not settled yet are claimed again after their lease.
    pub async fn round(&self) -> Result<Round, Q::Error> {
        let mut round = Round {
            prepared: self.queue.prepare().await?,
            ..Round::default()
        };
        let jobs = self
            .queue
            .claim(self.config.batch_size.max(1), self.config.lease)
            .await?;
        round.claimed = jobs.len();
        for chunk in jobs.chunks(self.config.concurrency.max(1)) {
            let settled = if self.queue.completes_together() {
                self.settle_together(chunk).await?
            } else {
                futures::future::join_all(chunk.iter().map(|j| self.settle(j))).await
            };
            for s in settled {
                match s? {
                    Settled::Done => round.done += 1,
                    Settled::Retried => round.retried += 1,
                    Settled::GivenUp => round.given_up += 1,
                }
            }
        }
        Ok(round)
    }

    /// Runs `chunk` at once, records the failures one by one and the jobs done together.
    async fn settle_together(
        &self,
        chunk: &[Q::Job],
    ) -> Result<Vec<Result<Settled, Q::Error>>, Q::Error> {
        let attempts = futures::future::join_all(
            chunk
                .iter()
                .map(|j| async move { (j, self.queue.run(j).await) }),
        )
        .await;
        let mut done = Vec::new();
        let mut settled = Vec::with_capacity(chunk.len());
        for (job, attempt) in attempts {
            match attempt {
                Attempt::Done(output) => done.push((job, output)),
                failed => settled.push(self.settle_attempt(job, failed).await),
            }
        }
        let n = done.len();
        if n > 0 {
            self.queue.complete_all(done).await?;
        }
        settled.extend((0..n).map(|_| Ok(Settled::Done)));
        Ok(settled)
    }

    async fn settle(&self, job: &Q::Job) -> Result<Settled, Q::Error> {
        let attempt = self.queue.run(job).await;
        self.settle_attempt(job, attempt).await
    }

    async fn settle_attempt(
        &self,
        job: &Q::Job,
        attempt_outcome: Attempt<Q::Output>,
    ) -> Result<Settled, Q::Error> {
        let attempt = self.queue.attempt(job);
        match attempt_outcome {
            Attempt::Done(output) => {
                self.queue.complete(job, output).await?;
                Ok(Settled::Done)
            }
            Attempt::Transient { error, output }
                if self.config.max_attempts.is_some_and(|max| attempt >= max) =>
            {
                self.queue.give_up(job, &error, output).await?;
                Ok(Settled::GivenUp)
            }
            Attempt::Transient { error, .. } => {
                let after = self.config.backoff.after(attempt);
                self.queue.retry(job, after, &error).await?;
                Ok(Settled::Retried)
            }
            Attempt::Permanent { error, output } => {
                self.queue.give_up(job, &error, output).await?;
                Ok(Settled::GivenUp)
            }
        }
    }

    /// Runs rounds in the background until stopped: straight on after a full batch,
    /// otherwise after a notification, the queue's next due job or the poll interval.
    pub fn spawn(self) -> Handle {
        Handle::spawn(move |stop| self.run(stop))
    }

    async fn run(self, mut stop: Stop) {
        let name = self.queue.name();
        let mut listener = self.listen().await;
        let poll = self.config.poll_interval;
        if self.config.wait_first {
            tokio::select! {
                _ = stop.wait() => return,
                _ = tokio::time::sleep(poll) => {}
            }
        }
        loop {
            if stop.requested() {
                return;
            }
            match self.round().await {
                Ok(r) if r.claimed >= self.config.batch_size.max(1) => continue,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(queue = name, error = %e, "a job round failed; retrying later")
                }
            }
            let wait = match self.queue.next_due().await {
                Some(due) => due.min(poll),
                None => poll,
            };
            tokio::select! {
                _ = stop.wait() => return,
                _ = wake(&mut listener, wait) => {}
            }
        }
    }

    async fn listen(&self) -> Option<PgListener> {
        let channel = self.config.channel?;
        let listener = async {
            let mut l = PgListener::connect_with(&self.pool).await?;
            l.listen(channel).await?;
            Ok::<_, sqlx::Error>(l)
        };
        match listener.await {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!(queue = self.queue.name(), error = %e, "cannot listen for new jobs; polling only");
                None
            }
        }
    }
}

/// Returns on a notification or after `wait`.
async fn wake(listener: &mut Option<PgListener>, wait: Duration) {
    match listener {
        // An error (a lost connection) ends the wait early; sqlx reconnects on the next
        // receive.
        Some(l) => {
            let _ = tokio::time::timeout(wait, l.recv()).await;
        }
        None => tokio::time::sleep(wait).await,
    }
}
