//! `atende bench webhook-ingest`: signed Cloud API webhooks (one text message each, from
//! distinct contacts) through the HTTP API: signature check, tenant routing, the command
//! and its commit — what Meta waits for before it stops retrying.

use super::app::Running;
use super::measure;
use super::scratch::Scratch;
use crate::background::Part;
use crate::database::DatabaseConfig;
use clap::Args;
use schemas::personal::MasterKey;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

/// Settings of `atende bench webhook-ingest`.
#[derive(Debug, Clone, Args)]
pub struct WebhookIngestArgs {
    /// Concurrent connections posting webhooks.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Measured seconds (after one second of warm-up).
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Runs the API alone, as `atende serve --no-workers` does when the workers run on other
    /// machines: measures ingest without the stream consumers competing for the same cores.
    #[arg(long)]
    pub no_workers: bool,
}

/// The app secret Meta signs webhooks with, as the benchmarks configure it.
pub(super) const SECRET: &str = "bench-app-secret";
/// The Cloud API number the benchmarks' tenant has linked.
pub(super) const NUMBER: &str = "bench-number";

/// Posts a signed Cloud API webhook carrying one text message from `from`, as Meta would;
/// an answer other than 2xx is an error.
pub(super) async fn post(
    client: &reqwest::Client,
    url: &str,
    from: &str,
    id: &str,
    text: &str,
) -> anyhow::Result<()> {
    let body = serde_json::to_vec(&json!({"object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": NUMBER},
            "contacts": [{"profile": {"name": "Cliente"}, "wa_id": from}],
            "messages": [{"from": from, "id": id, "timestamp": "1749416383",
                          "type": "text", "text": {"body": text}}]}}]}]}))?;
    let signature = integrations::whatsapp::sign(SECRET.as_bytes(), &body);
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .header("X-Hub-Signature-256", signature)
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(
        resp.status().is_success(),
        "webhook answered {}",
        resp.status()
    );
    Ok(())
}

/// Starts the app on a scratch database, measures, prints Markdown.
pub async fn run(db_config: &DatabaseConfig, args: WebhookIngestArgs) -> anyhow::Result<()> {
    let scratch = Scratch::open(db_config, 40).await?;
    let result = bench(&scratch, &args).await;
    scratch.close().await?;
    let m = result?;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "### bench webhook-ingest ({} connections, {} s, one signed message per webhook, {})\n",
            args.connections,
            args.seconds,
            if args.no_workers {
                "API alone"
            } else {
                "whole product"
            }
        );
        println!("| connections | webhooks | webhooks/s | p50 ms | p99 ms |");
        println!("|---:|---:|---:|---:|---:|");
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.2} |",
            m.writers, m.ops, m.ops_per_sec, m.p50_ms, m.p99_ms
        );
    }
    Ok(())
}

async fn bench(
    scratch: &Scratch,
    args: &WebhookIngestArgs,
) -> anyhow::Result<measure::Measurement> {
    let parts: &[Part] = if args.no_workers { &[] } else { &Part::ALL };
    let running = Running::start_parts(
        scratch.pool.clone(),
        MasterKey::generate(),
        |c| c.background.whatsapp.whatsapp_app_secret = Some(SECRET.into()),
        parts,
    )
    .await?;
    let result = async {
        let tenant = Uuid::now_v7();
        running
            .register_tenant(tenant, "bench@atende.example", NUMBER)
            .await?;
        let client = running.app_client();
        let url = running.url("/webhooks/whatsapp");
        let run = Uuid::now_v7().simple().to_string();
        measure::measure(
            args.connections,
            Duration::from_secs(1),
            Duration::from_secs(args.seconds),
            move |w, n| {
                let client = client.clone();
                let url = url.clone();
                let id = format!("wamid.{run}.{w}.{n}");
                async move {
                    let from = format!("55119{w:04}{:04}", n % 10_000);
                    post(&client, &url, &from, &id, "Qual o horário?").await
                }
            },
        )
        .await
    }
    .await;
    running.app.stop().await?;
    result
}
