//! `atende bench stripe-webhook`: signed Stripe events through `POST /webhooks/stripe` —
//! signature check, dedup, the subscription commands and their commit, then the 200 Stripe
//! waits for — for the two kinds a SaaS receives: a new customer's paid checkout (its facts;
//! the provisioning saga — tenant, owner with an argon2id password, welcome mail, the
//! subscription's start — follows in the background, on the same machine) and a renewal's
//! `invoice.paid`.

use super::app::Running;
use super::measure::{self, Measurement};
use super::scratch::Scratch;
use crate::database::DatabaseConfig;
use clap::Args;
use hmac::{Hmac, Mac};
use schemas::personal::MasterKey;
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::Duration;
use uuid::Uuid;

/// Settings of `atende bench stripe-webhook`.
#[derive(Debug, Clone, Args)]
pub struct StripeWebhookArgs {
    /// Concurrent connections posting events (Stripe delivers an endpoint's events a few at
    /// a time).
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Measured seconds per kind (after one second of warm-up).
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// New customers per second (open loop): each one's account is created with an argon2id
    /// hash, tens of milliseconds of CPU, so signups are measured at a rate, not flat out.
    #[arg(long, default_value_t = 5)]
    pub signups_per_second: u64,
}

const SECRET: &str = "whsec_bench";
/// Customers provisioned before the renewals are measured.
const CUSTOMERS: usize = 64;

/// Starts the app on a scratch database, measures, prints Markdown.
pub async fn run(db_config: &DatabaseConfig, args: StripeWebhookArgs) -> anyhow::Result<()> {
    let scratch = Scratch::open(db_config, 40).await?;
    let result = bench(&scratch, &args).await;
    scratch.close().await?;
    let rows = result?;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "### bench stripe-webhook ({} signups/s, renewals on {} connections, {} s each, the whole product running)\n",
            args.signups_per_second, args.connections, args.seconds
        );
        println!("| event | webhooks | webhooks/s | p50 ms | p99 ms |");
        println!("|---|---:|---:|---:|---:|");
        for (kind, m) in rows {
            println!(
                "| {kind} | {} | {:.0} | {:.2} | {:.2} |",
                m.ops, m.ops_per_sec, m.p50_ms, m.p99_ms
            );
        }
    }
    Ok(())
}

/// A Stripe event envelope of `kind` around `object`.
fn event(kind: &str, object: Value) -> Value {
    json!({
        "id": format!("evt_{}", Uuid::now_v7().simple()),
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": chrono::Utc::now().timestamp(),
        "livemode": false,
        "type": kind,
        "data": { "object": object },
    })
}

fn checkout_completed(customer: &str) -> Value {
    event(
        "checkout.session.completed",
        json!({
            "id": format!("cs_{}", Uuid::now_v7().simple()),
            "object": "checkout.session",
            "mode": "subscription",
            "status": "complete",
            "customer": customer,
            "subscription": format!("sub_of_{customer}"),
            "client_reference_id": customer,
            "customer_email": format!("{customer}@bench.example"),
            "customer_details": { "email": format!("{customer}@bench.example"), "name": "Bench" },
            "metadata": { "plan": "pro", "business_name": "Bench" },
            "payment_status": "paid",
        }),
    )
}

fn invoice_paid(customer: &str) -> Value {
    let period_end = chrono::Utc::now().timestamp() + 30 * 86_400;
    event(
        "invoice.paid",
        json!({
            "id": format!("in_{}", Uuid::now_v7().simple()),
            "object": "invoice",
            "customer": customer,
            "customer_email": format!("{customer}@bench.example"),
            "parent": { "type": "subscription_details",
                        "subscription_details": { "subscription": format!("sub_of_{customer}") } },
            "amount_paid": 39_900,
            "currency": "brl",
            "attempt_count": 1,
            "period_end": period_end,
            "lines": { "object": "list", "data": [
                { "id": "il_1", "period": { "start": period_end - 30 * 86_400, "end": period_end } }
            ] },
        }),
    )
}

