//! Contracts shared by atende's write side and read side.
//!
//! Everything here is a storage or wire format: event type names, versions and field
//! names never change once released. New shapes come as new versions with upcasters.

pub mod billing;
pub mod events;
pub mod ids;
pub mod json_schema;
pub mod locale;
pub mod metadata;
pub mod personal;
pub mod plans;
pub mod stored;

pub use billing::BillingPeriod;
pub use events::{
    AdminActionEvent, AiSpendEvent, ConversationEvent, EventType, Plan, PlanEvent,
    PlatformContentEvent, SubscriptionEvent, TenantEvent, TicketEvent, EVENT_VERSION,
};
pub use ids::{conversation_id, AgentId, TenantId};
pub use locale::Locale;
pub use metadata::{Actor, ActorKind, CommandMetadata};
pub use personal::Personal;
pub use stored::{AggregateKind, AnyEvent, DecodeError, FieldError, StoredEvent};
