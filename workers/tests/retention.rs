//! The retention job (F9) against a real database: expired keys go, and the conversations
//! read model forgets the clear contacts those keys sealed.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use aggregates::FixedClock;
use chrono::{TimeDelta, TimeZone, Utc};
use commands::privacy::{KeyRing, Subject};
use schemas::personal::MasterKey;
use uuid::Uuid;

#[tokio::test]
async fn the_retention_job_destroys_old_keys_and_forgets_the_contacts_they_sealed() {
    let db = testkit::test_database().await.unwrap();
    let keys = KeyRing::open(db.pool.clone(), MasterKey::generate())
        .await
        .unwrap();
    let now = Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).unwrap();
    let old_day = now - TimeDelta::days(40);
    let recent_day = now - TimeDelta::days(2);
    let mut rows = Vec::new();
    for (n, day) in [(1u128, old_day), (2, recent_day)] {
        let conversation = Uuid::from_u128(n);
        let subject = Subject::contact(&conversation.to_string(), None);
        let key = keys.key_for(&subject, subject.period(day)).await.unwrap();
        sqlx::query(
            "INSERT INTO conversations (conversation_id, tenant_id, status, contact_phone,
                 contact_name, contact_search, contact_key_id, contact_seen_at,
                 unanswered_count, created_at, updated_at, last_sequence, last_position)
             VALUES ($1, $1, 'ai_active', '5511999990000', 'Ana', 'ana 5511999990000', $2, $3,
                 1, $3, $3, 1, 1)",
        )
        .bind(conversation)
        .bind(key.id())
        .bind(day)
        .execute(&db.pool)
        .await
        .unwrap();
        rows.push(conversation);
    }

    let destroyed = workers::retention::run_once(&db.pool, &keys, &FixedClock::new(now), 30)
        .await
        .unwrap();

    assert_eq!(destroyed, 1);
    let phones: Vec<Option<String>> =
        sqlx::query_scalar("SELECT contact_phone FROM conversations ORDER BY conversation_id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(phones, [None, Some("5511999990000".to_owned())]);
}

#[tokio::test]
async fn the_retention_job_forgets_the_buyers_of_checkouts_unpaid_for_thirty_days() {
    let db = testkit::test_database().await.unwrap();
    let keys = KeyRing::open(db.pool.clone(), MasterKey::generate())
        .await
        .unwrap();
    let now = Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).unwrap();
    for (n, age) in [(1u128, 31), (2, 29)] {
        sqlx::query(
            "INSERT INTO stripe_checkout_owners (tenant_id, email, business_name, locale,
                 recorded_at)
             VALUES ($1, 'ana@padaria.example', 'Padaria', 'en', $2)",
        )
        .bind(Uuid::from_u128(n))
        .bind(now - TimeDelta::days(age))
        .execute(&db.pool)
        .await
        .unwrap();
    }

    workers::retention::run_once(&db.pool, &keys, &FixedClock::new(now), 30)
        .await
        .unwrap();

    let kept: Vec<Uuid> = sqlx::query_scalar("SELECT tenant_id FROM stripe_checkout_owners")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        kept,
        [Uuid::from_u128(2)],
        "the recent checkout may still be paid"
    );
}
