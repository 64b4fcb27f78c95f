//! `plan_catalogue`: the plans admins published, revised and retired (issue 18), with each
//! plan's current spec, and `plan_revisions`, every spec with the time it took effect.
//!
//! The configured catalogue (built-in or `ATENDE_PLANS`) is the seed; [`PlanHistory`]
//! lays these tables over it and answers the two questions readers ask: the catalogue in
//! force now ([`PlanHistory::in_force`], what new checkouts buy) and the spec in force for a
//! plan at a time ([`PlanHistory::spec_at`], the terms a subscription started under).

mod projector;
#[cfg(test)]
mod tests;

pub use projector::PlanCatalogueModel;

use chrono::{DateTime, Utc};
use schemas::plans::{PlanCatalogue, PlanSpec};
use serde::Serialize;
use sqlx::PgPool;
use std::collections::BTreeMap;
use uuid::Uuid;

/// One spec an admin set, and when it took effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanRevision {
    /// The event's sequence in the plan's stream.
    pub sequence: i64,
    /// The whole spec.
    pub spec: PlanSpec,
    /// When it took effect.
    pub effective_at: DateTime<Utc>,
    /// The admin who set it.
    pub admin_id: Uuid,
}

/// When and by whom a plan was retired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Retirement {
    /// When.
    pub at: DateTime<Utc>,
    /// The admin.
    pub admin_id: Uuid,
}

/// A plan as admins manage it: its current spec, where it came from, its revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagedPlan {
    /// The spec in force: the latest revision, else the configured one.
    pub spec: PlanSpec,
    /// Whether the configured catalogue (the seed) lists it.
    pub configured: bool,
    /// Set when it was retired: it is no longer sold.
    pub retired: Option<Retirement>,
    /// Every spec admins set, oldest first.
    pub revisions: Vec<PlanRevision>,
}

/// The configured catalogue with everything admins set on top of it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanHistory {
    configured: PlanCatalogue,
    revisions: BTreeMap<String, Vec<PlanRevision>>,
    retired: BTreeMap<String, Retirement>,
}

impl PlanHistory {
    /// The history from its parts: revisions in any order (sorted here by sequence).
    pub fn new(
        configured: PlanCatalogue,
        revisions: impl IntoIterator<Item = PlanRevision>,
        retired: impl IntoIterator<Item = (String, Retirement)>,
    ) -> Self {
        let mut by_plan: BTreeMap<String, Vec<PlanRevision>> = BTreeMap::new();
        for r in revisions {
            by_plan.entry(r.spec.id.clone()).or_default().push(r);
        }
        for list in by_plan.values_mut() {
            list.sort_by_key(|r| r.sequence);
        }
        Self {
            configured,
            revisions: by_plan,
            retired: retired.into_iter().collect(),
        }
    }

    /// Reads the read model and lays it over `configured`.
    #[tracing::instrument(name = "reading the plan history", skip_all)]
    pub async fn load(pool: &PgPool, configured: &PlanCatalogue) -> Result<Self, sqlx::Error> {
        let rows: Vec<(i64, sqlx::types::Json<PlanSpec>, DateTime<Utc>, Uuid)> = sqlx::query_as(
            "SELECT sequence, spec, effective_at, admin_id FROM plan_revisions
                  ORDER BY plan_id, sequence",
        )
        .fetch_all(pool)
        .await?;
        let retired: Vec<(String, DateTime<Utc>, Uuid)> = sqlx::query_as(
            "SELECT plan_id, retired_at, retired_by FROM plan_catalogue
              WHERE retired_at IS NOT NULL AND retired_by IS NOT NULL",
        )
        .fetch_all(pool)
        .await?;
        Ok(Self::new(
            configured.clone(),
            rows.into_iter()
                .map(|(sequence, spec, effective_at, admin_id)| PlanRevision {
                    sequence,
                    spec: spec.0,
                    effective_at,
                    admin_id,
                }),
            retired
                .into_iter()
                .map(|(plan, at, admin_id)| (plan, Retirement { at, admin_id })),
        ))
    }

