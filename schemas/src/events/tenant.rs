//! Events of the `tenant` aggregate: registration, WhatsApp number, bot settings (F17),
//! knowledge (F10), suspension, language.

use super::Plan;
use crate::{Locale, Personal};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The register the bot writes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    /// Polite and neutral.
    #[default]
    Formal,
    /// Friendly and relaxed.
    Casual,
    /// Precise, for technical audiences.
    Technical,
}

/// How a tenant's bot talks and when it hands a conversation to a human (F17).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BotSettings {
    /// Sent at the start of a conversation.
    pub greeting: String,
    /// Sent when the AI's confidence is below the threshold and a human takes over.
    pub fallback_message: String,
    /// Sent when the customer asks for a human and waits for one.
    pub waiting_message: String,
    /// Sent when the AI resumes after 24 h without human activity.
    pub return_message: String,
    /// The register of the AI's answers.
    pub tone: Tone,
    /// Answers with a confidence below this (0..=1) are handed to a human.
    pub confidence_threshold: f64,
    /// Words or phrases with which a customer asks for a person; empty: the platform's
    /// list. Absent from events recorded before tenants could set it, and from those that
    /// leave it empty, so their stored shape is unchanged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handoff_keywords: Vec<String>,
}

impl BotSettings {
    /// The threshold a tenant has before changing it (F12).
    pub const DEFAULT_CONFIDENCE_THRESHOLD: f64 = 0.5;
}

impl Default for BotSettings {
    /// The settings of a tenant that never changed them; the product speaks Portuguese.
    fn default() -> Self {
        Self {
            greeting: "Olá! Como posso ajudar?".to_owned(),
            fallback_message:
                "Não encontrei essa informação. Vou chamar um atendente para ajudar você."
                    .to_owned(),
            waiting_message: "Um atendente vai responder em breve.".to_owned(),
            return_message: "Nosso atendimento automático está de volta. Como posso ajudar?"
                .to_owned(),
            tone: Tone::Formal,
            confidence_threshold: Self::DEFAULT_CONFIDENCE_THRESHOLD,
            handoff_keywords: Vec::new(),
        }
    }
}

/// A step of the console's first-run onboarding that no other fact records (#15); the
/// others (a WhatsApp channel, knowledge) are read from the state itself.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OnboardingStep {
    /// The owner tried the bot with a question of their own.
    BotTried,
    /// The owner declared the bot ready to answer customers ("go live").
    WentLive,
}

/// A tenant's own AI usage limits (F15, #18), each replacing for this tenant the platform's
/// default (`ATENDE_AI_REQUESTS_PER_HOUR`, `ATENDE_AI_TOKENS_PER_DAY`,
/// `ATENDE_AI_COST_PER_MONTH_USD`): `None` keeps the default, `Some(0)` is unlimited, as `0`
/// is for the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct AiLimits {
    /// Model requests per UTC hour.
    pub requests_per_hour: Option<u64>,
    /// Prompt plus completion tokens per UTC day.
    pub tokens_per_day: Option<u64>,
    /// Estimated model cost per UTC month, in US dollars.
    pub cost_per_month_usd: Option<f64>,
}

impl AiLimits {
    /// The platform's defaults when the environment sets none (every limit set).
    pub const PLATFORM_DEFAULTS: Self = Self {
        requests_per_hour: Some(600),
        tokens_per_day: Some(2_000_000),
        cost_per_month_usd: Some(100.0),
    };

    /// The limits in force: each of these that is set, else `defaults`'.
    pub fn over(self, defaults: Self) -> Self {
        Self {
            requests_per_hour: self.requests_per_hour.or(defaults.requests_per_hour),
            tokens_per_day: self.tokens_per_day.or(defaults.tokens_per_day),
            cost_per_month_usd: self.cost_per_month_usd.or(defaults.cost_per_month_usd),
        }
    }
}

