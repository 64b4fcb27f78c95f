//! The reporter: turns counted, unreported units into reports (written before they are
//! sent) and sends due reports to Stripe, retrying with backoff.
//!
//! Exactly once: a report's identifier names its tenant, period and first unit, and its
//! value is fixed when it is written, so a report resent after a crash, a timeout or by a
//! second process is the same request with the same identifier and idempotency key, which
//! Stripe counts once. Units are only ever added to a report once (`batched` moves in the
//! transaction that writes it).

use chrono::{DateTime, Duration as Span, NaiveDate, Utc};
use integrations::stripe::{MeterEvent, StripeClient, StripeError};
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// How the reporter runs.
#[derive(Debug, Clone)]
pub struct ReporterConfig {
    /// The Billing Meter's `event_name`.
    pub event_name: String,
    /// Time between rounds.
    pub interval: Duration,
    /// The first retry waits this long; each next one twice as long, up to an hour.
    pub retry_base: Duration,
    /// Attempts before a report is given up (`failed`, in /health).
    pub max_attempts: i32,
}

impl Default for ReporterConfig {
    fn default() -> Self {
        Self {
            event_name: "ai_answers".into(),
            interval: Duration::from_secs(60),
            retry_base: Duration::from_secs(30),
            max_attempts: 12,
        }
    }
}

/// Sends usage reports to Stripe.
#[derive(Debug, Clone)]
pub struct MeterReporter {
    pool: PgPool,
    stripe: StripeClient,
    config: ReporterConfig,
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Reports written.
    pub written: usize,
    /// Reports Stripe accepted.
    pub reported: usize,
    /// Attempts that failed.
    pub failed_attempts: usize,
}

/// A running reporter.
#[derive(Debug)]
pub struct ReporterHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ReporterHandle {
    /// Stops after the current round.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

#[derive(Debug, sqlx::FromRow)]
struct Due {
    identifier: String,
    stripe_customer_id: String,
    value: i64,
    usage_at: DateTime<Utc>,
    attempts: i32,
}

/// Stripe takes meter events up to 35 days old; older usage is reported as of now.
fn stripe_timestamp(usage_at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    usage_at.max(now - Span::days(34)).min(now).timestamp()
}

/// A report's identifier: tenant, period and first unit (unique, and at most 100 chars).
pub fn identifier(tenant: Uuid, period_start: NaiveDate, first_unit: i64) -> String {
    format!(
        "atende-{}-{}-{first_unit}",
        tenant.simple(),
        period_start.format("%Y%m%d")
    )
}

impl MeterReporter {
    /// A reporter over `pool` sending with `stripe`.
    pub fn new(pool: PgPool, stripe: StripeClient, config: ReporterConfig) -> Self {
        Self {
            pool,
            stripe,
            config,
        }
    }

