use super::*;
use projections::builtin::AggregateIndex;
use std::sync::Arc;
use stream::parked;
use stream::replay::{replay, replay_all, replay_all_tuned, ReplayError, Tuning};
use stream::Runner;

/// The live table as text, row by row in key order.
async fn dump(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT a::text FROM aggregate_index a ORDER BY aggregate_type, aggregate_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn append_with_tenants(pool: &PgPool, n: i64) {
    for i in 0..n {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('conversation', $1, $2, 'MessageReceived', '1', '{}',
                     jsonb_build_object('tenant_id', $3::text))",
        )
        .bind(format!("c-{}", i % 7))
        .bind(i / 7 + 1)
        .bind(uuid::Uuid::from_u128(u128::from(i as u64 % 3 + 1)).to_string())
        .execute(pool)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn replaying_the_same_log_produces_byte_identical_read_models() {
    let db = testkit::test_database().await.unwrap();
    append_with_tenants(&db.pool, 60).await;
    append_many(&db.pool, 0, 25).await;
    let runner = Runner::spawn(AggregateIndex, tail(&db.pool));
    caught_up(&db.pool, "aggregate_index").await;
    let live = dump(&db.pool).await;
    assert_eq!(live.len(), 12);

    let first = replay(&tail(&db.pool), Arc::new(AggregateIndex))
        .await
        .unwrap();
    assert_eq!(first.events, 85);
    assert_eq!(dump(&db.pool).await, live);
    replay(&tail(&db.pool), Arc::new(AggregateIndex))
        .await
        .unwrap();
    assert_eq!(dump(&db.pool).await, live);
    let leftovers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'replay\\_%'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(leftovers, 0, "the shadow schema is dropped after the swap");

    // The live runner keeps maintaining the swapped-in table.
    append(&db.pool, "ticket-0", 6, "TicketClosed").await;
    caught_up(&db.pool, "aggregate_index").await;
    runner.stop().await;
    let (last,): (String,) = sqlx::query_as(
        "SELECT last_event_type FROM aggregate_index WHERE aggregate_id = 'ticket-0'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(last, "TicketClosed");
}

#[tokio::test]
async fn the_event_chain_is_not_a_replayable_read_model() {
    let db = testkit::test_database().await.unwrap();
    let chain = projections::audit::EventChain::new();
    let refused = replay(&tail(&db.pool), Arc::new(chain)).await;
    assert!(
        matches!(refused, Err(ReplayError::NotReplayable(_))),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replaying_while_writers_keep_appending_loses_and_duplicates_nothing() {
    let db = testkit::test_database().await.unwrap();
    Ledger::create_table(&db.pool).await;
    append_many(&db.pool, 0, 100).await;
    let handler = Arc::new(Ledger {
        broken: AtomicBool::new(false),
    });
    let runner = Runner::spawn_with(handler.clone(), tail(&db.pool), fast());
    let pool = db.pool.clone();
    let writer = tokio::spawn(async move { append_many(&pool, 100, 400).await });

    for _ in 0..3 {
        replay(&tail(&db.pool), handler.clone()).await.unwrap();
    }
    writer.await.unwrap();
    caught_up(&db.pool, "ledger").await;
    runner.stop().await;

    // A double apply would violate the ledger's key, fail and end up parked.
    assert!(parked::list(&db.pool, "ledger").await.unwrap().is_empty());
    assert_eq!(ledger(&db.pool).await, all_positions(&db.pool).await);
    assert_eq!(all_positions(&db.pool).await.len(), 500);
}

async fn directory(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT d::text FROM tenant_directory d ORDER BY tenant_id")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn replaying_several_read_models_in_one_pass_rebuilds_each_as_it_was() {
    use projections::tenants::TenantDirectory;
    let db = testkit::test_database().await.unwrap();
    append_with_tenants(&db.pool, 30).await;
    let tenant = uuid::Uuid::from_u128(42);
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('tenant', $1, 1, 'TenantRegistered', '1',
                 jsonb_build_object('TenantRegistered', jsonb_build_object('tenant_id', $1,
                     'name', 'Loja', 'plan', 'pro', 'owner_email', 'x', 'at', now())), '{}')",
    )
    .bind(tenant.to_string())
    .execute(&db.pool)
    .await
    .unwrap();
    let index = Runner::spawn(AggregateIndex, tail(&db.pool));
    let tenants = Runner::spawn(TenantDirectory, tail(&db.pool));
    caught_up(&db.pool, "aggregate_index").await;
    caught_up(&db.pool, "tenant_directory").await;
    let before = (dump(&db.pool).await, directory(&db.pool).await);
    assert_eq!(before.1.len(), 1);

    let reports = replay_all(
        &tail(&db.pool),
        &[Arc::new(AggregateIndex), Arc::new(TenantDirectory)],
    )
    .await
    .unwrap();

    let names: Vec<&str> = reports.iter().map(|r| r.projection.as_str()).collect();
    assert_eq!(names, ["aggregate_index", "tenant_directory"]);
    assert!(reports.iter().all(|r| r.events == 31), "{reports:?}");
    assert_eq!((dump(&db.pool).await, directory(&db.pool).await), before);
    index.stop().await;
    tenants.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replaying_in_many_small_batches_with_one_read_ahead_rebuilds_the_same_read_models() {
    use projections::tenants::TenantDirectory;
    let db = testkit::test_database().await.unwrap();
    append_with_tenants(&db.pool, 90).await;
    append_many(&db.pool, 0, 25).await;
    let index = Runner::spawn(AggregateIndex, tail(&db.pool));
    let tenants = Runner::spawn(TenantDirectory, tail(&db.pool));
    caught_up(&db.pool, "aggregate_index").await;
    caught_up(&db.pool, "tenant_directory").await;
    let before = (dump(&db.pool).await, directory(&db.pool).await);

    // 115 events in reads of 4: the reader waits for a place in both lanes' queues (and the
    // directory's) before each of ~29 reads.
    let reports = replay_all_tuned(
        &tail(&db.pool),
        &[Arc::new(AggregateIndex), Arc::new(TenantDirectory)],
        Tuning {
            batch: 4,
            read_ahead: 1,
        },
        Arc::new(stream::Unwatched),
    )
    .await
    .unwrap();

    assert!(reports.iter().all(|r| r.events == 115), "{reports:?}");
    assert_eq!((dump(&db.pool).await, directory(&db.pool).await), before);
    index.stop().await;
    tenants.stop().await;
}

#[tokio::test]
async fn a_replay_leaves_its_progress_and_a_failed_one_its_error_for_any_process_to_read() {
    use stream::replay::progress;
    let db = testkit::test_database().await.unwrap();
    Ledger::create_table(&db.pool).await;
    append_many(&db.pool, 0, 20).await;
    append(&db.pool, "poisoned", 1, "Poison").await;
    let head: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let handler = Arc::new(Ledger {
        broken: AtomicBool::new(true),
    });
    assert!(progress::all(&db.pool).await.unwrap().is_empty());

    let failed = replay(&tail(&db.pool), handler.clone()).await;
    assert!(
        matches!(failed, Err(ReplayError::Handler { .. })),
        "{failed:?}"
    );
    let rows = progress::all(&db.pool).await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.projection, "ledger");
    assert_eq!(row.target_position, head, "the head when it started");
    assert!(row.finished_at.is_some());
    assert!(
        row.error.as_deref().is_some_and(|e| e.contains("poison")),
        "{row:?}"
    );
    assert!(
        ledger(&db.pool).await.is_empty(),
        "the live model is untouched"
    );

    handler.broken.store(false, Ordering::SeqCst);
    let report = replay(&tail(&db.pool), handler.clone()).await.unwrap();
    let rows = progress::all(&db.pool).await.unwrap();
    let row = &rows[0];
    assert_eq!(rows.len(), 1, "one row per projection: its latest replay");
    assert!(row.error.is_none(), "{row:?}");
    assert!(row.finished_at.is_some_and(|f| f >= row.started_at));
    assert_eq!(row.position, head);
    assert_eq!(row.events, 21);
    assert_eq!(report.events, 21);
}
