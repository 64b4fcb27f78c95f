//! What can be asked of a tenant.

use schemas::events::Tone;
use schemas::{Locale, Personal, Plan};
use uuid::Uuid;

/// A request to change a tenant.
#[derive(Debug, Clone, PartialEq)]
pub enum TenantCommand {
    /// Create the tenant (after its first payment, F22).
    RegisterTenant {
        /// The new tenant's id; the caller uses it as the aggregate id too.
        tenant_id: Uuid,
        /// The business's name; not blank.
        name: String,
        /// The owner's e-mail address.
        owner_email: Personal<String>,
        /// The plan bought; not blank.
        plan: Plan,
    },
    /// Link the tenant's WhatsApp Cloud API number; a number belongs to one tenant only.
    LinkWhatsAppNumber {
        /// Meta's id of the number; not blank.
        phone_number_id: String,
        /// The number as shown to people.
        display_phone_number: Personal<String>,
    },
    /// Replace the bot settings as a whole (F17).
    ChangeBotSettings {
        /// Sent at the start of a conversation.
        greeting: String,
        /// Sent when a low-confidence question goes to a human.
        fallback_message: String,
        /// Sent when the customer asks for a human.
        waiting_message: String,
        /// Sent when the AI resumes after 24 h.
        return_message: String,
        /// The AI's register.
        tone: Tone,
        /// Hand-off threshold, within 0..=1.
        confidence_threshold: f64,
        /// Words with which customers ask for a person (blank ones are dropped); at most
        /// [`super::MAX_HANDOFF_KEYWORDS`] of at most [`super::MAX_HANDOFF_KEYWORD_CHARS`]
        /// characters; empty keeps the platform's list.
        handoff_keywords: Vec<String>,
    },
    /// Replace the knowledge text (F10); at most [`super::MAX_KNOWLEDGE_CHARS`] characters.
    ReplaceKnowledge {
        /// The complete new text.
        text: String,
    },
    /// Suspend the tenant (unpaid, abuse, operator decision).
    Suspend {
        /// Why.
        reason: String,
    },
    /// Lift a suspension.
    Reactivate,
    /// Choose the language the product writes to the tenant in; choosing the current one
    /// changes nothing.
    ChangeLocale {
        /// The language from now on.
        locale: Locale,
    },
    /// Rename the business (an admin's correction); the current name changes nothing.
    Rename {
        /// The new name; not blank.
        name: String,
    },
    // Per-tenant AI limits (issue 18).
    /// Set the tenant's own AI usage limits as a whole (an admin's decision): `None` puts a
    /// limit back on the platform's default, `Some(0)` makes it unlimited. Each from 0 to its
    /// maximum ([`super::MAX_REQUESTS_PER_HOUR`], [`super::MAX_TOKENS_PER_DAY`],
    /// [`super::MAX_COST_PER_MONTH_USD`]); the limits in force change nothing.
    SetAiLimits {
        /// Model requests per UTC hour.
        requests_per_hour: Option<i64>,
        /// Tokens per UTC day.
        tokens_per_day: Option<i64>,
        /// Estimated model cost per UTC month, in US dollars.
        cost_per_month_usd: Option<f64>,
    },
    /// Record a step of the first-run onboarding; a step already recorded changes nothing.
    CompleteOnboardingStep {
        /// The step.
        step: schemas::events::OnboardingStep,
    },
}
