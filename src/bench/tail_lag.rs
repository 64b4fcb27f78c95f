//! `atende bench tail-lag`: how long after a command commits its event is visible in the
//! conversations read model (and on a dashboard's live stream), at a steady event rate.

use super::app::Running;
use super::scratch::Scratch;
use crate::database::DatabaseConfig;
use crate::subject_keys::RingKeys;
use aggregates::{ConversationCommand, RandomIds, SystemClock, TenantCommand};
use chrono::Utc;
use clap::Args;
use commands::privacy::KeyRing;
use commands::{CommandBus, CommandBusConfig};
use hdrhistogram::Histogram;
use projections::conversations::Conversations;
use projections::conversations::{ConversationChange, CHANNEL};
use schemas::events::{MessageContent, Plan};
use schemas::personal::MasterKey;
use schemas::{conversation_id, Actor, ActorKind, CommandMetadata, Personal};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stream::{CommitSignal, Handle, Registry, Tail};
use tokio::time::MissedTickBehavior;
use uuid::Uuid;

/// Settings of `atende bench tail-lag`.
#[derive(Debug, Clone, Args)]
pub struct TailLagArgs {
    /// Events per second (each a customer message, in a new conversation).
    #[arg(long, default_value_t = 1000)]
    pub rate: u64,
    /// Measured seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Unmeasured warm-up seconds.
    #[arg(long, default_value_t = 2)]
    pub warmup_seconds: u64,
    /// Run only the write side and the conversations projection (no API, no other stream
    /// consumers), to tell the projection's own lag from the whole product's.
    #[arg(long)]
    pub only_conversations: bool,
    /// The background parts running beside the API (default: all, as `serve` runs them);
    /// e.g. `projections` for the read side alone, as a deployment with `serve --no-workers`
    /// and `worker --only projections` runs it.
    #[arg(long, value_delimiter = ',', conflicts_with = "only_conversations")]
    pub parts: Vec<crate::background::Part>,
}

/// What runs during the measurement.
enum Setup {
    /// The whole product.
    Full(Box<Running>),
    /// The write side and the conversations projection alone.
    Alone {
        bus: Arc<CommandBus>,
        runners: Vec<Handle>,
    },
}

impl Setup {
    async fn start(pool: &PgPool, args: &TailLagArgs) -> anyhow::Result<Self> {
        let master = MasterKey::generate();
        if !args.only_conversations {
            let parts = if args.parts.is_empty() {
                crate::background::Part::ALL.to_vec()
            } else {
                args.parts.clone()
            };
            return Ok(Self::Full(Box::new(
                Running::start_parts(pool.clone(), master, |_| {}, &parts).await?,
            )));
        }
        let keys = Arc::new(KeyRing::open(pool.clone(), master).await?);
        let signal = CommitSignal::new();
        let notify = signal.clone();
        let bus = Arc::new(CommandBus::new(
            pool.clone(),
            Arc::new(SystemClock),
            Arc::new(RandomIds),
            &CommandBusConfig::default(),
            Arc::new(move |_, _| notify.notify()),
            keys.clone(),
        ));
        let tail = Tail::new(pool.clone())
            .with_commit_signal(&signal)
            .with_idle_poll(Duration::from_millis(100));
        let projection = Conversations::new(Arc::new(RingKeys(keys)));
        let runners =
            Registry::new([Arc::new(projection) as Arc<dyn stream::EventHandler>]).spawn_all(&tail);
        Ok(Self::Alone { bus, runners })
    }

    fn bus(&self) -> Arc<CommandBus> {
        match self {
            Self::Full(r) => r.app.bus.clone(),
            Self::Alone { bus, .. } => bus.clone(),
        }
    }

    async fn stop(self) -> anyhow::Result<()> {
        match self {
            Self::Full(r) => r.app.stop().await,
            Self::Alone { runners, .. } => {
                for r in runners {
                    r.stop().await;
                }
                Ok(())
            }
        }
    }
}

