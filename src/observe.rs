//! What `/health` checks beyond the database and what `/metrics` reads at scrape time, from
//! the settings both `serve` and `worker` share (issue 19).

use crate::background::Settings;
use anyhow::Context;
use read_api::observability::{MetricsToken, Ops, Probe, Reading, CHECK_TIMEOUT};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;

/// The services in use (Kafka, Qdrant, SMTP, when configured), the job queues' gauges and
/// the metrics token.
pub fn ops(settings: &Settings, pool: &PgPool) -> anyhow::Result<Ops> {
    let mut probes = Vec::new();
    if let Some(config) = settings.kafka.config() {
        let brokers =
            stream::kafka::BrokerProbe::new(&config).context("making the Kafka health probe")?;
        // Under the check's own timeout, so librdkafka gives up before the report does.
        let wait = CHECK_TIMEOUT.saturating_sub(Duration::from_millis(250));
        probes.push(Probe::new("kafka", move || {
            let brokers = brokers.clone();
            async move {
                match brokers.check(wait).await {
                    Ok(0) => Err("the cluster reports no brokers".to_owned()),
                    Ok(_) => Ok(()),
                    Err(e) => Err(e.to_string()),
                }
            }
        }));
    }
    if let Some(url) = settings
        .knowledge
        .qdrant_url
        .as_deref()
        .filter(|u| !u.is_empty())
    {
        let qdrant = Arc::new(
            integrations::qdrant::QdrantIndex::connect(
                url,
                settings.knowledge.qdrant_api_key.clone(),
                &settings.knowledge.qdrant_collection,
            )
            .context("making the Qdrant health probe")?,
        );
        probes.push(Probe::new("qdrant", move || {
            let qdrant = qdrant.clone();
            async move { qdrant.check().await.map_err(|e| e.to_string()) }
        }));
    }
    if let Some(url) = settings.mail.smtp_url.as_deref() {
        let smtp = integrations::mailer::Transport::smtp(url).context("using SMTP_URL")?;
        probes.push(Probe::new("smtp", move || {
            let smtp = smtp.clone();
            async move { smtp.check().await }
        }));
    }
    Ok(Ops {
        token: settings
            .metrics_token
            .as_deref()
            .and_then(MetricsToken::new),
        probes,
        readings: vec![job_queues(pool.clone())],
    })
}

/// Sets one queue's gauges: depth, given-up jobs and the most overdue job's age (0 when
/// nothing is overdue, so an alert on it clears).
fn queue_gauges(queue: &'static str, depth: i64, failed: i64, oldest: Option<f64>) {
    ::metrics::gauge!("atende_job_queue_depth", "queue" => queue).set(depth as f64);
    ::metrics::gauge!("atende_job_queue_failed", "queue" => queue).set(failed as f64);
    ::metrics::gauge!("atende_job_queue_oldest_age_seconds", "queue" => queue)
        .set(oldest.unwrap_or(0.0).max(0.0));
}

/// The mail, outbound WhatsApp, usage report and AI burst queues, each read through the
/// crate that owns its table.
fn job_queues(pool: PgPool) -> Reading {
    Reading::new("job queues", move || {
        let pool = pool.clone();
        async move {
            let (mail, outbound, usage, bursts) = tokio::join!(
                integrations::mailer::status(&pool),
                workers::sender::status(&pool),
                integrations::stripe::usage::status(&pool),
                workers::responder::metrics::burst_queue(&pool),
            );
            match mail {
                Ok(m) => queue_gauges("mail", m.queued, m.failed, m.oldest_due_age_secs),
                Err(e) => tracing::warn!(error = %e, "reading the mail queue failed"),
            }
            match outbound {
                Ok(o) => queue_gauges(
                    "whatsapp_outbound",
                    o.pending,
                    o.failed,
                    o.oldest_due_age_secs,
                ),
                Err(e) => tracing::warn!(error = %e, "reading the outbound queue failed"),
            }
            match usage {
                Ok(u) => queue_gauges(
                    "usage_reports",
                    u.pending,
                    u.failed,
                    u.oldest_pending_age_secs,
                ),
                Err(e) => tracing::warn!(error = %e, "reading the usage reports failed"),
            }
            match bursts {
                Ok(b) => queue_gauges("ai_bursts", b.waiting, 0, b.oldest_due_age_secs),
                Err(e) => tracing::warn!(error = %e, "reading the AI bursts failed"),
            }
        }
    })
}
