//! The event chain (F47): the sealer links every event exactly once, in tail order, and
//! `verify` finds the first place where the stored log no longer matches it.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod sealer;
mod verify;

use projections::audit::{seal_pending, EventChain};
use sqlx::PgPool;
use std::time::Duration;

/// Appends `n` events, one transaction each, spread over five tickets, starting at ticket
/// event `from` (so later calls continue every ticket's sequence).
async fn append(pool: &PgPool, from: i64, n: i64) {
    for i in from..from + n {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('ticket', $1, $2, 'TicketCommented', '1',
                     jsonb_build_object('n', $3::bigint, 'text', 'Olá, comentário ' || $3::bigint,
                                        'tags', jsonb_build_array('a', 1.50, true)),
                     jsonb_build_object('request_id', 'req-' || $3::bigint, 'actor', 'agent-1'))",
        )
        .bind(format!("ticket-{}", i % 5))
        .bind(i / 5 + 1)
        .bind(i)
        .execute(pool)
        .await
        .unwrap();
    }
}

/// Seals everything committed so far, as the runner would.
async fn seal(pool: &PgPool) {
    seal_pending(pool, &EventChain::new(), 7).await.unwrap();
}

/// The link that seals the event at `position`.
async fn link_of(pool: &PgPool, position: i64) -> i64 {
    sqlx::query_scalar("SELECT link_no FROM event_chain WHERE position = $1")
        .bind(position)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Waits until `n` links exist.
async fn wait_for_links(pool: &PgPool, n: i64) {
    for _ in 0..1000 {
        let links: i64 = sqlx::query_scalar("SELECT count(*) FROM event_chain")
            .fetch_one(pool)
            .await
            .unwrap();
        if links >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the sealer did not reach {n} links");
}

/// Every event is linked exactly once, links are numbered 1..n without gaps, and link order
/// is the tail's commit order.
async fn assert_chain_complete(pool: &PgPool) {
    let linked: Vec<(i64, i64)> =
        sqlx::query_as("SELECT link_no, position FROM event_chain ORDER BY link_no")
            .fetch_all(pool)
            .await
            .unwrap();
    let tail_order: Vec<i64> =
        sqlx::query_scalar("SELECT position FROM events ORDER BY tx_id, position")
            .fetch_all(pool)
            .await
            .unwrap();
    let numbers: Vec<i64> = linked.iter().map(|l| l.0).collect();
    let expected: Vec<i64> = (1..=tail_order.len() as i64).collect();
    assert_eq!(
        numbers, expected,
        "links must be numbered 1..n without gaps"
    );
    let positions: Vec<i64> = linked.iter().map(|l| l.1).collect();
    assert_eq!(positions, tail_order, "each event once, in tail order");
}
