//! The tenant's state and its rules.

use super::{ClaimOutcome, TenantCommand, TenantError, TenantServices};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use schemas::events::{AiLimits, BotSettings, OnboardingStep, TenantEvent};
use schemas::{AggregateKind, Locale, Plan};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The longest knowledge text a tenant may have, in Unicode scalar values (F10).
pub const MAX_KNOWLEDGE_CHARS: usize = 50_000;
/// The most hand-off keywords a tenant may set: a list, not a vocabulary.
pub const MAX_HANDOFF_KEYWORDS: usize = 30;
/// The longest hand-off keyword, in characters: a word or a short phrase.
pub const MAX_HANDOFF_KEYWORD_CHARS: usize = 60;

// Per-tenant AI limits (issue 18): far above any real business, low enough that a typo of
// a few extra digits is refused instead of silently lifting a limit.
/// The highest requests-per-hour limit an admin may set.
pub const MAX_REQUESTS_PER_HOUR: i64 = 1_000_000;
/// The highest tokens-per-day limit an admin may set.
pub const MAX_TOKENS_PER_DAY: i64 = 10_000_000_000;
/// The highest monthly cost limit an admin may set, in US dollars.
pub const MAX_COST_PER_MONTH_USD: f64 = 1_000_000.0;

/// A business using atende.
///
/// The state keeps no personal data (the owner's e-mail lives only in the events), so
/// snapshots need no crypto-shredding.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Tenant {
    tenant_id: Option<Uuid>,
    name: String,
    plan: Plan,
    phone_number_id: Option<String>,
    settings: BotSettings,
    knowledge_version: u32,
    // Kept whole so that saving an unchanged text is recognized and does not re-index.
    knowledge: String,
    suspended: bool,
    // Snapshots taken before tenants had a language lack the field.
    #[serde(default)]
    locale: Locale,
    // Snapshots taken before onboarding steps were recorded lack the field.
    #[serde(default)]
    onboarding: std::collections::BTreeSet<OnboardingStep>,
    // Snapshots taken before tenants had limits of their own lack the field.
    #[serde(default)]
    ai_limits: AiLimits,
}

impl Tenant {
    /// The tenant's id, once registered.
    pub fn tenant_id(&self) -> Option<Uuid> {
        self.tenant_id
    }

    /// Whether the tenant has been registered.
    pub fn is_registered(&self) -> bool {
        self.tenant_id.is_some()
    }

    /// The business's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The plan it registered with.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The linked WhatsApp number's id.
    pub fn phone_number_id(&self) -> Option<&str> {
        self.phone_number_id.as_deref()
    }

    /// The bot settings in force ([`BotSettings::default`] until changed).
    pub fn settings(&self) -> &BotSettings {
        &self.settings
    }

    /// The version of the knowledge text; 0 before the first one.
    pub fn knowledge_version(&self) -> u32 {
        self.knowledge_version
    }

    /// Whether the owner completed `step` of the first-run onboarding.
    pub fn completed(&self, step: OnboardingStep) -> bool {
        self.onboarding.contains(&step)
    }

    /// The current knowledge text.
    pub fn knowledge(&self) -> &str {
        &self.knowledge
    }

    /// Whether the tenant is suspended.
    pub fn is_suspended(&self) -> bool {
        self.suspended
    }

    /// The language the product writes to the tenant in.
    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// The tenant's own AI limits (each unset one is the platform's default).
    pub fn ai_limits(&self) -> AiLimits {
        self.ai_limits
    }

    fn registered(&self) -> Result<Uuid, TenantError> {
        self.tenant_id.ok_or(TenantError::NotFound)
    }

