//! Pruning the security records (sign-in attempts, refused requests, reset links) against a
//! real database: what is past its keeping goes, what is not stays, at the exact limits.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use commands::users::{prune_security_records, Pruned};
use sqlx::PgPool;
use uuid::Uuid;

const DAYS: u32 = 180;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap()
}

fn days_ago(days: i64, plus_seconds: i64) -> DateTime<Utc> {
    now() - TimeDelta::days(days) + TimeDelta::seconds(plus_seconds)
}

async fn attempt(pool: &PgPool, email: &str, success: bool, at: DateTime<Utc>) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO login_attempts (at, ip, email, success) VALUES ($1, '192.0.2.1', $2, $3)
         RETURNING id",
    )
    .bind(at)
    .bind(email)
    .bind(success)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn refused(pool: &PgPool, at: DateTime<Utc>) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO rejected_attempts (at, request_id, method, path, status, code, reason)
         VALUES ($1, $2, 'GET', '/api/v1/admin/tenants', 403, 'forbidden', 'not an admin')
         RETURNING id",
    )
    .bind(at)
    .bind(Uuid::now_v7())
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn ids(pool: &PgPool, table: &str) -> Vec<i64> {
    sqlx::query_scalar(&format!("SELECT id FROM {table} ORDER BY id"))
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_in_attempts_and_refused_requests_older_than_the_setting_go_but_each_accounts_last_sign_in_stays(
) {
    let db = testkit::test_database().await.unwrap();
    let pool = &db.pool;
    let old_failure = attempt(pool, "ana@loja.example", false, days_ago(180, -1)).await;
    let at_the_limit = attempt(pool, "ana@loja.example", false, days_ago(180, 0)).await;
    let older_success = attempt(pool, "bia@loja.example", true, days_ago(400, 0)).await;
    let last_success = attempt(pool, "bia@loja.example", true, days_ago(300, 0)).await;
    let old_refusal = refused(pool, days_ago(180, -1)).await;
    let recent_refusal = refused(pool, days_ago(180, 1)).await;

    let pruned = prune_security_records(pool, now(), DAYS).await.unwrap();

    assert_eq!(
        ids(pool, "login_attempts").await,
        vec![at_the_limit, last_success]
    );
    assert!(!ids(pool, "login_attempts").await.contains(&old_failure));
    assert!(!ids(pool, "login_attempts").await.contains(&older_success));
    assert_eq!(ids(pool, "rejected_attempts").await, vec![recent_refusal]);
    assert!(!ids(pool, "rejected_attempts").await.contains(&old_refusal));
    assert_eq!(
        pruned,
        Pruned {
            login_attempts: 2,
            rejected_requests: 1,
            password_resets: 0,
        }
    );
    // A second run finds nothing more.
    let again = prune_security_records(pool, now(), DAYS).await.unwrap();
    assert_eq!(again, Pruned::default());
}

#[tokio::test]
async fn reset_links_go_a_week_after_they_expired_or_were_used_and_requests_after_a_day() {
    let db = testkit::test_database().await.unwrap();
    let pool = &db.pool;
    let user = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, email, password_hash, role) VALUES ($1, 'ops@atende.example', 'x', 'admin')")
        .bind(user)
        .execute(pool)
        .await
        .unwrap();
    // (token, expires_at, used_at)
    let links = [
        (1u8, days_ago(7, -1), None), // expired a week and a second ago: goes
        (2, days_ago(7, 1), None),    // expired just under a week ago: stays
        (3, days_ago(-1, 0), Some(days_ago(7, -1))), // valid, used over a week ago: goes
        (4, days_ago(-1, 0), Some(days_ago(6, 0))), // used six days ago: stays
        (5, days_ago(-1, 0), None),   // open: stays
    ];
    for (token, expires_at, used_at) in links {
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, expires_at, used_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(vec![token; 32])
        .bind(user)
        .bind(expires_at)
        .bind(used_at)
        .execute(pool)
        .await
        .unwrap();
    }
    for at in [days_ago(1, -1), days_ago(1, 1)] {
        sqlx::query(
            "INSERT INTO password_reset_requests (at, ip, email) VALUES ($1, '192.0.2.1', 'ops@atende.example')",
        )
        .bind(at)
        .execute(pool)
        .await
        .unwrap();
    }

    let pruned = prune_security_records(pool, now(), DAYS).await.unwrap();

    let left: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT token_hash FROM password_resets ORDER BY token_hash")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(left, vec![vec![2u8; 32], vec![4u8; 32], vec![5u8; 32]]);
    let requests: i64 = sqlx::query_scalar("SELECT count(*) FROM password_reset_requests")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(requests, 1, "the request from under a day ago stays");
    assert_eq!(pruned.password_resets, 3);
}