/// Pairs each command's commit with the moment its change was seen, in whichever order
/// the two are reported.
#[derive(Default)]
struct Lags {
    committed: HashMap<Uuid, Instant>,
    seen_first: HashMap<Uuid, Instant>,
    lags: Vec<Duration>,
}

impl Lags {
    fn committed(&mut self, id: Uuid, at: Instant, measured: bool) {
        match self.seen_first.remove(&id) {
            Some(_) if measured => self.lags.push(Duration::ZERO),
            Some(_) => {}
            None if measured => {
                self.committed.insert(id, at);
            }
            None => {}
        }
    }

    fn seen(&mut self, id: Uuid, at: Instant) {
        match self.committed.remove(&id) {
            Some(t) => self.lags.push(at.saturating_duration_since(t)),
            None => {
                self.seen_first.insert(id, at);
            }
        }
    }
}

type Shared = Arc<Mutex<Lags>>;

fn lock(l: &Shared) -> std::sync::MutexGuard<'_, Lags> {
    l.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs the load, prints Markdown.
pub async fn run(db_config: &DatabaseConfig, args: TailLagArgs) -> anyhow::Result<()> {
    let scratch = Scratch::open(db_config, 40).await?;
    let result = bench(&scratch.pool, &args).await;
    scratch.close().await?;
    let (model, stream, sent, elapsed) = result?;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "### bench tail-lag ({} events/s asked, {:.0} achieved, {} s measured; each a customer \
             message in a new conversation)\n",
            args.rate,
            sent as f64 / elapsed.as_secs_f64(),
            args.seconds
        );
        println!("| committed → | events | p50 ms | p99 ms | max ms |");
        println!("|---|---:|---:|---:|---:|");
        let scope = if args.only_conversations {
            " (write side and this projection alone)".to_owned()
        } else if args.parts.is_empty() {
            " (whole product running)".to_owned()
        } else {
            let parts: Vec<String> = args
                .parts
                .iter()
                .map(|p| format!("{p:?}").to_lowercase())
                .collect();
            format!(" (API and {} running)", parts.join(", "))
        };
        println!(
            "| visible in the conversations read model{scope} | {} | {:.1} | {:.1} | {:.1} |",
            model.len(),
            model.value_at_quantile(0.5) as f64 / 1000.0,
            model.value_at_quantile(0.99) as f64 / 1000.0,
            model.max() as f64 / 1000.0
        );
        for (name, h) in [("received on `GET /api/v1/stream`", stream)] {
            if h.is_empty() {
                continue;
            }
            println!(
                "| {name} | {} | {:.1} | {:.1} | {:.1} |",
                h.len(),
                h.value_at_quantile(0.5) as f64 / 1000.0,
                h.value_at_quantile(0.99) as f64 / 1000.0,
                h.max() as f64 / 1000.0
            );
        }
    }
    Ok(())
}

fn histogram(lags: &Shared) -> anyhow::Result<Histogram<u64>> {
    let mut h = Histogram::<u64>::new(3)?;
    for lag in &lock(lags).lags {
        h.record(lag.as_micros() as u64)?;
    }
    Ok(h)
}

