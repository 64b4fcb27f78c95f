//! `atende bench …`: performance measurements printed as Markdown for BENCHMARKS.md.

mod answers;
mod app;
mod append;
mod console;
mod conversations_list;
mod measure;
mod memory;
mod pipeline;
mod relay;
mod replay;
mod scratch;
mod soak;
mod startup;
mod stripe_webhook;
mod tail_lag;
mod verify;
mod webhook_ingest;

use crate::database::DatabaseConfig;
use clap::Subcommand;

pub use measure::{measure, Measurement};

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Single-event command throughput and latency vs raw single-row INSERTs.
    Append(append::AppendArgs),
    /// Sealing and verifying the event chain over a bulk-filled log.
    Verify(verify::VerifyArgs),
    /// Rebuilding `aggregate_index` (or, with `--all`, every read model) from a bulk-filled log.
    Replay(replay::ReplayArgs),
    /// `GET /api/v1/conversations` over a tenant with 100,000 conversations.
    ConversationsList(conversations_list::ConversationsListArgs),
    /// Event committed → visible in the conversations read model, at a steady rate (through
    /// Kafka when `KAFKA_BROKERS` is set).
    TailLag(tail_lag::TailLagArgs),
    /// Signed WhatsApp webhooks through the API at 32 connections.
    WebhookIngest(webhook_ingest::WebhookIngestArgs),
    /// The relay's throughput from the event store into Kafka.
    Relay(relay::RelayArgs),
    /// Customer message committed → AI reply recorded (zero-latency fake model, burst 0).
    Pipeline(pipeline::PipelineArgs),
    /// Signed Stripe webhooks: a new customer's paid checkout, a renewal's invoice.
    StripeWebhook(stripe_webhook::StripeWebhookArgs),
    /// Answers without a model: right facts, false answers and the threshold's trade-off
    /// over a question set, and retrieval latency at 50,000 characters.
    Answers(answers::AnswersArgs),
    /// The whole product under signed webhooks at a fixed rate for minutes on end: memory,
    /// connections, consumers' lag and latency every minute, and whether they stay flat.
    Soak(soak::SoakArgs),
    /// `serve` from launch to a healthy `/health` on a new and on an existing data
    /// directory, and its memory once idle.
    Startup(startup::StartupArgs),
    /// The web console in headless Chromium over 100,000 conversations: the inbox's first
    /// page after navigating, a webhook's message reaching the open inbox, and its size.
    Console(console::ConsoleArgs),
}

/// Runs one benchmark.
pub async fn run(db: &DatabaseConfig, cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Append(args) => append::run(db, args).await,
        BenchCommand::Verify(args) => verify::run(db, args).await,
        BenchCommand::Replay(args) => replay::run(db, args).await,
        BenchCommand::ConversationsList(args) => conversations_list::run(db, args).await,
        BenchCommand::TailLag(args) => tail_lag::run(db, args).await,
        BenchCommand::WebhookIngest(args) => webhook_ingest::run(db, args).await,
        BenchCommand::Relay(args) => relay::run(db, args).await,
        BenchCommand::Pipeline(args) => pipeline::run(db, args).await,
        BenchCommand::StripeWebhook(args) => stripe_webhook::run(db, args).await,
        BenchCommand::Answers(args) => answers::run(db, args).await,
        BenchCommand::Console(args) => console::run(db, args).await,
        BenchCommand::Soak(args) => soak::run(db, args).await,
        BenchCommand::Startup(args) => startup::run(args).await,
    }
}