    /// [`PlanHistory::load`] for one plan only: what a reader judging one tenant needs (the
    /// AI responder per answer, the usage meter per answer), two indexed reads instead of
    /// every revision of every plan. Other plans answer as the seed does.
    #[tracing::instrument(name = "reading one plan's history", skip(db, configured))]
    pub async fn load_plan(
        db: &mut sqlx::PgConnection,
        configured: &PlanCatalogue,
        plan: &str,
    ) -> Result<Self, sqlx::Error> {
        let rows: Vec<(i64, sqlx::types::Json<PlanSpec>, DateTime<Utc>, Uuid)> = sqlx::query_as(
            "SELECT sequence, spec, effective_at, admin_id FROM plan_revisions
              WHERE plan_id = $1 ORDER BY sequence",
        )
        .bind(plan)
        .fetch_all(&mut *db)
        .await?;
        let retired: Option<(DateTime<Utc>, Uuid)> = sqlx::query_as(
            "SELECT retired_at, retired_by FROM plan_catalogue
              WHERE plan_id = $1 AND retired_at IS NOT NULL AND retired_by IS NOT NULL",
        )
        .bind(plan)
        .fetch_optional(&mut *db)
        .await?;
        Ok(Self::new(
            configured.clone(),
            rows.into_iter()
                .map(|(sequence, spec, effective_at, admin_id)| PlanRevision {
                    sequence,
                    spec: spec.0,
                    effective_at,
                    admin_id,
                }),
            retired.map(|(at, admin_id)| (plan.to_owned(), Retirement { at, admin_id })),
        ))
    }

    /// The AI answers per billing period a tenant on `plan` bought: the quota of the
    /// plan's spec in force at `since` (when its subscription moved onto the plan), else,
    /// when that time is unknown, of the catalogue in force; `None` is unlimited or an
    /// unknown plan.
    pub fn quota_bought(&self, plan: &str, since: Option<DateTime<Utc>>) -> Option<i64> {
        since
            .and_then(|since| self.spec_at(plan, since).cloned())
            .or_else(|| self.in_force().get(plan).cloned())
            .and_then(|p| p.monthly_ai_message_quota)
    }

    /// The plans on sale now: the configured ones overlaid by each plan's latest revision,
    /// minus the retired ones.
    pub fn in_force(&self) -> PlanCatalogue {
        self.configured.overlaid(
            self.revisions
                .values()
                .filter_map(|r| r.last())
                .map(|r| &r.spec),
            self.retired.keys().map(String::as_str),
        )
    }

    /// The spec of `plan` in force at `at`: the latest revision that took effect at or
    /// before it, else the configured spec; `None` when the plan did not exist yet. A
    /// retired plan still answers: subscriptions on it keep the terms they bought.
    pub fn spec_at(&self, plan: &str, at: DateTime<Utc>) -> Option<&PlanSpec> {
        self.revisions
            .get(plan)
            .and_then(|list| list.iter().rev().find(|r| r.effective_at <= at))
            .map(|r| &r.spec)
            .or_else(|| self.configured.get(plan))
    }

    /// Whether the plan was ever configured or published, retired or not: a subscription
    /// Stripe reports on it is recorded, since it was bought.
    pub fn is_known(&self, plan: &str) -> bool {
        self.configured.get(plan).is_some() || self.revisions.contains_key(plan)
    }

    /// Whether the configured catalogue lists `plan`.
    pub fn is_configured(&self, plan: &str) -> bool {
        self.configured.get(plan).is_some()
    }

    /// Every plan ever configured or published, by key, retired ones included.
    pub fn plans(&self) -> Vec<ManagedPlan> {
        let mut keys: Vec<&str> = self.configured.iter().map(|p| p.id.as_str()).collect();
        keys.extend(self.revisions.keys().map(String::as_str));
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter()
            .filter_map(|key| {
                let revisions = self.revisions.get(key).cloned().unwrap_or_default();
                let spec = revisions
                    .last()
                    .map(|r| r.spec.clone())
                    .or_else(|| self.configured.get(key).cloned())?;
                Some(ManagedPlan {
                    spec,
                    configured: self.is_configured(key),
                    retired: self.retired.get(key).copied(),
                    revisions,
                })
            })
            .collect()
    }

    /// One plan as [`PlanHistory::plans`] lists it.
    pub fn plan(&self, key: &str) -> Option<ManagedPlan> {
        self.plans().into_iter().find(|p| p.spec.id == key)
    }
}
