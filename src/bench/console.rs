//! `atende bench console`: the web console's budgets (#15) in a real headless Chromium over a
//! tenant with 100,000 conversations — the inbox's first page after a navigation, and a
//! webhook's message reaching an open inbox — and the size of its JavaScript and CSS.

use super::app::Running;
use super::conversations_list::fill_tenant;
use super::scratch::Scratch;
use crate::database::DatabaseConfig;
use anyhow::Context;
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use clap::Args;
use futures::StreamExt;
use read_api::auth::Role;
use read_api::users::{self, NewUser};
use schemas::personal::MasterKey;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// Settings of `atende bench console`.
#[derive(Debug, Clone, Args)]
pub struct ConsoleArgs {
    /// Conversations of the measured tenant.
    #[arg(long, default_value_t = 100_000)]
    pub conversations: i64,
    /// Conversations of other tenants in the same table.
    #[arg(long, default_value_t = 100_000)]
    pub others: i64,
    /// Measured navigations to the inbox.
    #[arg(long, default_value_t = 20)]
    pub navigations: usize,
    /// Measured webhooks into the open inbox.
    #[arg(long, default_value_t = 50)]
    pub webhooks: usize,
    /// The Chromium to drive (Debian's by default, as the browser tests use).
    #[arg(long, default_value = "/usr/bin/chromium")]
    pub chromium: PathBuf,
}

const SECRET: &str = "bench-app-secret";
const NUMBER: &str = "bench-number";
const WARM_UP: usize = 3;
const WAIT: Duration = Duration::from_secs(30);

/// Installed in every document before the console's own scripts: notes when the first
/// conversation row of the list is in the DOM (checked on each mutation and each frame), as
/// milliseconds since the navigation started, and when the text in `__want` first shows in
/// the list, as wall-clock milliseconds.
const OBSERVER: &str = r#"(() => {
  window.__firstRow = null;
  window.__want = null;
  window.__seenAt = null;
  const check = () => {
    if (window.__firstRow === null && document.querySelector("[data-conversation]")) {
      window.__firstRow = performance.now();
    }
    if (window.__want !== null && window.__seenAt === null) {
      const list = document.querySelector(".inbox");
      if (list && list.textContent.includes(window.__want)) window.__seenAt = Date.now();
    }
  };
  new MutationObserver(check).observe(document, {childList: true, subtree: true, characterData: true});
  const frame = () => { check(); if (window.__firstRow === null) requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
})();"#;

/// Fills a scratch database, starts the app and a browser on it, measures, prints Markdown.
pub async fn run(db_config: &DatabaseConfig, args: ConsoleArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.chromium.exists(),
        "bench console needs Chromium at {}: `apt-get install chromium`",
        args.chromium.display()
    );
    let scratch = Scratch::open(db_config, 20).await?;
    let result = bench(&scratch, &args).await;
    scratch.close().await?;
    let (first_row, live) = result?;
    let (size, files) = ::console::gzipped_js_css_bytes();
    #[allow(clippy::print_stdout)]
    {
        println!(
            "### bench console ({} conversations in the tenant, {} in others; headless \
             Chromium on this machine, signed in through the cookie session)\n",
            args.conversations, args.others
        );
        println!("| measurement | samples | p50 ms | p90 ms | p99 ms | max ms | target |");
        println!("|---|---:|---:|---:|---:|---:|---|");
        row(
            "navigation to `/` → first conversation row rendered (in-page `performance.now()`)",
            &first_row,
            "≤ 500 ms",
        );
        row(
            "webhook's 200 → its message visible in the open inbox (page `Date.now()`)",
            &live,
            "≤ 1000 ms median",
        );
        println!(
            "\nConsole JavaScript + CSS, each file gzipped: {:.1} KB in {files} files \
             (budget {} KB).",
            size as f64 / 1024.0,
            ::console::SIZE_BUDGET_BYTES / 1024
        );
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
fn row(name: &str, samples: &[f64], target: &str) {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let q = |p: f64| s[((s.len() as f64 * p).ceil() as usize).clamp(1, s.len()) - 1];
    println!(
        "| {name} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {target} |",
        s.len(),
        q(0.5),
        q(0.9),
        q(0.99),
        s[s.len() - 1]
    );
}

async fn bench(scratch: &Scratch, args: &ConsoleArgs) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    anyhow::ensure!(
        args.navigations > 0 && args.webhooks > 0,
        "nothing to measure"
    );
    let pool = &scratch.pool;
    let master = MasterKey::generate();
    let running = Running::start_with(pool.clone(), master.clone(), |c| {
        c.background.whatsapp.whatsapp_app_secret = Some(SECRET.into())
    })
    .await?;
    let result = async {
        let tenant = Uuid::now_v7();
        let email = "owner@bench.example";
        running.register_tenant(tenant, email, NUMBER).await?;
        fill_tenant(pool, &master, tenant, args.conversations, args.others).await?;
        let password = read_api::auth::password::generate();
        users::create(
            pool,
            NewUser {
                email: email.into(),
                password: password.clone(),
                role: Role::Owner,
                tenant_id: Some(tenant),
            },
        )
        .await
        .context("creating the owner")?;

        let browser = Chromium::launch(&args.chromium).await?;
        let result = async {
            let page = &browser.page;
            page.evaluate_on_new_document(OBSERVER).await?;
            page.goto(running.url("/login")).await?;
            let signed_in = eval(
                page,
                &format!(
                    "fetch('/api/v1/auth/login', {{method: 'POST', credentials: 'same-origin',
                       headers: {{'Content-Type': 'application/json'}},
                       body: JSON.stringify({{email: {}, password: {}, session: 'cookie'}})}})
                     .then(r => r.status)",
                    json!(email),
                    json!(password)
                ),
            )
            .await?;
            anyhow::ensure!(signed_in == json!(200), "signing in answered {signed_in}");

            let mut first_row = Vec::new();
            for i in 0..WARM_UP + args.navigations {
                page.goto(running.url("/")).await?;
                let took = number(wait_for(page, "window.__firstRow").await?)?;
                if i >= WARM_UP {
                    first_row.push(took);
                }
            }

            wait_for(page, "document.querySelector('.live:not(.off)') && true")
                .await
                .context("the inbox's stream never connected")?;
            let client = running.app_client();
            let url = running.url("/webhooks/whatsapp");
            let run = Uuid::now_v7().simple().to_string();
            let mut live = Vec::new();
            for i in 0..WARM_UP + args.webhooks {
                let text = format!("Mensagem ao vivo {i} {}", &run[run.len() - 8..]);
                eval(
                    page,
                    &format!(
                        "(window.__seenAt = null, window.__want = {}, true)",
                        json!(text)
                    ),
                )
                .await?;
                let ok_at = webhook(&client, &url, i, &run, &text).await?;
                let seen_at = number(wait_for(page, "window.__seenAt").await?)?;
                if i >= WARM_UP {
                    live.push(seen_at - ok_at);
                }
            }
            Ok((first_row, live))
        }
        .await;
        browser.close().await;
        result
    }
    .await;
    running.app.stop().await?;
    result
}

