//! `atende bench conversations-list`: `GET /api/v1/conversations` over a tenant with many
//! conversations, through the HTTP API (auth, query, opening the sealed previews).

use super::app::Running;
use super::scratch::Scratch;
use crate::database::DatabaseConfig;
use anyhow::Context;
use chrono::Utc;
use clap::Args;
use hdrhistogram::Histogram;
use schemas::personal::{with_sealer, MasterKey};
use schemas::Personal;
use serde_json::Value;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

/// Settings of `atende bench conversations-list`.
#[derive(Debug, Clone, Args)]
pub struct ConversationsListArgs {
    /// Conversations of the measured tenant.
    #[arg(long, default_value_t = 100_000)]
    pub conversations: i64,
    /// Conversations of other tenants in the same table.
    #[arg(long, default_value_t = 100_000)]
    pub others: i64,
    /// Requests per case (a walk stops earlier at the last page).
    #[arg(long, default_value_t = 1000)]
    pub requests: usize,
}

const AGENTS: usize = 10;
const CHUNK: i64 = 5_000;

/// Fills a scratch database, starts the app on it, measures, prints Markdown.
pub async fn run(db_config: &DatabaseConfig, args: ConversationsListArgs) -> anyhow::Result<()> {
    let scratch = Scratch::open(db_config, 12).await?;
    let result = bench(&scratch.pool, &args).await;
    scratch.close().await?;
    let rows = result?;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "### bench conversations-list ({} conversations in the tenant, {} in others; \
             sequential requests over HTTP, 50 rows, previews opened)\n",
            args.conversations, args.others
        );
        println!("| request | requests | p50 ms | p99 ms | max ms |");
        println!("|---|---:|---:|---:|---:|");
        for (name, h) in rows {
            println!(
                "| {name} | {} | {:.2} | {:.2} | {:.2} |",
                h.len(),
                h.value_at_quantile(0.5) as f64 / 1000.0,
                h.value_at_quantile(0.99) as f64 / 1000.0,
                h.max() as f64 / 1000.0
            );
        }
    }
    Ok(())
}

async fn bench(
    pool: &PgPool,
    args: &ConversationsListArgs,
) -> anyhow::Result<Vec<(String, Histogram<u64>)>> {
    let master = MasterKey::generate();
    let running = Running::start(pool.clone(), master.clone()).await?;
    let result = async {
        let tenant = Uuid::now_v7();
        let agents = fill_tenant(pool, &master, tenant, args.conversations, args.others).await?;
        let token = running.owner_token(tenant)?;
        let client = reqwest::Client::new();
        let measure = |query: String, walk: bool| {
            let client = client.clone();
            let token = token.clone();
            let base = running.url("/api/v1/conversations");
            async move { measure(&client, &base, &token, &query, walk, args.requests).await }
        };
        let agent = agents[1];
        Ok(vec![
            ("first page".into(), measure(String::new(), false).await?),
            (
                "every page in turn (cursor)".into(),
                measure(String::new(), true).await?,
            ),
            (
                "status=awaiting_human, in turn".into(),
                measure("status=awaiting_human".into(), true).await?,
            ),
            (
                format!("agent=<one of {AGENTS}>, in turn"),
                measure(format!("agent={agent}"), true).await?,
            ),
            (
                "agent=none, in turn".into(),
                measure("agent=none".into(), true).await?,
            ),
            (
                "q=<4 digits of a number>".into(),
                measure("q=1234".into(), false).await?,
            ),
            (
                "q=<part of a name>".into(),
                measure("q=silva".into(), false).await?,
            ),
        ])
    }
    .await;
    running.app.stop().await?;
    result
}

