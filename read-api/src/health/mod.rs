//! `GET /health`: each dependency's state, 200 when all are fine, 503 otherwise.
//!
//! Parked events make the report `degraded` but keep it 200: the consumer is moving and the
//! service works, only some events wait for an operator, and a 503 would make a load
//! balancer pull a healthy instance for a problem a restart cannot fix. Mail overdue for
//! 15 minutes is `degraded` too, for the same reason (the SMTP server is what is failing).
//! So is an outside service in use that does not answer its check (Kafka, Qdrant, SMTP)
//! within its timeout, or a model provider whose latest call failed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use std::collections::HashMap;
use std::time::Instant;

/// The part of the application state `/health` and `/metrics` use.
#[derive(Debug, Clone)]
pub struct HealthState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// The event-store tail: the head position and consumers' lag.
    pub tail: stream::Tail,
    /// Live status of every stream consumer running in this process.
    pub consumers: Vec<std::sync::Arc<std::sync::Mutex<stream::ConsumerStatus>>>,
    /// The outside services to check, the metrics token and the scrape-time gauges.
    pub ops: crate::observability::Ops,
}

/// Lag is counted exactly up to this many events; beyond it the count stops (cheap health).
const LAG_CAP: i64 = 100_000;

/// The /health body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HealthReport {
    /// `ok`, `degraded` (some consumer parked events, mail is overdue, an outside service
    /// does not answer or a model provider is failing; still 200) or `unavailable`.
    pub status: &'static str,
    /// The database check.
    pub database: DatabaseHealth,
    /// The event store's head.
    pub event_store: Option<EventStoreHealth>,
    /// Every stream consumer in this process.
    pub consumers: Vec<ConsumerHealth>,
    /// The e-mail outbox (shared by every process); none when the database is down.
    pub mail: Option<MailHealth>,
    /// Usage reports to Stripe (shared by every process); none when the database is down.
    pub stripe_usage: Option<StripeUsageHealth>,
    /// The outside services in use (Kafka, Qdrant, SMTP), each checked with a timeout.
    pub services: Vec<ServiceHealth>,
    /// The model providers configured in this process, with their recent failures.
    pub models: Vec<ModelHealth>,
}

/// One outside service's check (one made in the last 5 s is reused).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceHealth {
    /// `kafka`, `qdrant` or `smtp`.
    pub name: &'static str,
    /// Whether it answered within the timeout.
    pub ok: bool,
    /// How long the check took, in milliseconds.
    pub round_trip_ms: f64,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One model provider as this process saw it in the last 15 minutes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModelHealth {
    /// Its configured name.
    pub name: String,
    /// The model it is asked for.
    pub model: String,
    /// Failed calls (errors and timeouts) in the last 15 minutes.
    pub recent_failures: u64,
    /// Whether its latest call failed (the next provider, or a hand-off, answered instead).
    pub failing: bool,
    /// Its latest failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Seconds since its latest failure.
    pub last_failure_secs_ago: Option<f64>,
    /// Seconds since its latest answer.
    pub last_success_secs_ago: Option<f64>,
}

/// Usage reports to Stripe: waiting or given up on. Reports waiting 15 minutes, or any
/// given up, make the report `degraded`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StripeUsageHealth {
    /// Reports waiting to be sent or retried.
    pub pending: i64,
    /// Reports given up on (they need an operator).
    pub failed: i64,
    /// Seconds the oldest waiting report has waited; none when nothing waits.
    pub oldest_pending_age_secs: Option<f64>,
}

/// Mail overdue this long means nothing is sending: the report says `degraded`.
const MAIL_STUCK_SECS: f64 = 15.0 * 60.0;

/// The e-mail outbox.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MailHealth {
    /// Mails waiting to be sent (including those waiting for a retry).
    pub queued: i64,
    /// Mails given up on after their last attempt.
    pub failed: i64,
    /// Seconds the most overdue mail has been due; none when nothing is due.
    pub oldest_due_age_secs: Option<f64>,
}

/// Database reachability.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DatabaseHealth {
    /// Whether `SELECT 1` succeeded.
    pub ok: bool,
    /// Its round-trip time in milliseconds.
    pub round_trip_ms: Option<f64>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The event store's head.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventStoreHealth {
    /// The highest position written.
    pub head_position: i64,
}

