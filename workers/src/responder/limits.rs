//! Per-tenant AI usage limits (F15) and the plan's monthly AI message quota.
//!
//! Counted from `ai_usage`, which the responder's consumer fills from every `AiReplied`:
//! model requests in the current UTC hour, tokens in the current UTC day, cost in the
//! current UTC month; AI answers (all kinds) in the current billing period for the quota.

use chrono::{DateTime, Utc};
use integrations::mailer::AiLimitKind;
use schemas::events::{AiLimits, HandoffReason};
use schemas::BillingPeriod;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The limits a tenant has: the platform's defaults, or its own (issue 18); `None` is
/// unlimited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Model requests per UTC hour.
    pub requests_per_hour: Option<u64>,
    /// Prompt plus completion tokens per UTC day.
    pub tokens_per_day: Option<u64>,
    /// Estimated model cost per UTC month, in US dollars.
    pub cost_per_month_usd: Option<f64>,
}

impl Default for Limits {
    fn default() -> Self {
        Self::from(AiLimits::PLATFORM_DEFAULTS)
    }
}

impl From<AiLimits> for Limits {
    /// Limits as configured: `0` (or none) is unlimited.
    fn from(l: AiLimits) -> Self {
        Self {
            requests_per_hour: l.requests_per_hour.filter(|n| *n > 0),
            tokens_per_day: l.tokens_per_day.filter(|n| *n > 0),
            cost_per_month_usd: l.cost_per_month_usd.filter(|c| *c > 0.0),
        }
    }
}

impl Limits {
    /// These (the platform's defaults) with a tenant's `own` limits laid over them: each of
    /// its own replaces the default, `0` being unlimited (issue 18).
    pub fn with_own(self, own: AiLimits) -> Self {
        let mine = Self::from(own);
        Self {
            requests_per_hour: own
                .requests_per_hour
                .map_or(self.requests_per_hour, |_| mine.requests_per_hour),
            tokens_per_day: own
                .tokens_per_day
                .map_or(self.tokens_per_day, |_| mine.tokens_per_day),
            cost_per_month_usd: own
                .cost_per_month_usd
                .map_or(self.cost_per_month_usd, |_| mine.cost_per_month_usd),
        }
    }
}

/// A tenant's use in the current windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    /// Model requests this hour.
    pub requests: f64,
    /// Tokens today.
    pub tokens: f64,
    /// Cost this month.
    pub cost_usd: f64,
    /// When this hour, day and month began.
    pub windows: [DateTime<Utc>; 3],
}