/// Times `requests` requests of `query`; when `walk`, each one asks for the page after the
/// previous one (starting over after the last).
async fn measure(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    query: &str,
    walk: bool,
    requests: usize,
) -> anyhow::Result<Histogram<u64>> {
    let mut h = Histogram::<u64>::new(3)?;
    let mut cursor: Option<String> = None;
    for i in 0..requests + 50 {
        let mut url = format!("{base}?{query}");
        if let Some(c) = cursor.as_deref().filter(|_| walk) {
            url.push_str(&format!("&cursor={c}"));
        }
        let started = Instant::now();
        let resp = client.get(&url).bearer_auth(token).send().await?;
        anyhow::ensure!(resp.status().is_success(), "GET {url}: {}", resp.status());
        let page: Value = resp.json().await?;
        let took = started.elapsed();
        // A benchmark of empty or unopened pages would measure nothing.
        let opened = page["items"][0]["last_message"]["preview"]
            .as_str()
            .is_some_and(|p| p.starts_with("Mensagem"));
        anyhow::ensure!(opened, "GET {url} gave no opened row: {page}");
        // The first requests warm the connection and the caches.
        if i >= 50 {
            h.record(took.as_micros() as u64)?;
        }
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    Ok(h)
}

/// Fills the read model with `conversations` conversations of `tenant` (assigned among
/// `AGENTS` made-up agents, a third to none) and `others` of other tenants, then analyses
/// the table; returns the agents.
pub(super) async fn fill_tenant(
    pool: &PgPool,
    master: &MasterKey,
    tenant: Uuid,
    conversations: i64,
    others: i64,
) -> anyhow::Result<Vec<Uuid>> {
    let agents: Vec<Uuid> = (0..AGENTS).map(|_| Uuid::now_v7()).collect();
    fill(pool, master, tenant, &agents, conversations).await?;
    for _ in 0..(others / 10_000).max(1) {
        let other = Uuid::now_v7();
        fill(pool, master, other, &agents, (others / 10).min(10_000)).await?;
    }
    sqlx::query("VACUUM ANALYZE conversations")
        .execute(pool)
        .await?;
    Ok(agents)
}

/// Inserts `n` conversations of `tenant` straight into the read model, each with its own
/// contact key and a preview sealed under it, as the projection would have left them.
async fn fill(
    pool: &PgPool,
    master: &MasterKey,
    tenant: Uuid,
    agents: &[Uuid],
    n: i64,
) -> anyhow::Result<()> {
    let bar = crate::cli::progress::Bar::of(
        "filling conversations",
        "conversations",
        u64::try_from(n).unwrap_or(0),
    );
    let now = Utc::now();
    let today = now.date_naive();
    let mut start = 0;
    while start < n {
        let end = (start + CHUNK).min(n);
        let mut ids = Vec::new();
        let mut seq = Vec::new();
        let mut phones = Vec::new();
        let mut names = Vec::new();
        let mut key_ids = Vec::new();
        let mut wrapped = Vec::new();
        let mut subjects = Vec::new();
        let mut previews = Vec::new();
        for i in start..end {
            let id = Uuid::new_v4();
            let (key, wrap) = master.new_subject_key(Uuid::now_v7());
            let preview = with_sealer(Arc::new(key.clone()), || {
                serde_json::to_value(Personal::from(format!("Mensagem número {i}")))
            })?;
            ids.push(id);
            seq.push(i);
            phones.push(format!("55119{:08}", i));
            names.push(format!("Cliente {} Silva", i));
            key_ids.push(key.id());
            wrapped.push(wrap);
            subjects.push(format!("contact:{id}"));
            previews.push(preview);
        }
        sqlx::query(
            "INSERT INTO subject_keys (key_id, subject, period, rotates, tenant_id, wrapped)
             SELECT k, s, $1, true, $2, w FROM unnest($3::uuid[], $4::text[], $5::bytea[])
                 AS t(k, s, w)",
        )
        .bind(today)
        .bind(tenant)
        .bind(&key_ids)
        .bind(&subjects)
        .bind(&wrapped)
        .execute(pool)
        .await
        .context("inserting keys")?;
        sqlx::query(
            "INSERT INTO conversations (conversation_id, tenant_id, status, contact_phone,
                 contact_name, contact_search, contact_key_id, contact_seen_at,
                 last_message_preview, last_message_direction, last_message_at,
                 unanswered_count, assigned_agent, window_ends_at, handed_off_at, created_at,
                 updated_at, last_sequence, last_position)
             SELECT id, $1,
                    (ARRAY['ai_active', 'awaiting_human', 'human_replied', 'resolved'])[1 + n % 4],
                    phone, name, lower(name) || ' ' || phone, k, $2, preview,
                    CASE WHEN n % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
                    $2 - make_interval(secs => n), (n % 5)::int,
                    CASE WHEN n % 3 = 0 THEN NULL ELSE ($3::uuid[])[1 + n % cardinality($3)] END,
                    $2 + interval '1 day', NULL, $2 - interval '1 day',
                    $2 - make_interval(secs => n), 1, n
               FROM unnest($4::uuid[], $5::bigint[], $6::text[], $7::text[], $8::uuid[],
                           $9::jsonb[]) AS t(id, n, phone, name, k, preview)",
        )
        .bind(tenant)
        .bind(now)
        .bind(agents)
        .bind(&ids)
        .bind(&seq)
        .bind(&phones)
        .bind(&names)
        .bind(&key_ids)
        .bind(&previews)
        .execute(pool)
        .await
        .context("inserting conversations")?;
        bar.inc(u64::try_from(end - start).unwrap_or(0));
        start = end;
    }
    bar.finish();
    Ok(())
}
