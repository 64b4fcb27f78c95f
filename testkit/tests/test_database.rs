//! What every test relies on: isolated databases with the schema in place.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

#[tokio::test]
async fn two_test_databases_are_isolated_and_migrated() {
    let a = testkit::test_database().await.unwrap();
    let b = testkit::test_database().await.unwrap();
    assert_ne!(a.name, b.name);

    for db in [&a, &b] {
        let events: Option<String> =
            sqlx::query_scalar("SELECT to_regclass('public.events')::text")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(
            events.as_deref(),
            Some("events"),
            "migrations missing in {}",
            db.name
        );
    }

    sqlx::query("CREATE TABLE only_in_a (id int)")
        .execute(&a.pool)
        .await
        .unwrap();
    let in_b: Option<String> = sqlx::query_scalar("SELECT to_regclass('public.only_in_a')::text")
        .fetch_one(&b.pool)
        .await
        .unwrap();
    assert_eq!(in_b, None);
}

#[tokio::test]
async fn tests_in_other_runtimes_share_the_cluster() {
    let db = testkit::test_database().await.unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(one, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_databases_can_be_created_at_once() {
    let mut creating = tokio::task::JoinSet::new();
    for _ in 0..8 {
        creating.spawn(testkit::test_database());
    }
    let mut names = std::collections::HashSet::new();
    while let Some(created) = creating.join_next().await {
        names.insert(created.unwrap().unwrap().name);
    }
    assert_eq!(names.len(), 8);
}