/// Posts `event` signed as Stripe signs (HMAC-SHA256 of `"<t>.<body>"`); expects 200.
async fn deliver(client: &reqwest::Client, url: &str, event: &Value) -> anyhow::Result<()> {
    let body = event.to_string();
    let t = chrono::Utc::now().timestamp();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes())?;
    mac.update(format!("{t}.{body}").as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .header("Stripe-Signature", format!("t={t},v1={signature}"))
        .body(body)
        .send()
        .await?;
    let status = resp.status();
    anyhow::ensure!(
        status.is_success(),
        "{} answered {status}: {}",
        event["type"],
        resp.text().await.unwrap_or_default()
    );
    Ok(())
}

/// New customers' paid checkouts at a steady rate: one warm-up second, then the window.
async fn signups(
    client: &reqwest::Client,
    url: &str,
    run: &str,
    args: &StripeWebhookArgs,
) -> anyhow::Result<Measurement> {
    let rate = args.signups_per_second.max(1);
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = rate * (1 + args.seconds);
    let mut tasks = Vec::new();
    for n in 0..total {
        tick.tick().await;
        let (client, url) = (client.clone(), url.to_owned());
        let customer = format!("cus_{run}_{n}");
        tasks.push(tokio::spawn(async move {
            let began = std::time::Instant::now();
            deliver(&client, &url, &checkout_completed(&customer)).await?;
            anyhow::Ok(began.elapsed())
        }));
    }
    let mut h = hdrhistogram::Histogram::<u64>::new(3)?;
    for (n, t) in tasks.into_iter().enumerate() {
        let took = t.await??;
        if n as u64 >= rate {
            h.record(took.as_micros() as u64)?;
        }
    }
    Ok(Measurement {
        writers: 0,
        ops: h.len(),
        ops_per_sec: h.len() as f64 / args.seconds as f64,
        p50_ms: h.value_at_quantile(0.5) as f64 / 1000.0,
        p99_ms: h.value_at_quantile(0.99) as f64 / 1000.0,
    })
}

/// Waits until the provisioning saga has started every one of `customers`' subscriptions,
/// so the renewals measured are renewals.
async fn started(pool: &sqlx::PgPool, customers: &[String]) -> anyhow::Result<()> {
    let tenants: Vec<String> = customers
        .iter()
        .map(|c| schemas::ids::tenant_for_stripe_customer(c).to_string())
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let done: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events
              WHERE aggregate_type = 'subscription' AND aggregate_id = ANY($1)
                AND event_type = $2",
        )
        .bind(&tenants)
        .bind(schemas::EventType::SubscriptionStarted.as_str())
        .fetch_one(pool)
        .await?;
        if done >= i64::try_from(tenants.len())? {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            anyhow::bail!(
                "the provisioning saga started {done} of {} subscriptions",
                tenants.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn bench(
    scratch: &Scratch,
    args: &StripeWebhookArgs,
) -> anyhow::Result<Vec<(&'static str, Measurement)>> {
    let running = Running::start_with(scratch.pool.clone(), MasterKey::generate(), |c| {
        c.background.stripe_webhooks.stripe_webhook_secret = SECRET.into();
    })
    .await?;
    let result = async {
        let client = running.app_client();
        let url = running.url("/webhooks/stripe");
        let run = Uuid::now_v7().simple().to_string();
        let window = Duration::from_secs(args.seconds);
        let provisioning = signups(&client, &url, &run, args).await?;
        let customers: Vec<String> = (0..CUSTOMERS).map(|i| format!("cus_{run}_r{i}")).collect();
        for c in &customers {
            deliver(&client, &url, &checkout_completed(c)).await?;
        }
        started(&scratch.pool, &customers).await?;
        let renewals = measure::measure(
            args.connections,
            Duration::from_secs(1),
            window,
            move |w, n| {
                let (client, url) = (client.clone(), url.clone());
                let customer = customers[(w * 7 + n as usize) % customers.len()].clone();
                async move { deliver(&client, &url, &invoice_paid(&customer)).await }
            },
        )
        .await?;
        anyhow::Ok(vec![
            (
                "`checkout.session.completed` of a new customer (provisioning), open loop",
                provisioning,
            ),
            ("`invoice.paid` of a renewal, closed loop", renewals),
        ])
    }
    .await;
    running.app.stop().await?;
    result
}