    async fn decide(
        &self,
        command: TenantCommand,
        services: &TenantServices,
    ) -> Result<Option<TenantEvent>, TenantError> {
        let at = services.clock.now();
        match command {
            TenantCommand::RegisterTenant {
                tenant_id,
                name,
                owner_email,
                plan,
            } => {
                if self.is_registered() {
                    return Err(TenantError::AlreadyRegistered);
                }
                let name = name.trim().to_owned();
                if name.is_empty() {
                    return Err(TenantError::NameRequired);
                }
                if !looks_like_an_email(owner_email.expose()) {
                    return Err(TenantError::InvalidEmail);
                }
                if plan.as_str().trim().is_empty() {
                    return Err(TenantError::PlanRequired);
                }
                Ok(Some(TenantEvent::TenantRegistered {
                    tenant_id,
                    name,
                    owner_email,
                    plan,
                    at,
                }))
            }
            TenantCommand::LinkWhatsAppNumber {
                phone_number_id,
                display_phone_number,
            } => {
                let tenant_id = self.registered()?;
                let phone_number_id = phone_number_id.trim().to_owned();
                if phone_number_id.is_empty() {
                    return Err(TenantError::PhoneNumberIdRequired);
                }
                if self.phone_number_id.as_deref() == Some(phone_number_id.as_str()) {
                    return Ok(None);
                }
                let outcome = services
                    .phone_numbers
                    .claim(&phone_number_id, tenant_id)
                    .await
                    .map_err(TenantError::Unavailable)?;
                if outcome == ClaimOutcome::TakenByOther {
                    return Err(TenantError::PhoneNumberTaken);
                }
                Ok(Some(TenantEvent::WhatsAppNumberLinked {
                    phone_number_id,
                    display_phone_number,
                    previous_phone_number_id: self.phone_number_id.clone(),
                    at,
                }))
            }
            TenantCommand::ChangeBotSettings {
                greeting,
                fallback_message,
                waiting_message,
                return_message,
                tone,
                confidence_threshold,
                handoff_keywords,
            } => {
                self.registered()?;
                let handoff_keywords = handoff_keywords_of(handoff_keywords)?;
                // `contains` is false for NaN, which must be refused too.
                if !(0.0..=1.0).contains(&confidence_threshold) {
                    return Err(TenantError::InvalidConfidenceThreshold);
                }
                let settings = BotSettings {
                    greeting,
                    fallback_message,
                    waiting_message,
                    return_message,
                    tone,
                    confidence_threshold,
                    handoff_keywords,
                };
                Ok((settings != self.settings)
                    .then_some(TenantEvent::BotSettingsChanged { settings, at }))
            }
            TenantCommand::ReplaceKnowledge { text } => {
                self.registered()?;
                let chars = text.chars().count();
                if chars > MAX_KNOWLEDGE_CHARS {
                    return Err(TenantError::KnowledgeTooLong {
                        chars,
                        max: MAX_KNOWLEDGE_CHARS,
                    });
                }
                if self.knowledge_version > 0 && text == self.knowledge {
                    return Ok(None);
                }
                Ok(Some(TenantEvent::KnowledgeReplaced {
                    version: self.knowledge_version + 1,
                    text,
                    // Never saturates: bounded by MAX_KNOWLEDGE_CHARS just above.
                    char_count: u32::try_from(chars).unwrap_or(u32::MAX),
                    at,
                }))
            }
            TenantCommand::Suspend { reason } => {
                self.registered()?;
                Ok((!self.suspended).then_some(TenantEvent::TenantSuspended { reason, at }))
            }
            TenantCommand::Reactivate => {
                self.registered()?;
                Ok(self
                    .suspended
                    .then_some(TenantEvent::TenantReactivated { at }))
            }
            TenantCommand::ChangeLocale { locale } => {
                self.registered()?;
                Ok((locale != self.locale).then_some(TenantEvent::LocaleChanged { locale, at }))
            }
            TenantCommand::Rename { name } => {
                self.registered()?;
                let name = name.trim().to_owned();
                if name.is_empty() {
                    return Err(TenantError::NameRequired);
                }
                Ok((name != self.name).then_some(TenantEvent::TenantRenamed { name, at }))
            }
            TenantCommand::SetAiLimits {
                requests_per_hour,
                tokens_per_day,
                cost_per_month_usd,
            } => {
                self.registered()?;
                let limits = AiLimits {
                    requests_per_hour: count_limit(
                        "requests_per_hour",
                        requests_per_hour,
                        MAX_REQUESTS_PER_HOUR,
                    )?,
                    tokens_per_day: count_limit(
                        "tokens_per_day",
                        tokens_per_day,
                        MAX_TOKENS_PER_DAY,
                    )?,
                    cost_per_month_usd: match cost_per_month_usd {
                        // `contains` is false for NaN, which must be refused too.
                        Some(c) if !(0.0..=MAX_COST_PER_MONTH_USD).contains(&c) => {
                            return Err(TenantError::InvalidAiLimit {
                                limit: "cost_per_month_usd",
                                max: MAX_COST_PER_MONTH_USD.to_string(),
                            })
                        }
                        other => other,
                    },
                };
                Ok((limits != self.ai_limits)
                    .then_some(TenantEvent::AiLimitsChanged { limits, at }))
            }
            TenantCommand::CompleteOnboardingStep { step } => {
                self.registered()?;
                Ok((!self.completed(step))
                    .then_some(TenantEvent::OnboardingStepCompleted { step, at }))
            }
        }
    }
}

