//! The state of a plan and its rules.

use super::{PlanCommand, PlanError, PlanServices};
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use schemas::events::PlanEvent;
use schemas::plans::{PlanCatalogue, PlanSpec};
use schemas::AggregateKind;
use serde::{Deserialize, Serialize};

/// A plan admins manage. The state keeps its latest admin-set spec and whether it was
/// retired.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CataloguePlan {
    spec: Option<PlanSpec>,
    retired: bool,
}

/// `spec` cleaned (trimmed, currency lower case, features trimmed without repeats) and
/// checked.
fn checked(mut spec: PlanSpec) -> Result<PlanSpec, PlanError> {
    spec.id = spec.id.trim().to_owned();
    spec.name = spec.name.trim().to_owned();
    spec.currency = spec.currency.trim().to_ascii_lowercase();
    if !PlanCatalogue::is_plan_key(&spec.id) {
        return Err(PlanError::InvalidKey);
    }
    if spec.name.is_empty() || spec.name.chars().count() > 80 {
        return Err(PlanError::InvalidName);
    }
    if spec.monthly_price_cents < 0 {
        return Err(PlanError::NegativePrice);
    }
    if spec.currency.len() != 3 || !spec.currency.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(PlanError::InvalidCurrency);
    }
    if spec.monthly_ai_message_quota.is_some_and(|q| q < 0) {
        return Err(PlanError::NegativeQuota);
    }
    let mut features: Vec<String> = Vec::with_capacity(spec.features.len());
    for f in &spec.features {
        let f = f.trim();
        if f.is_empty() || f.chars().count() > 60 {
            return Err(PlanError::InvalidFeature);
        }
        if !features.iter().any(|seen| seen == f) {
            features.push(f.to_owned());
        }
    }
    spec.features = features;
    spec.stripe_price_id = match spec.stripe_price_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) if p.len() > 255 || p.chars().any(char::is_whitespace) => {
            return Err(PlanError::InvalidStripePrice)
        }
        Some(p) => Some(p.to_owned()),
    };
    Ok(spec)
}

impl CataloguePlan {
    /// The latest spec an admin set, if any (a configured plan nobody edited has none).
    pub fn spec(&self) -> Option<&PlanSpec> {
        self.spec.as_ref()
    }

    /// Whether it was retired.
    pub fn is_retired(&self) -> bool {
        self.retired
    }

    fn same_plan(&self, key: &str) -> Result<(), PlanError> {
        match &self.spec {
            Some(s) if s.id != key => Err(PlanError::KeyMismatch {
                plan: s.id.clone(),
                spec: key.to_owned(),
            }),
            _ => Ok(()),
        }
    }

    fn decide(&self, command: PlanCommand, at: DateTime<Utc>) -> Result<Vec<PlanEvent>, PlanError> {
        use PlanCommand as C;
        use PlanEvent as E;
        Ok(match command {
            C::Create {
                spec,
                configured,
                admin_id,
            } => {
                if self.retired {
                    return Err(PlanError::Retired);
                }
                if configured || self.spec.is_some() {
                    return Err(PlanError::AlreadyExists);
                }
                vec![E::PlanSet {
                    spec: checked(spec)?,
                    admin_id,
                    at,
                }]
            }
            C::Edit {
                spec,
                configured,
                admin_id,
            } => {
                if self.retired {
                    return Err(PlanError::Retired);
                }
                if !configured && self.spec.is_none() {
                    return Err(PlanError::NotFound);
                }
                let spec = checked(spec)?;
                self.same_plan(&spec.id)?;
                if self.spec.as_ref() == Some(&spec) {
                    vec![]
                } else {
                    vec![E::PlanSet { spec, admin_id, at }]
                }
            }
            C::Retire {
                plan_id,
                configured,
                admin_id,
            } => {
                if !configured && self.spec.is_none() {
                    return Err(PlanError::NotFound);
                }
                self.same_plan(&plan_id)?;
                if self.retired {
                    vec![]
                } else {
                    vec![E::PlanRetired {
                        plan_id,
                        admin_id,
                        at,
                    }]
                }
            }
        })
    }
}

impl Aggregate for CataloguePlan {
    const TYPE: &'static str = AggregateKind::Plan.as_str();
    type Command = PlanCommand;
    type Event = PlanEvent;
    type Error = PlanError;
    type Services = PlanServices;

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
            PlanEvent::PlanSet { spec, .. } => self.spec = Some(spec),
            PlanEvent::PlanRetired { .. } => self.retired = true,
        }
    }
}