/// What happened to a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum TenantEvent {
    /// A business became a tenant.
    TenantRegistered {
        /// The tenant's id (also the aggregate id).
        tenant_id: Uuid,
        /// The business's name.
        name: String,
        /// The owner's e-mail address.
        owner_email: Personal<String>,
        /// The plan it signed up for.
        plan: Plan,
        /// When.
        at: DateTime<Utc>,
    },
    /// The tenant's WhatsApp Cloud API number was linked (or replaced another).
    WhatsAppNumberLinked {
        /// Meta's id of the number; webhooks are routed by it.
        phone_number_id: String,
        /// The number as shown to people.
        display_phone_number: Personal<String>,
        /// The number this one replaced, whose claim can be released.
        previous_phone_number_id: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The bot settings were changed; carries the complete new settings.
    BotSettingsChanged {
        /// The settings in force from now on.
        settings: BotSettings,
        /// When.
        at: DateTime<Utc>,
    },
    /// The knowledge text was replaced as a whole.
    KnowledgeReplaced {
        /// 1 for the first text, then incremented; indexes are rebuilt per version.
        version: u32,
        /// The complete text (business content, not personal data).
        text: String,
        /// Its length in Unicode scalar values.
        char_count: u32,
        /// When.
        at: DateTime<Utc>,
    },
    /// The tenant was suspended; its bot stops answering.
    TenantSuspended {
        /// Why (e.g. `payment_overdue`, an operator's note).
        reason: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A suspended tenant became active again.
    TenantReactivated {
        /// When.
        at: DateTime<Utc>,
    },
    /// The language the product writes to the tenant in changed (e-mails); a tenant
    /// without this event speaks the default, Brazilian Portuguese.
    LocaleChanged {
        /// The language from now on.
        locale: Locale,
        /// When.
        at: DateTime<Utc>,
    },
    /// The owner completed a step of the first-run onboarding; each step is recorded once.
    OnboardingStepCompleted {
        /// Which step.
        step: OnboardingStep,
        /// When.
        at: DateTime<Utc>,
    },
    /// An admin renamed the business (#18).
    TenantRenamed {
        /// The name from now on; not blank.
        name: String,
        /// When.
        at: DateTime<Utc>,
    },
    // Per-tenant AI limits (issue 18).
    /// An admin set the tenant's own AI usage limits; carries the whole set, so a limit
    /// left `null` is back on the platform's default from now on.
    AiLimitsChanged {
        /// The tenant's own limits from now on.
        limits: AiLimits,
        /// When.
        at: DateTime<Utc>,
    },
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::events::test_support::{at, tag};
    use serde_json::json;

    pub(crate) fn samples() -> Vec<TenantEvent> {
        vec![
            TenantEvent::TenantRegistered {
                tenant_id: Uuid::from_u128(1),
                name: "Padaria".into(),
                owner_email: "dona@padaria.com".into(),
                plan: "pro".into(),
                at: at(),
            },
            TenantEvent::WhatsAppNumberLinked {
                phone_number_id: "1234".into(),
                display_phone_number: "+55 11 4000-0000".into(),
                previous_phone_number_id: None,
                at: at(),
            },
            TenantEvent::BotSettingsChanged {
                settings: BotSettings::default(),
                at: at(),
            },
            TenantEvent::KnowledgeReplaced {
                version: 1,
                text: "Abrimos às 8h.".into(),
                char_count: 14,
                at: at(),
            },
            TenantEvent::TenantSuspended {
                reason: "payment_overdue".into(),
                at: at(),
            },
            TenantEvent::TenantReactivated { at: at() },
            TenantEvent::LocaleChanged {
                locale: Locale::En,
                at: at(),
            },
            TenantEvent::OnboardingStepCompleted {
                step: OnboardingStep::WentLive,
                at: at(),
            },
            TenantEvent::TenantRenamed {
                name: "Padaria Nova".into(),
                at: at(),
            },
            TenantEvent::AiLimitsChanged {
                limits: AiLimits {
                    requests_per_hour: Some(10),
                    tokens_per_day: None,
                    cost_per_month_usd: Some(0.0),
                },
                at: at(),
            },
        ]
    }

    #[test]
    fn every_variant_is_listed_and_tagged_by_its_type_name() {
        let samples = samples();
        let names: Vec<_> = samples.iter().map(TenantEvent::type_name).collect();
        assert_eq!(names, TenantEvent::EVENT_TYPES);
        for e in &samples {
            assert_eq!(tag(e), e.type_name());
            let back: TenantEvent =
                serde_json::from_value(serde_json::to_value(e).expect("ser")).expect("de");
            assert_eq!(&back, e);
        }
    }

    #[test]
    fn stored_shape_of_tenant_registered_never_changes() {
        let e = &samples()[0];
        assert_eq!(
            serde_json::to_value(e).expect("serializes"),
            json!({"TenantRegistered": {
                "tenant_id": "00000000-0000-0000-0000-000000000001",
                "name": "Padaria",
                "owner_email": "dona@padaria.com",
                "plan": "pro",
                "at": "2025-01-02T03:04:05Z"
            }})
        );
    }

    #[test]
    fn stored_shape_of_bot_settings_changed_never_changes() {
        let e = TenantEvent::BotSettingsChanged {
            settings: BotSettings {
                greeting: "g".into(),
                fallback_message: "f".into(),
                waiting_message: "w".into(),
                return_message: "r".into(),
                tone: Tone::Technical,
                confidence_threshold: 0.75,
                handoff_keywords: Vec::new(),
            },
            at: at(),
        };
        assert_eq!(
            serde_json::to_value(&e).expect("serializes"),
            json!({"BotSettingsChanged": {
                "settings": {
                    "greeting": "g", "fallback_message": "f", "waiting_message": "w",
                    "return_message": "r", "tone": "technical", "confidence_threshold": 0.75
                },
                "at": "2025-01-02T03:04:05Z"
            }})
        );
    }

    #[test]
    fn stored_shape_of_ai_limits_changed_never_changes() {
        let e = samples().pop().expect("a sample");
        assert_eq!(
            serde_json::to_value(&e).expect("serializes"),
            json!({"AiLimitsChanged": {
                "limits": {"requests_per_hour": 10, "tokens_per_day": null, "cost_per_month_usd": 0.0},
                "at": "2025-01-02T03:04:05Z"
            }})
        );
    }

    #[test]
    fn a_tenant_limit_replaces_the_default_and_an_unset_one_keeps_it() {
        let own = AiLimits {
            requests_per_hour: Some(0),
            tokens_per_day: None,
            cost_per_month_usd: Some(5.0),
        };
        assert_eq!(
            own.over(AiLimits::PLATFORM_DEFAULTS),
            AiLimits {
                requests_per_hour: Some(0),
                tokens_per_day: Some(2_000_000),
                cost_per_month_usd: Some(5.0),
            }
        );
    }

    #[test]
    fn stored_shape_of_locale_changed_never_changes() {
        let e = TenantEvent::LocaleChanged {
            locale: Locale::En,
            at: at(),
        };
        assert_eq!(
            serde_json::to_value(&e).expect("serializes"),
            json!({"LocaleChanged": {"locale": "en", "at": "2025-01-02T03:04:05Z"}})
        );
    }
}
