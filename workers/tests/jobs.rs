//! The job runner on a real PostgreSQL, with a queue table of its own.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use workers::jobs::{Attempt, Backoff, JobRunner, Queue, RunnerConfig};

const CHANNEL: &str = "test_jobs";

/// A queue whose jobs do what their `kind` says: `ok`, `transient`, `permanent`, `gated`
/// (waits for a permit) or `hang` (never ends, like a process that died mid-job).
#[derive(Debug)]
struct TestQueue {
    pool: PgPool,
    runner: &'static str,
    started: Arc<Notify>,
    gate: Arc<Semaphore>,
}

#[derive(Debug, sqlx::FromRow)]
struct Job {
    id: i32,
    kind: String,
    attempts: i32,
}

#[async_trait::async_trait]
impl Queue for TestQueue {
    type Job = Job;
    type Output = ();
    type Error = sqlx::Error;

    fn name(&self) -> &'static str {
        "test_jobs"
    }

    async fn claim(&self, limit: usize, lease: Duration) -> Result<Vec<Job>, sqlx::Error> {
        sqlx::query_as(
            "UPDATE test_jobs SET attempts = attempts + 1,
                    next_attempt_at = now() + make_interval(secs => $2)
              WHERE id IN (SELECT id FROM test_jobs
                            WHERE status = 'queued' AND next_attempt_at <= now()
                            ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
              RETURNING id, kind, attempts",
        )
        .bind(i64::try_from(limit).unwrap())
        .bind(lease.as_secs_f64())
        .fetch_all(&self.pool)
        .await
    }

    fn attempt(&self, job: &Job) -> u32 {
        u32::try_from(job.attempts).unwrap()
    }

    async fn run(&self, job: &Job) -> Attempt<()> {
        match job.kind.as_str() {
            "ok" => Attempt::Done(()),
            "transient" => Attempt::Transient {
                error: "the peer is busy".into(),
                output: (),
            },
            "permanent" => Attempt::Permanent {
                error: "the peer refused".into(),
                output: (),
            },
            "gated" => {
                self.started.notify_one();
                self.gate.acquire().await.unwrap().forget();
                Attempt::Done(())
            }
            _ => std::future::pending().await,
        }
    }

    async fn complete(&self, job: &Job, (): ()) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE test_jobs SET status = 'done', done_by = $2 WHERE id = $1")
            .bind(job.id)
            .bind(self.runner)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    async fn retry(&self, job: &Job, after: Duration, error: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE test_jobs SET last_error = $2,
                    next_attempt_at = now() + make_interval(secs => $3)
              WHERE id = $1",
        )
        .bind(job.id)
        .bind(error)
        .bind(after.as_secs_f64())
        .execute(&self.pool)
        .await
        .map(drop)
    }

    async fn give_up(&self, job: &Job, error: &str, (): ()) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE test_jobs SET status = 'failed', last_error = $2,
                    given_up = given_up + 1
              WHERE id = $1",
        )
        .bind(job.id)
        .bind(error)
        .execute(&self.pool)
        .await
        .map(drop)
    }
}

fn config() -> RunnerConfig {
    RunnerConfig {
        channel: Some(CHANNEL),
        poll_interval: Duration::from_secs(60),
        wait_first: false,
        batch_size: 10,
        concurrency: 1,
        lease: Duration::from_secs(60),
        backoff: Backoff {
            base: Duration::from_millis(400),
            max: Duration::from_secs(10),
        },
        max_attempts: Some(3),
    }
}

async fn table() -> testkit::TestDatabase {
    let db = testkit::test_database().await.unwrap();
    sqlx::query(
        "CREATE TABLE test_jobs (
             id int PRIMARY KEY,
             kind text NOT NULL,
             status text NOT NULL DEFAULT 'queued',
             attempts int NOT NULL DEFAULT 0,
             next_attempt_at timestamptz NOT NULL DEFAULT now(),
             last_error text,
             given_up int NOT NULL DEFAULT 0,
             done_by text)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    db
}

fn queue(pool: &PgPool, runner: &'static str) -> Arc<TestQueue> {
    Arc::new(TestQueue {
        pool: pool.clone(),
        runner,
        started: Arc::new(Notify::new()),
        gate: Arc::new(Semaphore::new(0)),
    })
}

async fn add(pool: &PgPool, id: i32, kind: &str) {
    sqlx::query("INSERT INTO test_jobs (id, kind) VALUES ($1, $2)")
        .bind(id)
        .bind(kind)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(pool)
        .await
        .unwrap();
}