/// A deliberately loose check: one `@` with something before it, a dotted domain after
/// it, no spaces. Whether the mailbox exists is only known by writing to it.
fn looks_like_an_email(address: &str) -> bool {
    let address = address.trim();
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    address.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && !address.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

impl Aggregate for Tenant {
    const TYPE: &'static str = AggregateKind::Tenant.as_str();
    type Command = TenantCommand;
    type Event = TenantEvent;
    type Error = TenantError;
    type Services = TenantServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        if let Some(event) = self.decide(command, services).await? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            TenantEvent::TenantRegistered {
                tenant_id,
                name,
                plan,
                ..
            } => {
                self.tenant_id = Some(tenant_id);
                self.name = name;
                self.plan = plan;
            }
            TenantEvent::WhatsAppNumberLinked {
                phone_number_id, ..
            } => self.phone_number_id = Some(phone_number_id),
            TenantEvent::BotSettingsChanged { settings, .. } => self.settings = settings,
            TenantEvent::KnowledgeReplaced { version, text, .. } => {
                self.knowledge_version = version;
                self.knowledge = text;
            }
            TenantEvent::TenantSuspended { .. } => self.suspended = true,
            TenantEvent::TenantReactivated { .. } => self.suspended = false,
            TenantEvent::LocaleChanged { locale, .. } => self.locale = locale,
            TenantEvent::TenantRenamed { name, .. } => self.name = name,
            TenantEvent::OnboardingStepCompleted { step, .. } => {
                self.onboarding.insert(step);
            }
            TenantEvent::AiLimitsChanged { limits, .. } => self.ai_limits = limits,
        }
    }
}

/// A count limit as kept: within 0..=`max` (0 is unlimited), `None` left to the default.
fn count_limit(
    limit: &'static str,
    value: Option<i64>,
    max: i64,
) -> Result<Option<u64>, TenantError> {
    value
        .map(|v| {
            u64::try_from(v)
                .ok()
                .filter(|_| v <= max)
                .ok_or(TenantError::InvalidAiLimit {
                    limit,
                    max: max.to_string(),
                })
        })
        .transpose()
}

/// The keywords as kept: trimmed, blank ones dropped, each once (case aside, first spelling
/// kept), within the limits.
fn handoff_keywords_of(keywords: Vec<String>) -> Result<Vec<String>, TenantError> {
    let mut kept: Vec<String> = Vec::new();
    for keyword in keywords {
        let keyword = keyword.trim();
        if keyword.is_empty()
            || kept
                .iter()
                .any(|k| k.to_lowercase() == keyword.to_lowercase())
        {
            continue;
        }
        if keyword.chars().count() > MAX_HANDOFF_KEYWORD_CHARS {
            return Err(TenantError::InvalidHandoffKeywords);
        }
        kept.push(keyword.to_owned());
    }
    if kept.len() > MAX_HANDOFF_KEYWORDS {
        return Err(TenantError::InvalidHandoffKeywords);
    }
    Ok(kept)
}
