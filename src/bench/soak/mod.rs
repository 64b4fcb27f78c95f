//! `atende bench soak --minutes N`: the whole product (API, every read model, the AI
//! responder in extractive mode, the sender into the local outbox) under signed webhooks at a
//! fixed rate for a long time, sampled every minute: does memory, the consumers' lag, the
//! answers waiting (the AI's and the sender's queues) or the latency creep up? The rate
//! defaults to half the capacity measured at the start: the rate at which the product takes
//! webhooks in *and* answers them, since a rate the AI responder cannot answer only grows its
//! backlog, whatever else holds.

mod report;

use super::app::Running;
use super::measure;
use super::memory;
use super::scratch::Scratch;
use super::webhook_ingest::{post, register, wait_for_knowledge, QUESTION, SECRET};
use crate::background::Part;
use crate::database::DatabaseConfig;
use anyhow::Context;
use clap::Args;
use hdrhistogram::Histogram;
use report::{summarize, Sample, Summary};
use schemas::personal::MasterKey;
use sqlx::PgPool;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stream::Tail;
use tokio::sync::Semaphore;
use uuid::Uuid;

/// Settings of `atende bench soak`.
#[derive(Debug, Clone, Args)]
pub struct SoakArgs {
    /// Minutes of load, sampled at the end of each.
    #[arg(long, default_value_t = 30)]
    pub minutes: u32,
    /// Webhooks per second; default: `--capacity-fraction` of the sustained capacity
    /// measured first.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Share of the sustained capacity to send at when no `--rate` is given: a 5 s burst
    /// from 32 connections on the same running product before the soak, its webhooks
    /// counted over the time from its start until every consumer had caught up and every
    /// answer was sent.
    #[arg(long, default_value_t = 0.5, conflicts_with = "rate")]
    pub capacity_fraction: f64,
    /// Distinct customers writing in (each message from the next in turn): conversations
    /// keep growing instead of new ones appearing forever.
    #[arg(long, default_value_t = 5_000)]
    pub contacts: u64,
    /// Minutes not judged: growth and trends are measured from the end of this one.
    #[arg(long, default_value_t = 5)]
    pub warmup_minutes: u32,
    /// Also write the JSON summary (and the samples) to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// The most webhooks in flight at once: past it the load waits (and its latency, counted from
/// each webhook's scheduled time, shows it) instead of opening ever more connections.
const MAX_IN_FLIGHT: usize = 256;
/// A consumer's lag is counted up to this many events.
const LAG_CAP: i64 = 10_000_000;

/// Runs the soak on a scratch database and prints a row per minute and the JSON summary.
pub async fn run(db_config: &DatabaseConfig, args: SoakArgs) -> anyhow::Result<()> {
    let scratch = Scratch::open(db_config, 40).await?;
    let result = soak(&scratch.pool, &args).await;
    scratch.close().await?;
    let outcome = result?;
    let json = serde_json::to_string_pretty(&outcome)?;
    #[allow(clippy::print_stdout)]
    {
        println!("\n```json\n{json}\n```");
    }
    if let Some(path) = &args.json {
        std::fs::write(path, &json).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The whole run, as written to `--json`.
#[derive(Debug, serde::Serialize)]
struct Outcome {
    capacity: Option<Capacity>,
    rate_webhooks_per_s: f64,
    contacts: u64,
    load_average_start: String,
    load_average_end: String,
    summary: Option<Summary>,
    /// Events of each type the run wrote: messages in, AI replies, hand-offs, sends.
    events: Vec<(String, i64)>,
    samples: Vec<Sample>,
}

async fn soak(pool: &PgPool, args: &SoakArgs) -> anyhow::Result<Outcome> {
    let load_average_start = load_average();
    let running = Running::start_parts(
        pool.clone(),
        MasterKey::generate(),
        |c| {
            c.background.whatsapp.whatsapp_app_secret = Some(SECRET.into());
            c.background.plans = Some(UNLIMITED_PLAN.into());
        },
        &Part::ALL,
    )
    .await?;
    let result = drive(&running, pool, args).await;
    running.app.stop().await?;
    let (capacity, rate, samples) = result?;
    let events: Vec<(String, i64)> = sqlx::query_as(
        "SELECT event_type, count(*) FROM events GROUP BY event_type ORDER BY count(*) DESC",
    )
    .fetch_all(pool)
    .await?;
    Ok(Outcome {
        capacity,
        rate_webhooks_per_s: rate,
        contacts: args.contacts,
        load_average_start,
        load_average_end: load_average(),
        summary: summarize(&samples, args.warmup_minutes, rate),
        events,
        samples,
    })
}

/// The soak's only plan, named as the one [`register`] subscribes to: the built-in one's
/// quota (30,000 answers a month) ran out two thirds into a 30-minute soak, after which every
/// message was handed to a human and the AI had nothing left to do.
const UNLIMITED_PLAN: &str = r#"[{"id": "enterprise", "name": "Soak", "monthly_price_cents": 0,
    "currency": "brl", "monthly_ai_message_quota": null, "features": ["ai_answers"]}]"#;

/// A tenant on a plan without an AI quota, with knowledge that answers [`QUESTION`].
async fn prepare(running: &Running) -> anyhow::Result<Uuid> {
    let tenant = Uuid::now_v7();
    register(running, tenant).await?;
    wait_for_knowledge(running, tenant).await?;
    Ok(tenant)
}

/// Latencies and failures of the current minute, taken by the sampler.
struct Minute {
    latencies: Mutex<Histogram<u64>>,
    errors: AtomicU64,
}

async fn drive(
    running: &Running,
    pool: &PgPool,
    args: &SoakArgs,
) -> anyhow::Result<(Option<Capacity>, f64, Vec<Sample>)> {
    prepare(running).await?;
    let client = running.app_client();
    let url = running.url("/webhooks/whatsapp");
    let run = Uuid::now_v7().simple().to_string();
    let contacts = args.contacts.max(1);

    let tail = Tail::new(pool.clone());
    let capacity = match args.rate {
        Some(_) => None,
        None => Some(capacity(running, pool, &tail, &client, &url, &run, contacts).await?),
    };
    let rate = match (args.rate, capacity) {
        (Some(rate), _) => rate,
        (None, Some(c)) => c.sustained * args.capacity_fraction,
        (None, None) => 0.0,
    };
    anyhow::ensure!(rate > 0.0, "the rate must be positive");
    tracing::info!(?capacity, rate, "soaking");
    #[allow(clippy::print_stdout)]
    {
        if let Some(c) = capacity {
            println!(
                "capacity: {:.0} webhooks/s taken in (32 connections, closed loop, 5 s); {:.0} webhooks/s taken in and answered (from the first post until every consumer caught up and every answer was sent, {:.1} s after the burst)",
                c.ingest, c.sustained, c.drained_s
            );
        }
        println!(
            "soak: {rate:.0} webhooks/s for {} min, {contacts} customers, load average {}\n",
            args.minutes,
            load_average()
        );
        println!("| minute | load avg | RSS MB | DB conns | sockets | HTTP conns | max lag (consumer) | bursts waiting for the AI | replies waiting to be sent | webhooks | errors | p50 ms | p99 ms |");
        println!("|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|");
    }

    let minute = Arc::new(Minute {
        latencies: Mutex::new(Histogram::new(3)?),
        errors: AtomicU64::new(0),
    });
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let port = running.app.addr.port();
    let start = Instant::now();
    let end = start + Duration::from_secs(u64::from(args.minutes) * 60);
    let mut next_sample = start + Duration::from_secs(60);
    let mut samples = Vec::new();
    let mut sent: u64 = 0;
    let mut pace = tokio::time::interval(Duration::from_millis(2));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let now = pace.tick().await.into_std();
        if now >= next_sample {
            let (latencies, errors) = {
                let mut h = lock(&minute.latencies);
                let fresh = Histogram::new_from(&*h);
                (
                    std::mem::replace(&mut *h, fresh),
                    minute.errors.swap(0, Ordering::Relaxed),
                )
            };
            let s = sample(
                running,
                pool,
                &tail,
                port,
                samples.len() as u32 + 1,
                &latencies,
                errors,
            )
            .await?;
            print_row(&s);
            samples.push(s);
            next_sample += Duration::from_secs(60);
        }
        if now >= end {
            break;
        }
        // Open loop: however the last webhooks fared, the ones due by now are sent.
        let due = due_by(now.duration_since(start), rate);
        while sent < due {
            let scheduled = start + Duration::from_secs_f64(sent as f64 / rate);
            let (client, url, minute, in_flight) = (
                client.clone(),
                url.clone(),
                minute.clone(),
                in_flight.clone(),
            );
            let id = format!("wamid.{run}.{sent}");
            let from = contact(sent, contacts);
            tokio::spawn(async move {
                let Ok(_permit) = in_flight.acquire_owned().await else {
                    return;
                };
                match post(&client, &url, &from, &id, QUESTION).await {
                    Ok(()) => {
                        let micros = scheduled.elapsed().as_micros();
                        let _ = lock(&minute.latencies)
                            .record(u64::try_from(micros).unwrap_or(u64::MAX));
                    }
                    Err(e) => {
                        minute.errors.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(error = %e, "a soak webhook failed");
                    }
                }
            });
            sent += 1;
        }
    }
    // The last webhooks' answers, before the product stops.
    let _ = in_flight.acquire_many(MAX_IN_FLIGHT as u32).await;
    Ok((capacity, rate, samples))
}