/// One consumer of the stream.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConsumerHealth {
    /// Its name.
    pub name: String,
    /// The last position it committed.
    pub position: i64,
    /// Committed events it has not applied yet (capped).
    pub lag_events: Option<i64>,
    /// Events applied since start.
    pub applied: u64,
    /// Events it parked and nobody has retried yet (any process).
    pub parked: i64,
    /// Its last error, if it is failing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Checks each dependency.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "health",
    tag = crate::openapi::tags::SYSTEM,
    responses(
        (status = 200, description = "Every dependency works (`status` is `ok` or `degraded`)", body = HealthReport),
        (status = 503, description = "A dependency is down (`status` is `unavailable`)", body = HealthReport),
    )
)]
#[tracing::instrument(name = "checking the health of every dependency", skip_all)]
pub async fn health(State(state): State<HealthState>) -> (StatusCode, Json<HealthReport>) {
    let started = Instant::now();
    let db = sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(&state.pool)
        .await;
    let database = match db {
        Ok(_) => DatabaseHealth {
            ok: true,
            round_trip_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
            error: None,
        },
        Err(e) => DatabaseHealth {
            ok: false,
            round_trip_ms: None,
            error: Some(e.to_string()),
        },
    };
    let event_store = if database.ok {
        state
            .tail
            .head_position()
            .await
            .ok()
            .map(|head_position| EventStoreHealth { head_position })
    } else {
        None
    };
    let consumers = consumers(&state, database.ok).await;
    let healthy =
        database.ok && event_store.is_some() && consumers.iter().all(|c| c.last_error.is_none());
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mail = if database.ok {
        integrations::mailer::status(&state.pool)
            .await
            .ok()
            .map(|m| MailHealth {
                queued: m.queued,
                failed: m.failed,
                oldest_due_age_secs: m.oldest_due_age_secs,
            })
    } else {
        None
    };
    let mail_stuck = mail
        .as_ref()
        .and_then(|m| m.oldest_due_age_secs)
        .is_some_and(|age| age > MAIL_STUCK_SECS);
    let stripe_usage = if database.ok {
        integrations::stripe::usage::status(&state.pool)
            .await
            .ok()
            .map(|m| StripeUsageHealth {
                pending: m.pending,
                failed: m.failed,
                oldest_pending_age_secs: m.oldest_pending_age_secs,
            })
    } else {
        None
    };
    let usage_stuck = stripe_usage.as_ref().is_some_and(|u| {
        u.failed > 0
            || u.oldest_pending_age_secs
                .is_some_and(|age| age > MAIL_STUCK_SECS)
    });
    let checks = state.ops.probes.iter().map(|p| async move {
        let checked = p.run().await;
        ServiceHealth {
            name: p.name,
            ok: checked.result.is_ok(),
            round_trip_ms: checked.took.as_secs_f64() * 1000.0,
            error: checked.result.err(),
        }
    });
    let services = futures::future::join_all(checks).await;
    let models: Vec<ModelHealth> = integrations::llm::provider_health()
        .into_iter()
        .map(|p| ModelHealth {
            name: p.name,
            model: p.model,
            recent_failures: p.recent_failures,
            failing: p.failing,
            last_error: p.last_error,
            last_failure_secs_ago: p.last_failure_secs_ago,
            last_success_secs_ago: p.last_success_secs_ago,
        })
        .collect();
    let degraded = consumers.iter().any(|c| c.parked > 0)
        || mail_stuck
        || usage_stuck
        || services.iter().any(|s| !s.ok)
        || models.iter().any(|m| m.failing);
    let report = HealthReport {
        status: match (healthy, degraded) {
            (false, _) => "unavailable",
            (true, true) => "degraded",
            (true, false) => "ok",
        },
        database,
        event_store,
        consumers,
        mail,
        stripe_usage,
        services,
        models,
    };
    (code, Json(report))
}

/// Every stream consumer of this process with its position, lag (when the database
/// answers) and parked events.
pub(crate) async fn consumers(state: &HealthState, database_ok: bool) -> Vec<ConsumerHealth> {
    let parked: HashMap<String, i64> = if database_ok {
        stream::parked::counts(&state.pool)
            .await
            .unwrap_or_default()
            .into_iter()
            .collect()
    } else {
        HashMap::new()
    };
    let mut consumers = Vec::with_capacity(state.consumers.len());
    for view in &state.consumers {
        let status = view.lock().map(|s| s.clone()).unwrap_or_default();
        let lag_events = if database_ok {
            state.tail.lag(status.checkpoint, LAG_CAP).await.ok()
        } else {
            None
        };
        consumers.push(ConsumerHealth {
            name: status.name.clone(),
            position: status.checkpoint.position,
            lag_events,
            applied: status.applied,
            parked: parked.get(&status.name).copied().unwrap_or(0),
            last_error: status.last_error,
        });
    }
    consumers
}
