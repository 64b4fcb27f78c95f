//! The 24 h timeout saga on a controllable clock, over real PostgreSQL.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod support;

use aggregates::{Clock, ConversationCommand, FixedClock};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use schemas::Personal;
use std::sync::Arc;
use std::time::Duration;
use support::{env, eventually, Env};
use uuid::Uuid;
use workers::saga::{Saga, SagaConfig};

fn start(env: &Env, clock: &Arc<FixedClock>) -> (stream::Handle, stream::Handle) {
    let clock: Arc<dyn Clock> = clock.clone();
    Saga::new(
        env.pool.clone(),
        env.bus.clone(),
        clock,
        SagaConfig {
            poll: Duration::from_millis(30),
            ..SagaConfig::default()
        },
    )
    .start(&env.tail)
}

async fn deadline(env: &Env, conversation: &str) -> Option<DateTime<Utc>> {
    sqlx::query_scalar("SELECT due_at FROM saga_deadlines WHERE conversation_id = $1")
        .bind(conversation)
        .fetch_optional(&env.pool)
        .await
        .unwrap()
        .flatten()
}

/// A tenant and a conversation handed to a human at `t0`.
async fn handed_off(env: &Env) -> (Uuid, String) {
    let tenant = env.tenant("basic").await;
    let c = env
        .receive(tenant, "5511900000100", "wamid.1", "Tem bolo?")
        .await;
    env.run(
        tenant,
        &c,
        ConversationCommand::RecordLowConfidence {
            confidence: 0.1,
            question: Personal::from("Tem bolo?"),
            reason: None,
        },
    )
    .await;
    (tenant, c)
}

/// Lets the ticker run a few polls.
async fn some_ticks() {
    tokio::time::sleep(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn the_ai_resumes_once_24_hours_after_an_unanswered_hand_off_even_across_a_restart() {
    // Microseconds, as PostgreSQL keeps them.
    let t0 = Utc::now().trunc_subsecs(6);
    let clock = Arc::new(FixedClock::new(t0));
    let env = env(clock.clone()).await;
    let (runner, ticker) = start(&env, &clock);
    let (_, c) = handed_off(&env).await;
    eventually("the deadline", || async {
        deadline(&env, &c).await.is_some()
    })
    .await;
    assert_eq!(deadline(&env, &c).await, Some(t0 + TimeDelta::hours(24)));

    // The process stops before the deadline; a new one starts after it.
    clock.advance(TimeDelta::hours(23) + TimeDelta::minutes(59));
    some_ticks().await;
    assert_eq!(env.count(&c, "AiResumed").await, 0);
    ticker.stop().await;
    runner.stop().await;
    clock.advance(TimeDelta::hours(2));
    let (runner, ticker) = start(&env, &clock);

    eventually("the AI to resume", || async {
        env.count(&c, "AiResumed").await == 1
    })
    .await;
    assert_eq!(env.bodies(&c, "AiResumed").await[0]["reason"], "timeout");
    eventually("the attendance pending e-mail", || async {
        env.mails("attendance_pending").await.len() == 1
    })
    .await;
    eventually("the deadline to clear", || async {
        deadline(&env, &c).await.is_none()
    })
    .await;
    clock.advance(TimeDelta::hours(48));
    some_ticks().await;
    assert_eq!(env.count(&c, "AiResumed").await, 1);
    assert_eq!(env.mails("attendance_pending").await.len(), 1);
    ticker.stop().await;
    runner.stop().await;
}

#[tokio::test]
async fn human_activity_moves_the_deadline_and_then_no_pending_email_is_sent() {
    // Microseconds, as PostgreSQL keeps them.
    let t0 = Utc::now().trunc_subsecs(6);
    let clock = Arc::new(FixedClock::new(t0));
    let env = env(clock.clone()).await;
    let (runner, ticker) = start(&env, &clock);
    let (tenant, c) = handed_off(&env).await;
    eventually("the deadline", || async {
        deadline(&env, &c).await.is_some()
    })
    .await;

    clock.advance(TimeDelta::hours(20));
    env.run(
        tenant,
        &c,
        ConversationCommand::ReplyAsHuman {
            agent_id: Uuid::now_v7(),
            text: Personal::from("Temos sim!"),
        },
    )
    .await;

    let moved = t0 + TimeDelta::hours(44);
    eventually("the deadline to move", || async {
        deadline(&env, &c).await == Some(moved)
    })
    .await;
    clock.set(t0 + TimeDelta::hours(25));
    some_ticks().await;
    assert_eq!(env.count(&c, "AiResumed").await, 0);
    clock.set(moved);
    eventually("the AI to resume", || async {
        env.count(&c, "AiResumed").await == 1
    })
    .await;
    eventually("the deadline to clear", || async {
        deadline(&env, &c).await.is_none()
    })
    .await;
    assert!(env.mails("attendance_pending").await.is_empty());
    ticker.stop().await;
    runner.stop().await;
}

#[tokio::test]
async fn two_sagas_on_one_database_resume_the_ai_once_with_one_pending_email() {
    // Microseconds, as PostgreSQL keeps them.
    let t0 = Utc::now().trunc_subsecs(6);
    let clock = Arc::new(FixedClock::new(t0));
    let env = env(clock.clone()).await;
    // Two sagas (consumer and ticker each), as two `atende worker` processes run them.
    let (runner_a, ticker_a) = start(&env, &clock);
    let (runner_b, ticker_b) = start(&env, &clock);
    let (_, c) = handed_off(&env).await;
    eventually("the deadline", || async {
        deadline(&env, &c).await.is_some()
    })
    .await;

    clock.advance(TimeDelta::hours(24) + TimeDelta::seconds(1));
    eventually("the AI to resume", || async {
        env.count(&c, "AiResumed").await >= 1
    })
    .await;
    eventually("the attendance pending e-mail", || async {
        !env.mails("attendance_pending").await.is_empty()
    })
    .await;
    // Many polls of both tickers later, still once.
    some_ticks().await;
    some_ticks().await;
    assert_eq!(env.count(&c, "AiResumed").await, 1);
    assert_eq!(env.mails("attendance_pending").await.len(), 1);
    for h in [ticker_a, ticker_b, runner_a, runner_b] {
        h.stop().await;
    }
}