async fn bench(
    pool: &PgPool,
    args: &TailLagArgs,
) -> anyhow::Result<(Histogram<u64>, Histogram<u64>, u64, Duration)> {
    let setup = Setup::start(pool, args).await?;
    let result = async {
        let tenant = Uuid::now_v7();
        let md = CommandMetadata::new(
            Actor {
                kind: ActorKind::Admin,
                id: "bench".into(),
            },
            Some(tenant),
        );
        setup
            .bus()
            .tenants
            .execute(
                &tenant.to_string(),
                TenantCommand::RegisterTenant {
                    tenant_id: tenant,
                    name: "Bench".into(),
                    owner_email: Personal::from("bench@atende.example"),
                    plan: Plan("basic".into()),
                },
                &md,
            )
            .await?;

        let model: Shared = Arc::default();
        let stream: Shared = Arc::default();
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        let watcher = tokio::spawn(watch_model(listener, model.clone()));
        let reader = match &setup {
            Setup::Full(running) => {
                let sse = running
                    .app_client()
                    .get(running.url("/api/v1/stream"))
                    .bearer_auth(running.owner_token(tenant)?)
                    .send()
                    .await?;
                anyhow::ensure!(sse.status().is_success(), "the stream: {}", sse.status());
                Some(tokio::spawn(watch_stream(sse, stream.clone())))
            }
            Setup::Alone { .. } => None,
        };

        let bus = setup.bus();
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / args.rate.max(1)));
        tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let started = Instant::now();
        let measure_from = started + Duration::from_secs(args.warmup_seconds);
        let end = measure_from + Duration::from_secs(args.seconds);
        let mut tasks = Vec::new();
        let mut sent = 0u64;
        let mut n = 0u64;
        while Instant::now() < end {
            tick.tick().await;
            n += 1;
            let measured = Instant::now() >= measure_from;
            sent += u64::from(measured);
            let contact = format!("55{:011}", n);
            let id = conversation_id(tenant, &contact);
            let command = ConversationCommand::ReceiveMessage {
                tenant_id: tenant,
                contact_wa_id: Personal::from(contact.as_str()),
                contact_name: Some(Personal::from("Cliente")),
                provider_message_id: format!("wamid.{n}"),
                content: MessageContent::Text(Personal::from("Oi, tudo bem?")),
                sent_at: Utc::now(),
            };
            let (bus, md, model, stream) = (bus.clone(), md.clone(), model.clone(), stream.clone());
            tasks.push(tokio::spawn(async move {
                bus.conversations
                    .execute(&id.to_string(), command, &md)
                    .await?;
                let at = Instant::now();
                lock(&model).committed(id, at, measured);
                lock(&stream).committed(id, at, measured);
                anyhow::Ok(())
            }));
        }
        let elapsed = Instant::now().saturating_duration_since(measure_from);
        for t in tasks {
            t.await??;
        }
        // Let the last changes arrive.
        tokio::time::sleep(Duration::from_secs(2)).await;
        if let Setup::Full(running) = &setup {
            print_consumers(&running.app.consumers());
        }
        watcher.abort();
        if let Some(reader) = reader {
            reader.abort();
        }
        anyhow::Ok((histogram(&model)?, histogram(&stream)?, sent, elapsed))
    }
    .await;
    setup.stop().await?;
    result
}

/// Where the stream's time went, consumer by consumer (whole run, warm-up included).
#[allow(clippy::print_stdout)]
pub(super) fn print_consumers(consumers: &[stream::ConsumerStatus]) {
    println!("| consumer | events applied | transactions | busy ms | ms per transaction |");
    println!("|---|---:|---:|---:|---:|");
    let mut sorted: Vec<_> = consumers.iter().collect();
    sorted.sort_by_key(|c| std::cmp::Reverse(c.busy_ms));
    for c in sorted {
        println!(
            "| {} | {} | {} | {} | {:.2} |",
            c.name,
            c.applied,
            c.batches,
            c.busy_ms,
            c.busy_ms as f64 / c.batches.max(1) as f64
        );
    }
    println!();
}

async fn watch_model(mut listener: PgListener, lags: Shared) -> anyhow::Result<()> {
    loop {
        let n = listener.recv().await?;
        let at = Instant::now();
        let change: ConversationChange = serde_json::from_str(n.payload())?;
        lock(&lags).seen(change.conversation_id, at);
    }
}

async fn watch_stream(mut resp: reqwest::Response, lags: Shared) -> anyhow::Result<()> {
    let mut buffer = String::new();
    while let Some(chunk) = resp.chunk().await? {
        let at = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let data = block.lines().find_map(|l| l.strip_prefix("data:"));
            let id = data
                .and_then(|d| serde_json::from_str::<serde_json::Value>(d.trim()).ok())
                .and_then(|v| v["conversation_id"].as_str().and_then(|s| s.parse().ok()));
            if let Some(id) = id {
                lock(&lags).seen(id, at);
            }
        }
    }
    Ok(())
}
