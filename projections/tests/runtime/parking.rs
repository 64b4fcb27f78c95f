use super::*;
use std::sync::Arc;
use stream::parked;
use stream::{RetryError, Runner};

#[tokio::test]
async fn a_handler_that_fails_on_one_event_parks_it_and_the_consumer_continues_past_it() {
    let db = testkit::test_database().await.unwrap();
    Ledger::create_table(&db.pool).await;
    append_many(&db.pool, 0, 10).await;
    append(&db.pool, "poisoned", 1, "Poison").await;
    append_many(&db.pool, 10, 10).await;
    let poison: i64 = sqlx::query_scalar("SELECT position FROM events WHERE event_type = 'Poison'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let handler = Arc::new(Ledger {
        broken: AtomicBool::new(true),
    });
    let runner = Runner::spawn_with(handler, tail(&db.pool), fast());
    caught_up(&db.pool, "ledger").await;
    let status = runner.status();
    runner.stop().await;

    let parked = parked::list(&db.pool, "ledger").await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].position, poison);
    assert_eq!(parked[0].event_type, "Poison");
    assert_eq!(parked[0].aggregate_id, "poisoned");
    assert_eq!(parked[0].attempts, 5);
    assert!(parked[0].error.contains("poison"), "{}", parked[0].error);
    assert_eq!(status.parked, 1);
    let expected: Vec<i64> = all_positions(&db.pool)
        .await
        .into_iter()
        .filter(|p| *p != poison)
        .collect();
    assert_eq!(ledger(&db.pool).await, expected);
    assert_eq!(
        stream::checkpoint::load(&db.pool, "ledger").await.unwrap(),
        head(&db.pool).await
    );
}

#[tokio::test]
async fn a_parked_event_retried_after_the_fix_is_applied_and_unparked() {
    let db = testkit::test_database().await.unwrap();
    Ledger::create_table(&db.pool).await;
    append_many(&db.pool, 0, 5).await;
    append(&db.pool, "poisoned", 1, "Poison").await;
    let handler = Arc::new(Ledger {
        broken: AtomicBool::new(true),
    });
    let runner = Runner::spawn_with(handler.clone(), tail(&db.pool), fast());
    caught_up(&db.pool, "ledger").await;
    runner.stop().await;
    let poison = parked::list(&db.pool, "ledger").await.unwrap()[0].position;
    let t = tail(&db.pool);

    let still = parked::retry(&t, handler.as_ref(), poison).await;
    assert!(
        matches!(still, Err(RetryError::StillFailing(_))),
        "{still:?}"
    );
    assert_eq!(
        parked::list(&db.pool, "ledger").await.unwrap()[0].attempts,
        6
    );

    handler.fix();
    parked::retry(&t, handler.as_ref(), poison).await.unwrap();
    assert!(parked::list(&db.pool, "ledger").await.unwrap().is_empty());
    assert_eq!(ledger(&db.pool).await, all_positions(&db.pool).await);
    let again = parked::retry(&t, handler.as_ref(), poison).await;
    assert!(
        matches!(again, Err(RetryError::NotParked { .. })),
        "{again:?}"
    );
}