    /// Runs a round every `interval` (the first one `interval` after start) until stopped.
    pub fn spawn(self) -> ReporterHandle {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.interval) => {}
                    _ = stopped.changed() => break,
                }
                if let Err(e) = self.round().await {
                    tracing::warn!(error = %e, "a usage reporting round failed; retrying later");
                }
            }
        });
        ReporterHandle { stop, task }
    }

    /// Writes reports for unreported units, then sends every due report once.
    #[tracing::instrument(name = "reporting usage to Stripe", skip_all)]
    pub async fn round(&self) -> Result<Round, sqlx::Error> {
        let written = self.write_reports().await?;
        let mut round = Round {
            written,
            ..Round::default()
        };
        let due: Vec<Due> = sqlx::query_as(
            "SELECT identifier, stripe_customer_id, value, usage_at, attempts FROM meter_reports
              WHERE status = 'pending' AND next_attempt_at <= now()
              ORDER BY created_at, identifier LIMIT 500",
        )
        .fetch_all(&self.pool)
        .await?;
        for report in due {
            match self.send(&report).await {
                Ok(()) => round.reported += 1,
                Err(e) => {
                    round.failed_attempts += 1;
                    self.record_failure(&report, &e).await?;
                }
            }
        }
        Ok(round)
    }

    async fn send(&self, report: &Due) -> Result<(), StripeError> {
        let event = MeterEvent {
            event_name: self.config.event_name.clone(),
            stripe_customer_id: report.stripe_customer_id.clone(),
            value: report.value,
            identifier: report.identifier.clone(),
            timestamp: stripe_timestamp(report.usage_at, Utc::now()),
        };
        self.stripe.report_meter_event(&event).await?;
        // A crash here resends the same report, which Stripe counts once.
        sqlx::query(
            "UPDATE meter_reports SET status = 'reported', reported_at = now(),
                 attempts = attempts + 1, last_error = NULL
              WHERE identifier = $1 AND status = 'pending'",
        )
        .bind(&report.identifier)
        .execute(&self.pool)
        .await
        .map_err(|e| StripeError::Unreachable(format!("recording the report: {e}")))?;
        Ok(())
    }

    async fn record_failure(&self, report: &Due, e: &StripeError) -> Result<(), sqlx::Error> {
        let attempts = report.attempts + 1;
        let give_up = e.is_permanent() || attempts >= self.config.max_attempts;
        let exponent = u32::try_from(attempts - 1).unwrap_or(0).min(16);
        let wait = self
            .config
            .retry_base
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(Duration::from_secs(3600));
        if give_up {
            tracing::error!(identifier = %report.identifier, error = %e,
                "a usage report was given up; it needs an operator");
        } else {
            tracing::warn!(identifier = %report.identifier, error = %e, retry_in_secs = wait.as_secs(),
                "a usage report failed; it will be retried");
        }
        sqlx::query(
            "UPDATE meter_reports SET attempts = $2, last_error = $3,
                 status = CASE WHEN $4 THEN 'failed' ELSE status END,
                 next_attempt_at = now() + make_interval(secs => $5)
              WHERE identifier = $1 AND status = 'pending'",
        )
        .bind(&report.identifier)
        .bind(attempts)
        .bind(e.to_string())
        .bind(give_up)
        .bind(wait.as_secs_f64())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One report per tenant and period with units not in a report yet.
    async fn write_reports(&self) -> Result<usize, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let rows: Vec<(Uuid, NaiveDate, i64, i64, DateTime<Utc>, String)> = sqlx::query_as(
            "SELECT u.tenant_id, u.period_start, u.batched, u.billable, u.last_at,
                    t.stripe_customer_id
               FROM meter_usage u JOIN meter_tenants t USING (tenant_id)
              WHERE u.billable > u.batched AND t.stripe_customer_id IS NOT NULL
              ORDER BY u.tenant_id, u.period_start
                FOR UPDATE OF u SKIP LOCKED",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (tenant, period_start, batched, billable, last_at, customer) in &rows {
            let first = batched + 1;
            sqlx::query(
                "INSERT INTO meter_reports (identifier, tenant_id, period_start, first_unit,
                     last_unit, value, stripe_customer_id, usage_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(identifier(*tenant, *period_start, first))
            .bind(tenant)
            .bind(period_start)
            .bind(first)
            .bind(billable)
            .bind(billable - batched)
            .bind(customer)
            .bind(last_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE meter_usage SET batched = $3 WHERE tenant_id = $1 AND period_start = $2",
            )
            .bind(tenant)
            .bind(period_start)
            .bind(billable)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_name_tenant_period_and_first_unit_within_stripes_length() {
        let id = identifier(
            Uuid::from_u128(u128::MAX),
            NaiveDate::from_ymd_opt(2026, 12, 2).expect("a date"),
            i64::MAX,
        );
        assert!(id.starts_with("atende-ffffffffffffffffffffffffffffffff-20261202-"));
        assert!(id.len() <= 100, "{}", id.len());
    }

    #[test]
    fn usage_older_than_stripe_accepts_is_reported_as_of_a_month_ago() {
        let now = Utc::now();
        assert_eq!(
            stripe_timestamp(now - Span::days(40), now),
            (now - Span::days(34)).timestamp()
        );
        let recent = now - Span::hours(1);
        assert_eq!(stripe_timestamp(recent, now), recent.timestamp());
    }
}
