//! The payloads the aggregates record, and the small value types inside them.
//!
//! Every enum is serialized externally tagged (`{"VariantName": {...}}`) and its
//! `event_type` is the variant name. Those names are storage strings: they are unique
//! across all aggregates and never change. A new payload shape is a new `event_version`
//! with an upcaster, never an edit of a released variant.

pub mod admin_action;
// The usage monitor's AI spend thresholds (issue 18).
pub mod ai_spend;
pub mod conversation;
// Plans managed by admins (issue 18).
pub mod plan;
pub mod platform_content;
pub mod subscription;
pub mod tenant;
pub mod ticket;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

pub use admin_action::{ActionOutcome, ActionTarget, AdminActionEvent};
// The usage monitor's AI spend thresholds (issue 18).
pub use ai_spend::{AiSpendEvent, GLOBAL_AI_SPEND_SCOPE};
pub use conversation::{
    AiRun, ConversationEvent, ConversationStatus, DeliveryStatus, HandoffReason, MessageContent,
    ResumeReason, CUSTOMER_WINDOW,
};
pub use platform_content::{Audience, LocalizedText, PlatformContentEvent, Severity};
// Plans managed by admins (issue 18).
pub use plan::PlanEvent;
pub use subscription::{SubscriptionEvent, SubscriptionStatus};
pub use tenant::{AiLimits, BotSettings, OnboardingStep, TenantEvent, Tone};
pub use ticket::{AuthorKind, TicketEvent, TicketPriority, TicketStatus};

/// The payload version of every event type released so far.
pub const EVENT_VERSION: &str = "1";

/// A commercial plan, by its stable key (e.g. `starter`, `pro`).
///
/// A string rather than an enum because plans are catalogue data the operator adds
/// without a release; the events only need to name one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, Default)]
#[serde(transparent)]
pub struct Plan(pub String);

impl Plan {
    /// Wraps a plan key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The plan key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Plan {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every event type name of every aggregate, with the aggregate type it belongs to.
pub fn all_event_types() -> impl Iterator<Item = (crate::AggregateKind, &'static str)> {
    use crate::AggregateKind as K;
    let of = |kind: K, names: &'static [&'static str]| names.iter().map(move |n| (kind, *n));
    of(K::Tenant, TenantEvent::EVENT_TYPES)
        .chain(of(K::Subscription, SubscriptionEvent::EVENT_TYPES))
        .chain(of(K::Conversation, ConversationEvent::EVENT_TYPES))
        .chain(of(K::Ticket, TicketEvent::EVENT_TYPES))
        .chain(of(K::PlatformContent, PlatformContentEvent::EVENT_TYPES))
        .chain(of(K::AdminAction, AdminActionEvent::EVENT_TYPES))
        // Plans managed by admins (issue 18).
        .chain(of(K::Plan, PlanEvent::EVENT_TYPES))
        // The usage monitor's AI spend thresholds (issue 18).
        .chain(of(K::AiSpendThreshold, AiSpendEvent::EVENT_TYPES))
}

/// Implements the naming side of the four event enums and the [`EventType`] of all of them
/// from one list, so the stored type name, the serde tag, `EVENT_TYPES` and `EventType`
/// cannot drift apart: the matches are exhaustive, so a variant missing from the list does
/// not compile.
macro_rules! event_types {
    ($($kind:ident => $enum:ident { $($variant:ident),+ $(,)? }),+ $(,)?) => {
        /// The stable type name of a stored event, as a value: the typed form of the
        /// `event_type` column. Names are unique across aggregates, so each one also names
        /// its aggregate.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $($(
                #[doc = concat!("`", stringify!($variant), "`, an event of [`", stringify!($enum), "`].")]
                $variant,
            )+)+
        }

        impl EventType {
            /// Every event type of every aggregate.
            pub const ALL: &'static [EventType] = &[$($(Self::$variant,)+)+];

            /// The stored name (the `event_type` column and the payload's tag).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($(Self::$variant => stringify!($variant),)+)+
                }
            }

            /// The type a stored name stands for; `None` for a name this build does not know.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($(stringify!($variant) => Some(Self::$variant),)+)+
                    _ => None,
                }
            }

            /// The aggregate whose events have this type.
            pub const fn aggregate(self) -> $crate::AggregateKind {
                match self {
                    $($(Self::$variant => $crate::AggregateKind::$kind,)+)+
                }
            }
        }

        impl fmt::Display for EventType {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $(
            impl $enum {
                /// Every stable event type name of this enum (its variant names).
                pub const EVENT_TYPES: &'static [&'static str] = &[$(stringify!($variant)),+];

                /// The stable type name of this event: its variant name.
                pub fn type_name(&self) -> &'static str {
                    self.kind().as_str()
                }

                /// The type of this event.
                pub fn kind(&self) -> EventType {
                    match self {
                        $(Self::$variant { .. } => EventType::$variant),+
                    }
                }

                /// When the fact happened, by the clock of the command that recorded it.
                pub fn at(&self) -> chrono::DateTime<chrono::Utc> {
                    match self {
                        $(Self::$variant { at, .. } => *at),+
                    }
                }
            }

            impl cqrs_es::DomainEvent for $enum {
                fn event_type(&self) -> String {
                    self.type_name().to_owned()
                }

                fn event_version(&self) -> String {
                    $crate::events::EVENT_VERSION.to_owned()
                }
            }
        )+
    };
}

