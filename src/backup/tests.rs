#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use super::schedule::{is_due, prune};
use super::*;
use chrono::TimeDelta;
use projections::audit::{seal_pending, EventChain};
use sqlx::PgPool;
use std::os::unix::fs::PermissionsExt;

/// Appends `n` events, then seals them into the chain.
async fn log_with_events(pool: &PgPool, n: i64) {
    for i in 1..=n {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('ticket', 'ticket-1', $1, 'TicketCommented', '1', jsonb_build_object('n', $1), '{}')",
        )
        .bind(i)
        .execute(pool)
        .await
        .unwrap();
    }
    seal_pending(pool, &EventChain::new(), 1000).await.unwrap();
}

/// A directory the embedded server's account may enter.
fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atende-backup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn config(url: Option<String>, data_dir: PathBuf, key: &MasterKey) -> DatabaseConfig {
    DatabaseConfig {
        database_url: url,
        data_dir,
        master_key: Some(key.to_base64()),
        db_max_connections: 4,
    }
}

#[tokio::test]
async fn a_backup_restored_into_an_empty_database_verifies_with_the_head_it_recorded() {
    let source = testkit::test_database().await.unwrap();
    log_with_events(&source.pool, 5).await;
    let key = MasterKey::generate();
    let dir = scratch_dir();
    let out = dir.join("atende.dump");

    let manifest = backup(&source.url, &key, &out).await.unwrap();
    let target = testkit::empty_database().await.unwrap();
    let report = restore(&config(Some(target), dir.clone(), &key), &out)
        .await
        .unwrap();

    assert_eq!(manifest.events, 5);
    assert_eq!(manifest.chain_head.link_no, 5);
    assert_ne!(
        manifest.chain_head.hash,
        hex::encode(projections::audit::GENESIS)
    );
    assert!(report.verify.intact);
    assert_eq!(report.verify.head_hash, manifest.chain_head.hash);
    assert_eq!(report.verify.checked, 5);
    assert!(manifest_path(&out).exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn events_appended_after_a_restore_into_a_fresh_embedded_cluster_come_after_the_restored_ones(
) {
    let source = testkit::test_database().await.unwrap();
    // The source has run far more transactions than a fresh cluster has.
    sqlx::raw_sql(
        "CREATE TEMP TABLE spent (n int); DO $$ BEGIN FOR i IN 1..50000 LOOP BEGIN \
         INSERT INTO spent VALUES (1); RAISE EXCEPTION 'x'; EXCEPTION WHEN OTHERS THEN NULL; \
         END; END LOOP; END $$",
    )
    .execute(&source.pool)
    .await
    .unwrap();
    log_with_events(&source.pool, 3).await;
    let restored_newest: i64 = sqlx::query_scalar("SELECT max(tx_id)::text::bigint FROM events")
        .fetch_one(&source.pool)
        .await
        .unwrap();
    let key = MasterKey::generate();
    let dir = scratch_dir();
    let out = dir.join("atende.dump");
    let data_dir = dir.join("data");
    backup(&source.url, &key, &out).await.unwrap();

    let embedded = config(None, data_dir, &key);
    restore(&embedded, &out).await.unwrap();
    let db = Database::open(&embedded).await.unwrap();
    let appended: i64 = sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('ticket', 'ticket-2', 1, 'TicketCommented', '1', '{}', '{}')
         RETURNING tx_id::text::bigint",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    db.close().await.unwrap();

    assert!(
        appended > restored_newest,
        "a new event's transaction id {appended} must sort after the restored {restored_newest}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_restore_refuses_a_database_that_is_not_empty_and_leaves_it_as_it_was() {
    let source = testkit::test_database().await.unwrap();
    log_with_events(&source.pool, 2).await;
    let target = testkit::test_database().await.unwrap();
    log_with_events(&target.pool, 1).await;
    let key = MasterKey::generate();
    let dir = scratch_dir();
    let out = dir.join("atende.dump");
    backup(&source.url, &key, &out).await.unwrap();

    let refused = restore(&config(Some(target.url.clone()), dir.clone(), &key), &out).await;

    let message = format!("{:#}", refused.unwrap_err());
    assert!(message.contains("not empty"), "{message}");
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&target.pool)
        .await
        .unwrap();
    assert_eq!(events, 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_restore_refuses_to_start_without_the_master_key_the_backup_was_sealed_under() {
    let source = testkit::test_database().await.unwrap();
    log_with_events(&source.pool, 1).await;
    let key = MasterKey::generate();
    let dir = scratch_dir();
    let out = dir.join("atende.dump");
    backup(&source.url, &key, &out).await.unwrap();
    let target = testkit::empty_database().await.unwrap();

    let other_key = restore(
        &config(Some(target.clone()), dir.clone(), &MasterKey::generate()),
        &out,
    )
    .await;
    let mut no_key = config(Some(target), dir.join("empty-data-dir"), &key);
    no_key.master_key = None;
    let missing = restore(&no_key, &out).await;

    let other_key = format!("{:#}", other_key.unwrap_err());
    assert!(other_key.contains("but the key in use is"), "{other_key}");
    let missing = format!("{:#}", missing.unwrap_err());
    assert!(missing.contains("set ATENDE_MASTER_KEY"), "{missing}");
    assert!(
        !dir.join("empty-data-dir").join("master.key").exists(),
        "no key is generated"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_daily_schedule_takes_one_backup_a_day_and_keeps_the_newest() {
    let source = testkit::test_database().await.unwrap();
    log_with_events(&source.pool, 1).await;
    let key = MasterKey::generate();
    let dir = scratch_dir();
    let day_one = Utc::now();

    schedule::take_if_due(&source.url, &key, &dir, 2, day_one)
        .await
        .unwrap();
    schedule::take_if_due(&source.url, &key, &dir, 2, day_one + TimeDelta::hours(23))
        .await
        .unwrap();
    let after_one_day = std::fs::read_dir(&dir).unwrap().count();
    schedule::take_if_due(&source.url, &key, &dir, 2, day_one + TimeDelta::hours(24))
        .await
        .unwrap();
    schedule::take_if_due(&source.url, &key, &dir, 2, day_one + TimeDelta::hours(48))
        .await
        .unwrap();

    assert_eq!(after_one_day, 2, "one dump and its manifest");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        4,
        "two kept, each with its manifest: {names:?}"
    );
    let newest = (day_one + TimeDelta::hours(48))
        .format("%Y%m%dT%H%M%SZ")
        .to_string();
    assert!(names.iter().any(|n| n.contains(&newest)), "{names:?}");
    let oldest = day_one.format("%Y%m%dT%H%M%SZ").to_string();
    assert!(!names.iter().any(|n| n.contains(&oldest)), "{names:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_backup_is_due_when_none_exists_or_the_newest_is_a_full_day_old() {
    let now = Utc::now();
    assert!(is_due(None, now));
    assert!(!is_due(
        Some(now - TimeDelta::hours(24) + TimeDelta::seconds(1)),
        now
    ));
    assert!(is_due(Some(now - TimeDelta::hours(24)), now));
}

#[test]
fn pruning_keeps_the_newest_backups_and_leaves_other_files_alone() {
    let dir = scratch_dir();
    for stamp in ["20261201T000000Z", "20261202T000000Z", "20261203T000000Z"] {
        let dump = dir.join(format!("atende-{stamp}.dump"));
        std::fs::write(&dump, b"dump").unwrap();
        std::fs::write(manifest_path(&dump), b"{}").unwrap();
    }
    std::fs::write(dir.join("notes.txt"), b"mine").unwrap();

    prune(&dir, 3).unwrap();
    let kept_all = std::fs::read_dir(&dir).unwrap().count();
    prune(&dir, 2).unwrap();

    assert_eq!(kept_all, 7);
    assert!(!dir.join("atende-20261201T000000Z.dump").exists());
    assert!(!dir
        .join("atende-20261201T000000Z.dump.manifest.json")
        .exists());
    assert!(dir.join("atende-20261202T000000Z.dump").exists());
    assert!(dir
        .join("atende-20261203T000000Z.dump.manifest.json")
        .exists());
    assert!(dir.join("notes.txt").exists());
    std::fs::remove_dir_all(dir).unwrap();
}