/// Status, attempts, times given up and who did it.
async fn row(pool: &PgPool, id: i32) -> (String, i32, i32, Option<String>) {
    sqlx::query_as("SELECT status, attempts, given_up, done_by FROM test_jobs WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn until_done(pool: &PgPool, id: i32, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if row(pool, id).await.0 == "done" {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn given_a_runner_died_holding_a_job_when_its_lease_ends_then_another_runner_does_it() {
    let db = table().await;
    add(&db.pool, 1, "hang").await;
    let lease = Duration::from_millis(800);
    let dying = JobRunner::new(
        queue(&db.pool, "a"),
        db.pool.clone(),
        RunnerConfig { lease, ..config() },
    );
    // The first process claims the job and dies in the middle of it.
    let crashed = tokio::spawn(async move { dying.round().await });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while row(&db.pool, 1).await.1 == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never claimed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    crashed.abort();
    sqlx::query("UPDATE test_jobs SET kind = 'ok' WHERE id = 1")
        .execute(&db.pool)
        .await
        .unwrap();

    let other = JobRunner::new(
        queue(&db.pool, "b"),
        db.pool.clone(),
        RunnerConfig { lease, ..config() },
    );
    let early = other.round().await.unwrap();
    assert_eq!(early.claimed, 0, "the lease still holds");
    tokio::time::sleep(lease).await;
    let late = other.round().await.unwrap();
    assert_eq!((late.claimed, late.done), (1, 1));
    assert_eq!(
        row(&db.pool, 1).await,
        ("done".into(), 2, 0, Some("b".into()))
    );
}

#[tokio::test]
async fn given_a_job_in_hand_when_the_runner_is_stopped_then_it_finishes_that_job_and_takes_no_other(
) {
    let db = table().await;
    add(&db.pool, 1, "gated").await;
    add(&db.pool, 2, "gated").await;
    let q = queue(&db.pool, "a");
    let runner = JobRunner::new(
        q.clone(),
        db.pool.clone(),
        RunnerConfig {
            batch_size: 1,
            ..config()
        },
    );
    let handle = runner.spawn();
    tokio::time::timeout(Duration::from_secs(5), q.started.notified())
        .await
        .expect("the first job starts");
    let mut stopping = tokio::spawn(handle.stop());
    // The stop waits for the job in hand.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut stopping)
            .await
            .is_err(),
        "stopped before the job in hand finished"
    );
    q.gate.add_permits(10);
    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .expect("the runner stops once its job is done")
        .unwrap();
    assert_eq!(row(&db.pool, 1).await.0, "done");
    assert_eq!(row(&db.pool, 2).await, ("queued".into(), 0, 0, None));
}

#[tokio::test]
async fn given_a_permanent_failure_then_the_job_is_given_up_once_and_never_tried_again() {
    let db = table().await;
    add(&db.pool, 1, "permanent").await;
    let runner = JobRunner::new(queue(&db.pool, "a"), db.pool.clone(), config());
    let first = runner.round().await.unwrap();
    assert_eq!((first.claimed, first.given_up), (1, 1));
    for _ in 0..3 {
        assert_eq!(runner.round().await.unwrap().claimed, 0);
    }
    assert_eq!(row(&db.pool, 1).await, ("failed".into(), 1, 1, None));
}

#[tokio::test]
async fn given_a_transient_failure_then_it_is_retried_after_a_doubling_backoff_and_given_up_once_at_the_last_attempt(
) {
    let db = table().await;
    add(&db.pool, 1, "transient").await;
    let runner = JobRunner::new(queue(&db.pool, "a"), db.pool.clone(), config());
    let waits_before = |pool: PgPool| async move {
        sqlx::query_scalar::<_, f64>(
            "SELECT extract(epoch FROM next_attempt_at - now())::float8
               FROM test_jobs WHERE id = 1",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    // Attempt 1 fails: due again after the base (0.4 s), not sooner.
    assert_eq!(runner.round().await.unwrap().retried, 1);
    let wait = waits_before(db.pool.clone()).await;
    assert!((0.2..=0.4).contains(&wait), "{wait}");
    assert_eq!(runner.round().await.unwrap().claimed, 0);
    tokio::time::sleep(Duration::from_millis(450)).await;
    // Attempt 2 fails: twice the base.
    assert_eq!(runner.round().await.unwrap().retried, 1);
    let wait = waits_before(db.pool.clone()).await;
    assert!((0.6..=0.8).contains(&wait), "{wait}");
    tokio::time::sleep(Duration::from_millis(850)).await;
    // Attempt 3 is the last.
    assert_eq!(runner.round().await.unwrap().given_up, 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(runner.round().await.unwrap().claimed, 0);
    assert_eq!(row(&db.pool, 1).await, ("failed".into(), 3, 1, None));
}

#[tokio::test]
async fn given_an_idle_runner_when_a_job_is_notified_then_it_runs_long_before_the_poll_interval() {
    let db = table().await;
    let handle = JobRunner::new(queue(&db.pool, "a"), db.pool.clone(), config()).spawn();
    // Once the first job is done the runner listens and waits out its 60 s poll interval.
    add(&db.pool, 1, "ok").await;
    assert!(until_done(&db.pool, 1, Duration::from_secs(5)).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    add(&db.pool, 2, "ok").await;
    assert!(
        until_done(&db.pool, 2, Duration::from_secs(5)).await,
        "the notification did not wake the runner"
    );
    handle.stop().await;
}

#[test]
fn the_backoff_doubles_from_its_base_up_to_its_cap() {
    let backoff = Backoff {
        base: Duration::from_secs(30),
        max: Duration::from_secs(100),
    };
    assert_eq!(backoff.after(1), Duration::from_secs(30));
    assert_eq!(backoff.after(2), Duration::from_secs(60));
    assert_eq!(backoff.after(3), Duration::from_secs(100));
    assert_eq!(backoff.after(400), Duration::from_secs(100));
}