// The order within each aggregate is the order of its `EVENT_TYPES`.
event_types! {
    Tenant => TenantEvent {
        TenantRegistered,
        WhatsAppNumberLinked,
        BotSettingsChanged,
        KnowledgeReplaced,
        TenantSuspended,
        TenantReactivated,
        LocaleChanged,
        OnboardingStepCompleted,
        TenantRenamed,
        // Per-tenant AI limits (issue 18).
        AiLimitsChanged,
    },
    Subscription => SubscriptionEvent {
        SubscriptionStarted,
        PaymentSucceeded,
        PaymentFailed,
        GracePeriodExpired,
        SubscriptionCancelled,
        PlanChanged,
        ComplimentarySubscriptionStarted,
        CheckoutCompleted,
        PaymentHeld,
        CancelAtPeriodEndChanged,
        // Refunds (issue 18).
        PaymentRefunded,
    },
    Conversation => ConversationEvent {
        MessageReceived,
        AiReplied,
        ConfidenceLow,
        HumanRequested,
        HumanReplied,
        AgentAssigned,
        AiResumed,
        OutboundSent,
        OutboundDelivered,
        OutboundFailed,
        ConversationResolved,
        SubjectErased,
        OutboundRefused,
        HumanRepliedFromPhone,
        GreetingSent,
    },
    Ticket => TicketEvent {
        TicketOpened,
        TicketAiAnswered,
        TicketAwaitingAdmin,
        TicketMessageAdded,
        TicketAssigned,
        TicketStatusChanged,
        TicketAiAnswerGiven,
        TicketHumanRequested,
        TicketInternalNoteAdded,
        TicketAttachmentAdded,
    },
    PlatformContent => PlatformContentEvent {
        TutorialWritten,
        TutorialRevised,
        AnnouncementWritten,
        AnnouncementRevised,
        ContentPublished,
        ContentUnpublished,
    },
    AdminAction => AdminActionEvent {
        AdminActionRecorded,
    },
    // Plans managed by admins (issue 18).
    Plan => PlanEvent {
        PlanSet,
        PlanRetired,
    },
    // The usage monitor's AI spend thresholds (issue 18).
    AiSpendThreshold => AiSpendEvent {
        AiSpendThresholdSet,
        AiSpendThresholdCleared,
    },
}

#[cfg(test)]
pub(crate) mod test_support {
    use chrono::{DateTime, TimeZone, Utc};

    /// A fixed instant so serialized shapes are byte-for-byte stable.
    pub fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5)
            .single()
            .expect("valid")
    }

    /// The external serde tag of a serialized event.
    pub fn tag<E: serde::Serialize>(event: &E) -> String {
        let value = serde_json::to_value(event).expect("serializes");
        let map = value.as_object().expect("externally tagged");
        assert_eq!(map.len(), 1, "externally tagged events have one key");
        map.keys().next().expect("one key").clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn event_type_names_are_unique_across_all_aggregates() {
        let mut seen = HashSet::new();
        for (kind, name) in all_event_types() {
            assert!(seen.insert(name), "{name} ({kind:?}) is not unique");
        }
    }

    #[test]
    fn a_plan_serializes_as_its_bare_key() {
        assert_eq!(
            serde_json::to_string(&Plan::from("pro")).expect("serializes"),
            "\"pro\""
        );
    }
}