/// What the running product takes: a burst's ingest rate, and the rate at which it both takes
/// in and answers (the burst's webhooks over the time until every consumer had caught up and
/// every answer was sent).
#[derive(Debug, Clone, Copy, serde::Serialize)]
struct Capacity {
    /// Webhooks per second the API took in during the burst.
    ingest: f64,
    /// Webhooks per second taken in and fully processed: what the product sustains.
    sustained: f64,
    /// Seconds from the burst's end until no consumer lagged.
    drained_s: f64,
}

/// How long the burst's backlog may take to be processed before the measurement fails.
const DRAIN_LIMIT: Duration = Duration::from_secs(900);

async fn capacity(
    running: &Running,
    pool: &PgPool,
    tail: &Tail,
    client: &reqwest::Client,
    url: &str,
    run: &str,
    contacts: u64,
) -> anyhow::Result<Capacity> {
    let posted = Arc::new(AtomicU64::new(0));
    // The customers write in turn, as in the soak: each burst of the AI then holds one
    // message, as it will. (Each connection cycling through a few customers of its own made
    // a few hundred conversations of many messages: few bursts, few replies, and a capacity
    // several times what the soak then met.)
    let turn = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let m = {
        let (client, url, run, posted, turn) = (
            client.clone(),
            url.to_owned(),
            run.to_owned(),
            posted.clone(),
            turn.clone(),
        );
        measure::measure(
            32,
            Duration::from_secs(1),
            Duration::from_secs(5),
            move |w, n| {
                let (client, url, posted) = (client.clone(), url.clone(), posted.clone());
                let id = format!("wamid.{run}.capacity.{w}.{n}");
                let from = contact(turn.fetch_add(1, Ordering::Relaxed), contacts);
                async move {
                    post(&client, &url, &from, &id, QUESTION).await?;
                    posted.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
            },
        )
        .await?
    };
    let burst_end = Instant::now();
    let drained = drain(running, pool, tail, DRAIN_LIMIT).await?;
    anyhow::ensure!(
        max_lag(running, tail).await?.0 == 0 && backlog(pool).await? == (0, 0),
        "the capacity burst's backlog was not processed within {} s",
        DRAIN_LIMIT.as_secs()
    );
    let whole = burst_end.duration_since(began) + drained;
    Ok(Capacity {
        ingest: m.ops_per_sec,
        sustained: posted.load(Ordering::Relaxed) as f64 / whole.as_secs_f64(),
        drained_s: drained.as_secs_f64(),
    })
}

/// How many webhooks are due `elapsed` into a run at `rate`: the `k`th (from 0) is scheduled
/// at `k / rate`, the first at the start. (Counting `elapsed × rate` alone sent each one a
/// whole period after its scheduled time, which its latency then included: 42 ms at 24/s.)
fn due_by(elapsed: Duration, rate: f64) -> u64 {
    (elapsed.as_secs_f64() * rate).floor() as u64 + 1
}

/// The `n`th message's sender: the customers write in turn.
fn contact(n: u64, contacts: u64) -> String {
    format!("5511{:09}", n % contacts)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Waits (at most `limit`) until no consumer lags, no burst waits for the AI and no reply
/// for the sender; returns how long it took. The AI's bursts and the sender's replies are
/// job queues, not stream consumers: with the consumers caught up, the answers to the last
/// messages may still be due (the burst window) and their events not yet written.
async fn drain(
    running: &Running,
    pool: &PgPool,
    tail: &Tail,
    limit: Duration,
) -> anyhow::Result<Duration> {
    let began = Instant::now();
    while began.elapsed() < limit {
        let (lag, consumer) = max_lag(running, tail).await?;
        let (bursts, replies) = backlog(pool).await?;
        tracing::debug!(
            lag,
            consumer,
            bursts,
            replies,
            "waiting for the burst's backlog"
        );
        if lag == 0 && (bursts, replies) == (0, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(began.elapsed())
}

/// Bursts waiting for the AI's answer and replies waiting to be sent.
async fn backlog(pool: &PgPool) -> anyhow::Result<(i64, i64)> {
    let bursts = workers::responder::metrics::burst_queue(pool).await?;
    let replies = workers::sender::status(pool).await?;
    Ok((bursts.waiting, replies.pending))
}

/// The largest lag among the running consumers, in events, and whose it is.
async fn max_lag(running: &Running, tail: &Tail) -> anyhow::Result<(i64, String)> {
    let mut worst = (0, String::new());
    for c in running.app.consumers() {
        let lag = tail.lag(c.checkpoint, LAG_CAP).await?;
        if lag > worst.0 || worst.1.is_empty() {
            worst = (lag, c.name);
        }
    }
    Ok(worst)
}

async fn sample(
    running: &Running,
    pool: &PgPool,
    tail: &Tail,
    port: u16,
    minute: u32,
    latencies: &Histogram<u64>,
    errors: u64,
) -> anyhow::Result<Sample> {
    let db_connections: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()",
    )
    .fetch_one(pool)
    .await?;
    let (lag_max, lag_consumer) = max_lag(running, tail).await?;
    let (bursts_waiting, replies_pending) = backlog(pool).await?;
    let ms = |q: f64| latencies.value_at_quantile(q) as f64 / 1000.0;
    Ok(Sample {
        minute,
        // This process runs `serve` and the load.
        rss_bytes: memory::rss_bytes().unwrap_or(0),
        db_connections,
        sockets: open_sockets().unwrap_or(0),
        http_connections: http_connections(port).unwrap_or(0),
        lag_max,
        lag_consumer,
        bursts_waiting,
        replies_pending,
        webhooks: latencies.len(),
        errors,
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
    })
}

#[allow(clippy::print_stdout)]
fn print_row(s: &Sample) {
    println!(
        "| {} | {} | {:.1} | {} | {} | {} | {} ({}) | {} | {} | {} | {} | {:.2} | {:.2} |",
        s.minute,
        load_average(),
        s.rss_bytes as f64 / (1024.0 * 1024.0),
        s.db_connections,
        s.sockets,
        s.http_connections,
        s.lag_max,
        s.lag_consumer,
        s.bursts_waiting,
        s.replies_pending,
        s.webhooks,
        s.errors,
        s.p50_ms,
        s.p99_ms
    );
}

/// Open socket descriptors of this process (client and server sides alike).
fn open_sockets() -> Option<u64> {
    let mut n = 0;
    for fd in std::fs::read_dir("/proc/self/fd").ok()?.flatten() {
        if std::fs::read_link(fd.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"))
        {
            n += 1;
        }
    }
    Some(n)
}

/// Established TCP connections whose local port is the API's: the server's side of them.
fn http_connections(port: u16) -> Option<u64> {
    let local = format!(":{port:04X}");
    let mut n = 0;
    for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        n += text
            .lines()
            .skip(1)
            .filter(|l| {
                let mut cols = l.split_whitespace();
                let local_address = cols.nth(1).unwrap_or_default();
                let state = cols.nth(1).unwrap_or_default();
                local_address.ends_with(&local) && state == "01"
            })
            .count() as u64;
    }
    Some(n)
}

/// The machine's 1-, 5- and 15-minute load averages (shared with other work).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soak_plan_parses_and_sets_no_ai_quota() {
        let plans = schemas::plans::PlanCatalogue::from_json(UNLIMITED_PLAN).unwrap();
        let plan = plans
            .get("enterprise")
            .expect("the plan register subscribes to");
        assert_eq!(plan.monthly_ai_message_quota, None);
    }

    #[test]
    fn a_webhook_is_due_at_its_scheduled_time_not_a_period_later() {
        // At 4 webhooks/s the 0th is due at once, the 1st at 250 ms.
        assert_eq!(due_by(Duration::ZERO, 4.0), 1);
        assert_eq!(due_by(Duration::from_millis(249), 4.0), 1);
        assert_eq!(due_by(Duration::from_millis(250), 4.0), 2);
        assert_eq!(due_by(Duration::from_secs(10), 4.0), 41);
    }
}
