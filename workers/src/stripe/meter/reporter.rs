//! The reporter: turns counted, unreported units into reports (written before they are
//! sent) and sends due reports to Stripe, retrying with backoff.
//!
//! Exactly once: a report's identifier names its tenant, period and first unit, and its
//! value is fixed when it is written, so a report resent after a crash, a timeout or by a
//! second process is the same request with the same identifier and idempotency key, which
//! Stripe counts once. Units are only ever added to a report once (`batched` moves in the
//! transaction that writes it).
//!
//! Several processes may run the reporter (one per `atende worker` with the billing part):
//! each claims its reports for a lease (`FOR UPDATE SKIP LOCKED`, the next attempt moved a
//! lease away), so a report is sent by one of them. Stripe's deduplication by identifier
//! stays the safety net for the one case a lease cannot cover, a process that dies after
//! Stripe accepted and before recording it: the report is sent again after the lease, and
//! counted once.

use crate::jobs::{Attempt, Backoff, JobRunner, Queue, RunnerConfig};
use chrono::{DateTime, Duration as Span, NaiveDate, Utc};
use integrations::stripe::{MeterEvent, StripeClient, StripeError};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use stream::Handle;
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
    runner: JobRunner<Reports>,
}

/// `meter_reports` as a job queue.
#[derive(Debug)]
struct Reports {
    pool: PgPool,
    stripe: StripeClient,
    config: ReporterConfig,
}

/// At most this many reports are sent per round.
const ROUND_BATCH: usize = 500;

/// How long a claimed report belongs to the reporter that claimed it: longer than a round
/// of sends takes (one Stripe call after the other, each bounded by the client's timeout).
const CLAIM_LEASE: Duration = Duration::from_secs(15 * 60);

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

#[derive(Debug, sqlx::FromRow)]
struct Due {
    identifier: String,
    stripe_customer_id: String,
    value: i64,
    usage_at: DateTime<Utc>,
    attempts: i32,
    created_at: DateTime<Utc>,
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
        let runner = RunnerConfig {
            // Reports are written from the counts each round, not announced.
            channel: None,
            poll_interval: config.interval,
            wait_first: true,
            batch_size: ROUND_BATCH,
            concurrency: 1,
            // Leased, so two reporters never send one report at once; Stripe's identifier
            // dedup only covers what a lease cannot (a crash after the send).
            lease: CLAIM_LEASE,
            backoff: config.backoff(),
            max_attempts: Some(u32::try_from(config.max_attempts).unwrap_or(0)),
        };
        let reports = Reports {
            pool: pool.clone(),
            stripe,
            config,
        };
        Self {
            runner: JobRunner::new(Arc::new(reports), pool, runner),
        }
    }

    /// Runs a round every `interval` (the first one `interval` after start) until stopped.
    pub fn spawn(self) -> Handle {
        self.runner.spawn()
    }

    /// Writes reports for unreported units, then sends every due report once.
    #[tracing::instrument(name = "reporting usage to Stripe", skip_all)]
    pub async fn round(&self) -> Result<Round, sqlx::Error> {
        let round = self.runner.round().await?;
        Ok(Round {
            written: round.prepared,
            reported: round.done,
            failed_attempts: round.retried + round.given_up,
        })
    }
}

impl ReporterConfig {
    fn backoff(&self) -> Backoff {
        Backoff {
            base: self.retry_base,
            max: Duration::from_secs(3600),
        }
    }
}

#[async_trait::async_trait]
impl Queue for Reports {
    type Job = Due;
    type Output = ();
    type Error = sqlx::Error;

    fn name(&self) -> &'static str {
        "meter_reports"
    }

    async fn prepare(&self) -> Result<usize, sqlx::Error> {
        self.write_reports().await
    }

    /// Claims due reports for `lease`: another reporter skips them until it ends (or until
    /// this one records an outcome, which sets the next attempt).
    async fn claim(&self, limit: usize, lease: Duration) -> Result<Vec<Due>, sqlx::Error> {
        let mut due: Vec<Due> = sqlx::query_as(
            "UPDATE meter_reports SET next_attempt_at = now() + make_interval(secs => $2)
              WHERE identifier IN (
                    SELECT identifier FROM meter_reports
                     WHERE status = 'pending' AND next_attempt_at <= now()
                     ORDER BY created_at, identifier LIMIT $1 FOR UPDATE SKIP LOCKED)
              RETURNING identifier, stripe_customer_id, value, usage_at, attempts, created_at",
        )
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(lease.as_secs_f64())
        .fetch_all(&self.pool)
        .await?;
        // RETURNING keeps no order: sent oldest first, as they were written.
        due.sort_by(|a, b| (a.created_at, &a.identifier).cmp(&(b.created_at, &b.identifier)));
        Ok(due)
    }

    /// Attempts are counted when they end, so this one is the next.
    fn attempt(&self, report: &Due) -> u32 {
        u32::try_from(report.attempts + 1).unwrap_or(0)
    }

    async fn run(&self, report: &Due) -> Attempt<()> {
        match self.send(report).await {
            Ok(()) => Attempt::Done(()),
            Err(e) if e.is_permanent() => Attempt::Permanent {
                error: e.to_string(),
                output: (),
            },
            Err(e) => Attempt::Transient {
                error: e.to_string(),
                output: (),
            },
        }
    }

    /// [`Reports::send`] recorded it.
    async fn complete(&self, _report: &Due, (): ()) -> Result<(), sqlx::Error> {
        Ok(())
    }

    async fn retry(&self, report: &Due, after: Duration, error: &str) -> Result<(), sqlx::Error> {
        tracing::warn!(identifier = %report.identifier, %error, retry_in_secs = after.as_secs(),
            "a usage report failed; it will be retried");
        self.record_failure(report, error, false, after).await
    }

    async fn give_up(&self, report: &Due, error: &str, (): ()) -> Result<(), sqlx::Error> {
        tracing::error!(identifier = %report.identifier, %error,
            "a usage report was given up; it needs an operator");
        let after = self.config.backoff().after(self.attempt(report));
        self.record_failure(report, error, true, after).await?;
        let notice = stream::notifications::Notice::usage_report_given_up(
            &report.identifier,
            error,
            Utc::now(),
        );
        stream::notifications::raise_now(&self.pool, &notice)
            .await
            .map(drop)
    }
}

impl Reports {
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

    async fn record_failure(
        &self,
        report: &Due,
        error: &str,
        give_up: bool,
        wait: Duration,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE meter_reports SET attempts = $2, last_error = $3,
                 status = CASE WHEN $4 THEN 'failed' ELSE status END,
                 next_attempt_at = now() + make_interval(secs => $5)
              WHERE identifier = $1 AND status = 'pending'",
        )
        .bind(&report.identifier)
        .bind(report.attempts + 1)
        .bind(error)
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