/// Posts Meta's signed webhook of `text` from a new contact; returns the wall-clock
/// milliseconds at which its 200 arrived.
async fn webhook(
    client: &reqwest::Client,
    url: &str,
    i: usize,
    run: &str,
    text: &str,
) -> anyhow::Result<f64> {
    let from = format!("55219{i:08}");
    let body = serde_json::to_vec(&json!({"object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": NUMBER},
            "contacts": [{"profile": {"name": format!("Contato {i}")}, "wa_id": from}],
            "messages": [{"from": from, "id": format!("wamid.{run}.{i}"),
                          "timestamp": chrono::Utc::now().timestamp().to_string(),
                          "type": "text", "text": {"body": text}}]}}]}]}))?;
    let signature = integrations::whatsapp::sign(SECRET.as_bytes(), &body);
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .header("X-Hub-Signature-256", signature)
        .body(body)
        .send()
        .await?;
    let ok_at = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs_f64() * 1000.0;
    anyhow::ensure!(resp.status() == 200, "webhook answered {}", resp.status());
    Ok(ok_at)
}

/// Evaluates `js` (an expression; promises awaited) in the page and returns its value.
async fn eval(page: &Page, js: &str) -> anyhow::Result<Value> {
    let params = EvaluateParams::builder()
        .expression(js)
        .await_promise(true)
        .return_by_value(true)
        .build()
        .map_err(anyhow::Error::msg)?;
    // A `null` result comes back without a value.
    let result = page.evaluate_expression(params).await?;
    Ok(result.value().cloned().unwrap_or(Value::Null))
}

/// Polls `js` until it is not null (every 5 ms, at most [`WAIT`]) and returns it.
async fn wait_for(page: &Page, js: &str) -> anyhow::Result<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let v = eval(page, &format!("({js}) ?? null")).await?;
        if !v.is_null() {
            return Ok(v);
        }
        anyhow::ensure!(Instant::now() < deadline, "timed out waiting for {js}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn number(v: Value) -> anyhow::Result<f64> {
    v.as_f64()
        .with_context(|| format!("the page gave {v}, not a number"))
}

/// Headless Chromium with a fresh profile and one page, launched as the browser tests
/// launch it (tests/browser/harness.rs): same window and flags.
struct Chromium {
    browser: Browser,
    page: Page,
    profile: PathBuf,
}

impl Chromium {
    async fn launch(executable: &Path) -> anyhow::Result<Self> {
        let profile = std::env::temp_dir().join(format!("atende-chromium-{}", Uuid::now_v7()));
        let config = BrowserConfig::builder()
            .chrome_executable(executable)
            .user_data_dir(&profile)
            .no_sandbox()
            .window_size(1280, 860)
            .viewport(None)
            // This machine has no network: without these Chromium keeps dialling out.
            .args([
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ])
            .build()
            .map_err(anyhow::Error::msg)?;
        let (browser, mut handler) = Browser::launch(config).await?;
        // Events of newer Chromiums that this CDP version cannot decode come out as
        // errors: skip them, keep driving.
        tokio::spawn(async move { while handler.next().await.is_some() {} });
        let page = browser.new_page("about:blank").await?;
        Ok(Self {
            browser,
            page,
            profile,
        })
    }

    async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