/// Reads `tenant`'s use in the windows containing `now`.
pub async fn usage(
    db: &mut PgConnection,
    tenant: Uuid,
    now: DateTime<Utc>,
) -> Result<Usage, sqlx::Error> {
    let (requests, tokens, cost, hour, day, month): (
        i64,
        i64,
        f64,
        DateTime<Utc>,
        DateTime<Utc>,
        DateTime<Utc>,
    ) = sqlx::query_as(
        "WITH w AS (SELECT date_trunc('hour', $2::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour,
                           date_trunc('day', $2::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day,
                           date_trunc('month', $2::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month)
         SELECT count(*) FILTER (WHERE u.model_call AND u.at >= w.hour),
                COALESCE(sum(u.tokens_in + u.tokens_out) FILTER (WHERE u.at >= w.day), 0)::bigint,
                COALESCE(sum(u.cost_usd), 0)::double precision,
                w.hour, w.day, w.month
           FROM w LEFT JOIN ai_usage u
             ON u.tenant_id = $1 AND u.at >= w.month AND u.at <= $2
          GROUP BY w.hour, w.day, w.month",
    )
    .bind(tenant)
    .bind(now)
    .fetch_one(db)
    .await?;
    Ok(Usage {
        requests: requests as f64,
        tokens: tokens as f64,
        cost_usd: cost,
        windows: [hour, day, month],
    })
}

impl Limits {
    /// Each limited measure: its kind, use, limit and window start.
    fn measures(&self, u: &Usage) -> Vec<(AiLimitKind, f64, f64, DateTime<Utc>)> {
        let mut out = Vec::new();
        if let Some(l) = self.requests_per_hour {
            out.push((
                AiLimitKind::RequestsPerHour,
                u.requests,
                l as f64,
                u.windows[0],
            ));
        }
        if let Some(l) = self.tokens_per_day {
            out.push((AiLimitKind::TokensPerDay, u.tokens, l as f64, u.windows[1]));
        }
        if let Some(l) = self.cost_per_month_usd {
            out.push((AiLimitKind::CostPerMonth, u.cost_usd, l, u.windows[2]));
        }
        out
    }

    /// The first limit fully used, as a hand-off reason.
    pub fn reached(&self, u: &Usage) -> Option<HandoffReason> {
        self.measures(u)
            .into_iter()
            .find(|(_, used, limit, _)| used >= limit)
            .map(|(kind, ..)| match kind {
                AiLimitKind::RequestsPerHour => HandoffReason::RequestLimitReached,
                AiLimitKind::TokensPerDay => HandoffReason::TokenLimitReached,
                AiLimitKind::CostPerMonth => HandoffReason::CostLimitReached,
            })
    }

    /// Limits used at 80 % or more: kind, percent used and the window's start (names the
    /// alert, so each window alerts once).
    pub fn near(&self, u: &Usage) -> Vec<(AiLimitKind, u32, DateTime<Utc>)> {
        self.measures(u)
            .into_iter()
            .filter(|(_, used, limit, _)| *limit > 0.0 && used / limit >= 0.8)
            .map(|(kind, used, limit, start)| {
                (
                    kind,
                    ((used / limit) * 100.0).floor().min(999.0) as u32,
                    start,
                )
            })
            .collect()
    }
}

/// Whether `tenant` used its plan's `quota` of AI answers in the billing period containing
/// `now` (never without a quota).
pub async fn quota_reached(
    pool: &PgPool,
    tenant: Uuid,
    quota: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let Some(quota) = quota else {
        return Ok(false);
    };
    let anchor: Option<Option<DateTime<Utc>>> =
        sqlx::query_scalar("SELECT billing_anchor FROM usage_tenants WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_optional(pool)
            .await?;
    let start =
        BillingPeriod::containing(anchor.flatten().map(|a| a.date_naive()), now.date_naive()).start;
    let start = start.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let used: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ai_usage WHERE tenant_id = $1 AND at >= $2")
            .bind(tenant)
            .bind(start)
            .fetch_one(pool)
            .await?;
    Ok(used >= quota)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenants_own_limit_replaces_the_default_zero_lifts_it_and_none_keeps_it() {
        let defaults = Limits::default();
        let own = AiLimits {
            requests_per_hour: Some(5),
            tokens_per_day: Some(0),
            cost_per_month_usd: None,
        };
        assert_eq!(
            defaults.with_own(own),
            Limits {
                requests_per_hour: Some(5),
                tokens_per_day: None,
                cost_per_month_usd: Some(100.0),
            }
        );
        assert_eq!(defaults.with_own(AiLimits::default()), defaults);
        let unlimited = Limits::from(AiLimits {
            requests_per_hour: Some(0),
            tokens_per_day: None,
            cost_per_month_usd: Some(0.0),
        });
        assert_eq!(unlimited.with_own(own).requests_per_hour, Some(5));
        assert_eq!(unlimited.with_own(own).cost_per_month_usd, None);
    }

    #[test]
    fn a_limit_is_near_at_80_percent_and_reached_at_100() {
        let limits = Limits {
            requests_per_hour: Some(10),
            tokens_per_day: None,
            cost_per_month_usd: Some(1.0),
        };
        let t = Utc::now();
        let usage = |requests, cost_usd| Usage {
            requests,
            tokens: 1e12,
            cost_usd,
            windows: [t; 3],
        };
        assert!(limits.near(&usage(7.0, 0.1)).is_empty());
        assert_eq!(
            limits.near(&usage(8.0, 0.1)),
            vec![(AiLimitKind::RequestsPerHour, 80, t)]
        );
        assert_eq!(limits.reached(&usage(9.0, 0.5)), None);
        assert_eq!(
            limits.reached(&usage(9.0, 1.0)),
            Some(HandoffReason::CostLimitReached)
        );
    }
}
