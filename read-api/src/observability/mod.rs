//! Operational metrics: `GET /metrics` in Prometheus's text format, through the `metrics`
//! facade and its Prometheus recorder, and the outside services `/health` checks.
//!
//! The recorder is process-wide (the facade has one global recorder): it is installed on
//! first use and every server of the process, API or worker, renders the same one. What is
//! counted where it happens (requests, commands, appends, the relay, the AI) is recorded
//! as it happens; what is a state (consumers' lag, job queues) is read when `/metrics` is
//! scraped, so a process nobody scrapes does no work for it. Labels name routes, aggregates,
//! consumers, queues, providers and reasons, never tenants or ids: the series stay few.

mod access;
mod track;

pub use access::MetricsToken;
pub use track::track_requests;

use crate::error::ErrorBody;
use crate::health::HealthState;
use crate::request::AuthRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Buckets of every `…_seconds` histogram: 1 ms to 30 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Buckets of the append group sizes: 1 up to the most writes in one statement (256).
const GROUP_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];
/// How long a scrape-time reading or a service check may take before it is skipped.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed as the `metrics` facade's global recorder on first
/// call. Call it before the work to be measured starts: until then the facade drops what
/// it is given.
pub fn recorder() -> &'static PrometheusHandle {
    RECORDER.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("atende_append_group_size".into()),
                    &GROUP_BUCKETS,
                )
            })
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let handle = match builder.install_recorder() {
            Ok(handle) => handle,
            Err(e) => {
                // Another recorder owns the facade: render an empty one rather than fail.
                tracing::warn!(error = %e, "the metrics recorder could not be installed");
                PrometheusBuilder::new().build_recorder().handle()
            }
        };
        describe();
        // Without the exporter's own listener nothing runs its upkeep (draining histogram
        // samples): a thread does, as the listener would.
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_secs(5));
                upkeep.run_upkeep();
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "the metrics upkeep thread could not start");
        }
        handle
    })
}

/// The `# HELP` text of every metric atende records, wherever it is recorded.
fn describe() {
    use ::metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "http_requests_total",
        "HTTP requests by route template, method and status"
    );
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "HTTP requests' time to the response head, by route template, method and status"
    );
    describe_histogram!("atende_command_duration_seconds", Unit::Seconds, "Commands' time (conflict retries included) by aggregate type and outcome (ok, refused, contended, failed)");
    describe_counter!(
        "atende_rate_limited_total",
        "Requests refused by a rate limit, by scope (tenant, platform_user, ip, provider_number)"
    );
    describe_counter!(
        "atende_command_conflicts_total",
        "Concurrent writes to one aggregate that made a command run again, by aggregate type"
    );
    describe_histogram!(
        "atende_append_group_size",
        Unit::Count,
        "Event appends written in one statement by the group committer"
    );
    describe_gauge!(
        "atende_event_store_head_position",
        "The highest event position stored"
    );
    describe_gauge!(
        "atende_consumer_position",
        "The last event position each stream consumer of this process committed"
    );
    describe_gauge!("atende_consumer_lag_events", "Stored events each stream consumer of this process has not applied yet (counted up to 100000)");
    describe_gauge!(
        "atende_consumer_parked_events",
        "Events each consumer parked that nobody retried yet (any process)"
    );
    describe_counter!(
        "atende_consumer_applied_events_total",
        "Events each stream consumer of this process applied since it started"
    );
    describe_gauge!("atende_job_queue_depth", "Jobs waiting in each queue (mail, whatsapp_outbound, usage_reports, ai_bursts), any process");
    describe_gauge!("atende_job_queue_failed", "Jobs given up on in each queue");
    describe_gauge!(
        "atende_job_queue_oldest_age_seconds",
        Unit::Seconds,
        "How long the most overdue job of each queue has been due (0 when none is)"
    );
    describe_counter!(
        "atende_relay_events_total",
        "Events the relay published to Kafka"
    );
    describe_counter!(
        "atende_relay_failures_total",
        "Relay batches that failed and were sent again"
    );
    describe_counter!(
        "atende_ai_answers_total",
        "AI answers recorded, by source (model, cache, extractive)"
    );
    describe_counter!(
        "atende_ai_handoffs_total",
        "Conversations the AI handed to a human, by reason"
    );
    describe_histogram!(
        "atende_llm_request_duration_seconds",
        Unit::Seconds,
        "Model provider calls' time, by provider and outcome (ok, failed)"
    );
    describe_counter!(
        "atende_llm_tokens_total",
        "Model tokens of recorded AI answers, by model and direction (in, out)"
    );
    describe_counter!(
        "atende_llm_cost_microdollars_total",
        "Estimated cost of recorded AI answers in millionths of a US dollar, by model"
    );
}

/// A check or a reading run on demand, with its result.
type Task<T> = Arc<dyn Fn() -> BoxFuture<'static, T> + Send + Sync>;

