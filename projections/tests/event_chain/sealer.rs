//! The sealer links every event exactly once, across failures, restarts and checkpoints.

use crate::{append, assert_chain_complete, wait_for_links};
use projections::audit::{checkpoints, seal_pending, verify, EventChain, SEALER};
use schemas::StoredEvent;
use sqlx::{PgConnection, PgPool};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use stream::{EventHandler, HandlerError, Runner, Tail};

fn tail(pool: &PgPool) -> Tail {
    Tail::new(pool.clone())
        .with_idle_poll(Duration::from_millis(5))
        .with_batch_size(10)
}

/// The sealer, crashing once right after linking the event at `position`: the runner's
/// transaction then rolls back every link of that batch written so far.
struct CrashOnce {
    inner: EventChain,
    position: i64,
    crashed: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl EventHandler for CrashOnce {
    fn name(&self) -> &'static str {
        SEALER
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        self.inner.handle(db, event).await?;
        if event.position == self.position && !self.crashed.swap(true, Ordering::SeqCst) {
            return Err(HandlerError::Rejected("injected crash".into()));
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sealer_resumes_after_a_crash_mid_batch_without_gaps_or_double_links() {
    let db = testkit::test_database().await.unwrap();
    append(&db.pool, 0, 40).await;
    let crashed = Arc::new(AtomicBool::new(false));
    let sealer = CrashOnce {
        inner: EventChain::new(),
        position: 35,
        crashed: crashed.clone(),
    };
    let runner = Runner::spawn(sealer, tail(&db.pool));
    // Writers keep appending while it seals: they never wait for it.
    append(&db.pool, 40, 40).await;
    wait_for_links(&db.pool, 80).await;
    runner.stop().await;

    assert!(crashed.load(Ordering::SeqCst), "the crash was injected");
    assert_chain_complete(&db.pool).await;
    assert!(verify(&db.pool).await.unwrap().intact);
}

#[tokio::test]
async fn a_restarted_sealer_continues_the_chain_where_the_stopped_one_left_off() {
    let db = testkit::test_database().await.unwrap();
    append(&db.pool, 0, 20).await;
    let first = Runner::spawn(EventChain::new(), tail(&db.pool));
    wait_for_links(&db.pool, 20).await;
    first.stop().await;

    append(&db.pool, 20, 20).await;
    let second = Runner::spawn(EventChain::new(), tail(&db.pool));
    wait_for_links(&db.pool, 40).await;
    second.stop().await;

    assert_chain_complete(&db.pool).await;
    assert!(verify(&db.pool).await.unwrap().intact);
}

#[tokio::test]
async fn resealing_already_sealed_events_links_none_of_them_twice() {
    let db = testkit::test_database().await.unwrap();
    append(&db.pool, 0, 15).await;
    seal_pending(&db.pool, &EventChain::new(), 10)
        .await
        .unwrap();
    // As after a commit the runner saw fail although it went through: delivered again.
    sqlx::query("DELETE FROM stream_checkpoints WHERE consumer = $1")
        .bind(SEALER)
        .execute(&db.pool)
        .await
        .unwrap();
    append(&db.pool, 15, 5).await;
    let sealed = seal_pending(&db.pool, &EventChain::new(), 10)
        .await
        .unwrap();

    assert_eq!(sealed, 20, "every event was delivered again");
    assert_chain_complete(&db.pool).await;
}

async fn checkpointed_links(pool: &PgPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT link_no FROM event_chain_checkpoints ORDER BY link_no")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_checkpoint_is_recorded_every_n_links_and_at_the_end_of_a_stale_log() {
    let db = testkit::test_database().await.unwrap();
    append(&db.pool, 0, 25).await;
    let chain = EventChain::new()
        .with_checkpoint_every(10)
        .with_checkpoint_max_age(Duration::ZERO);
    seal_pending(&db.pool, &chain, 7).await.unwrap();
    assert_eq!(checkpointed_links(&db.pool).await, vec![10, 20, 25]);
}

#[tokio::test]
async fn the_end_of_the_log_is_checkpointed_at_most_once_a_minute() {
    let db = testkit::test_database().await.unwrap();
    let chain = EventChain::new().with_checkpoint_every(100);
    append(&db.pool, 0, 5).await;
    seal_pending(&db.pool, &chain, 10).await.unwrap();
    append(&db.pool, 5, 3).await;
    seal_pending(&db.pool, &chain, 10).await.unwrap();
    assert_eq!(checkpointed_links(&db.pool).await, vec![5]);
}

#[tokio::test]
async fn checkpoints_are_listed_newest_first_a_page_at_a_time_with_the_hash_of_their_link() {
    let db = testkit::test_database().await.unwrap();
    append(&db.pool, 0, 25).await;
    let chain = EventChain::new()
        .with_checkpoint_every(10)
        .with_checkpoint_max_age(Duration::ZERO);
    seal_pending(&db.pool, &chain, 7).await.unwrap();

    let first = checkpoints(&db.pool, None, 2).await.unwrap();
    let links: Vec<i64> = first.iter().map(|c| c.link_no).collect();
    assert_eq!(links, vec![25, 20]);
    let older = checkpoints(&db.pool, Some(20), 2).await.unwrap();
    let links: Vec<i64> = older.iter().map(|c| c.link_no).collect();
    assert_eq!(links, vec![10]);

    let head = verify(&db.pool).await.unwrap();
    assert_eq!(
        first[0].hash, head.head_hash,
        "the newest checkpoint is the head"
    );
    assert_eq!(first[0].position, head.head_position);
    let (position, hash): (i64, Vec<u8>) =
        sqlx::query_as("SELECT position, hash FROM event_chain WHERE link_no = 10")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        (older[0].position, older[0].hash.clone()),
        (position, hex::encode(hash))
    );
}
