//! The `ai_spend_threshold` aggregate (issue 18, the usage monitor): the monthly AI spend
//! threshold admins set, globally (id `global`) or for one tenant (its id), which
//! overrides the global one. The rules checked here: a threshold is a whole number of US
//! cents from zero to [`MAX_MONTHLY_USD_CENTS`]; setting the amount in force again, or
//! clearing what is not set, records nothing; a scope never changes tenant.

use crate::clock::Clock;
use crate::error::{DomainError, ErrorKind};
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use schemas::events::AiSpendEvent;
use schemas::AggregateKind;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use uuid::Uuid;

#[cfg(test)]
mod tests;

/// The highest threshold accepted: one million dollars a month, in cents. Anything above
/// is a typing slip, not a budget.
pub const MAX_MONTHLY_USD_CENTS: i64 = 100_000_000;

/// A request to change a threshold. Each names the admin who asks, so the log says who did
/// what, and the tenant of the scope (`None` for the global threshold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AiSpendCommand {
    /// Set the threshold to `monthly_usd_cents`.
    Set {
        /// The tenant; `None` for the global threshold.
        tenant_id: Option<Uuid>,
        /// US cents per UTC month.
        monthly_usd_cents: i64,
        /// The admin.
        admin_id: Uuid,
    },
    /// Remove the threshold.
    Clear {
        /// The tenant; `None` for the global threshold.
        tenant_id: Option<Uuid>,
        /// The admin.
        admin_id: Uuid,
    },
}

/// A refused threshold command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AiSpendError {
    /// The amount is below zero or above [`MAX_MONTHLY_USD_CENTS`].
    #[error("the threshold must be between 0 and 100000000 US cents (US$ 1,000,000) a month")]
    InvalidAmount,
    /// The command names another tenant than the scope's events.
    #[error("this threshold belongs to another scope")]
    ScopeMismatch,
}

impl DomainError for AiSpendError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidAmount => "invalid_threshold",
            Self::ScopeMismatch => "threshold_scope_mismatch",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::Unprocessable
    }
}

/// The services the aggregate uses.
#[derive(Clone)]
pub struct AiSpendServices {
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl AiSpendServices {
    /// Services from their parts.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock }
    }
}

impl fmt::Debug for AiSpendServices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AiSpendServices").finish_non_exhaustive()
    }
}

/// One scope's threshold: whose it is (once known) and the amount in force.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AiSpendThreshold {
    scope: Option<Option<Uuid>>,
    monthly_usd_cents: Option<i64>,
}

impl AiSpendThreshold {
    /// The amount in force, in US cents per month.
    pub fn monthly_usd_cents(&self) -> Option<i64> {
        self.monthly_usd_cents
    }

    fn same_scope(&self, tenant: Option<Uuid>) -> Result<(), AiSpendError> {
        match self.scope {
            Some(scope) if scope != tenant => Err(AiSpendError::ScopeMismatch),
            _ => Ok(()),
        }
    }

    fn decide(
        &self,
        command: AiSpendCommand,
        at: DateTime<Utc>,
    ) -> Result<Vec<AiSpendEvent>, AiSpendError> {
        Ok(match command {
            AiSpendCommand::Set {
                tenant_id,
                monthly_usd_cents,
                admin_id,
            } => {
                self.same_scope(tenant_id)?;
                if !(0..=MAX_MONTHLY_USD_CENTS).contains(&monthly_usd_cents) {
                    return Err(AiSpendError::InvalidAmount);
                }
                if self.monthly_usd_cents == Some(monthly_usd_cents) {
                    vec![]
                } else {
                    vec![AiSpendEvent::AiSpendThresholdSet {
                        tenant_id,
                        monthly_usd_cents,
                        admin_id,
                        at,
                    }]
                }
            }
            AiSpendCommand::Clear {
                tenant_id,
                admin_id,
            } => {
                self.same_scope(tenant_id)?;
                if self.monthly_usd_cents.is_none() {
                    vec![]
                } else {
                    vec![AiSpendEvent::AiSpendThresholdCleared {
                        tenant_id,
                        admin_id,
                        at,
                    }]
                }
            }
        })
    }
}

impl Aggregate for AiSpendThreshold {
    const TYPE: &'static str = AggregateKind::AiSpendThreshold.as_str();
    type Command = AiSpendCommand;
    type Event = AiSpendEvent;
    type Error = AiSpendError;
    type Services = AiSpendServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command, services.clock.now())? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            AiSpendEvent::AiSpendThresholdSet {
                tenant_id,
                monthly_usd_cents,
                ..
            } => {
                self.scope = Some(tenant_id);
                self.monthly_usd_cents = Some(monthly_usd_cents);
            }
            AiSpendEvent::AiSpendThresholdCleared { tenant_id, .. } => {
                self.scope = Some(tenant_id);
                self.monthly_usd_cents = None;
            }
        }
    }
}