fn task<T, F, Fut>(f: F) -> Task<T>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Arc::new(move || Box::pin(f()))
}

/// How long a check's result is reused: `/health` is public, and each call must not become
/// a connection to every outside service.
pub const CHECK_REUSE: Duration = Duration::from_secs(5);

/// What one check found.
#[derive(Debug, Clone)]
pub struct Checked {
    /// `Ok`, or why the service did not answer.
    pub result: Result<(), String>,
    /// How long the check took.
    pub took: Duration,
}

/// An outside service `/health` checks (Kafka, Qdrant, SMTP): down makes the report
/// `degraded`, never the endpoint fail or hang.
#[derive(Clone)]
pub struct Probe {
    /// The service's name in the report.
    pub name: &'static str,
    check: Task<Result<(), String>>,
    last: Arc<tokio::sync::Mutex<Option<(Instant, Checked)>>>,
}

impl Probe {
    /// A probe named `name` that runs `check` (given [`CHECK_TIMEOUT`] at most).
    pub fn new<F, Fut>(name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Self {
            name,
            check: task(check),
            last: Arc::default(),
        }
    }

    /// Runs the check within [`CHECK_TIMEOUT`], or returns the one run in the last
    /// [`CHECK_REUSE`] (callers meanwhile wait for the running one).
    pub async fn run(&self) -> Checked {
        let mut last = self.last.lock().await;
        if let Some((at, checked)) = last.as_ref() {
            if at.elapsed() < CHECK_REUSE {
                return checked.clone();
            }
        }
        let started = Instant::now();
        let result = match tokio::time::timeout(CHECK_TIMEOUT, (self.check)()).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
        };
        let checked = Checked {
            result,
            took: started.elapsed(),
        };
        *last = Some((Instant::now(), checked.clone()));
        checked
    }
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe").field("name", &self.name).finish()
    }
}

/// Gauges read when `/metrics` is scraped (the job queues, from the tables of the crates
/// that own them).
#[derive(Clone)]
pub struct Reading {
    name: &'static str,
    refresh: Task<()>,
}

impl Reading {
    /// A reading named `name` (for logs) that sets its gauges in `refresh`.
    pub fn new<F, Fut>(name: &'static str, refresh: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self {
            name,
            refresh: task(refresh),
        }
    }
}

impl std::fmt::Debug for Reading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reading").field("name", &self.name).finish()
    }
}

/// What `/metrics` and `/health` are given by the process that serves them.
#[derive(Debug, Clone, Default)]
pub struct Ops {
    /// `ATENDE_METRICS_TOKEN`: lets clients other than local ones read `/metrics`.
    pub token: Option<MetricsToken>,
    /// The outside services `/health` checks.
    pub probes: Vec<Probe>,
    /// The gauges read at scrape time.
    pub readings: Vec<Reading>,
}

/// Reads the state-like gauges: each consumer's position, lag and parked events, the event
/// store's head and the job queues.
async fn refresh(state: &HealthState) {
    let head = state.tail.head_position().await.ok();
    if let Some(head) = head {
        ::metrics::gauge!("atende_event_store_head_position").set(head as f64);
    }
    for c in crate::health::consumers(state, head.is_some()).await {
        let name = c.name.clone();
        ::metrics::gauge!("atende_consumer_position", "consumer" => name.clone())
            .set(c.position as f64);
        if let Some(lag) = c.lag_events {
            ::metrics::gauge!("atende_consumer_lag_events", "consumer" => name.clone())
                .set(lag as f64);
        }
        ::metrics::gauge!("atende_consumer_parked_events", "consumer" => name.clone())
            .set(c.parked as f64);
        ::metrics::counter!("atende_consumer_applied_events_total", "consumer" => name)
            .absolute(c.applied);
    }
    let readings = state.ops.readings.iter().map(|r| async move {
        if tokio::time::timeout(CHECK_TIMEOUT, (r.refresh)())
            .await
            .is_err()
        {
            tracing::warn!(reading = r.name, "a metrics reading timed out");
        }
    });
    futures::future::join_all(readings).await;
}

/// The process's metrics in Prometheus's text format.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = crate::openapi::tags::SYSTEM,
    responses(
        (status = 200, description = "The metrics, in Prometheus's text exposition format", content_type = "text/plain", body = String),
        (status = 401, description = "Not a local client and no bearer token (`ATENDE_METRICS_TOKEN`)", body = ErrorBody),
        (status = 403, description = "A wrong token, or not a local client while no token is configured", body = ErrorBody),
    )
)]
#[tracing::instrument(name = "rendering the metrics", skip_all)]
pub async fn metrics(
    State(state): State<HealthState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, AuthRejection> {
    access::check(state.ops.token.as_ref(), peer.ip(), &headers)?;
    let handle = recorder();
    refresh(&state).await;
    handle.run_upkeep();
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}
