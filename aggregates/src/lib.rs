//! atende's domain: the event-sourced aggregates (`Tenant`, `Subscription`,
//! `Conversation`, `Ticket`, `PlatformContent`, `AdminAction`, `CataloguePlan`, `AiSpendThreshold`) with their
//! commands, business rules and errors.
//!
//! Aggregates are pure. Everything they need from outside — the time, fresh ids, facts
//! owned by other aggregates — comes through the service traits in their `Services`
//! structs, so every rule is testable with fakes and replays never touch the world.
//!
//! Idempotency: a command that would record a fact already recorded succeeds and writes
//! nothing, so callers (webhooks, sagas, retries) can repeat commands safely.
#![warn(missing_docs)]

pub mod admin_action;
// The usage monitor's AI spend thresholds (issue 18).
pub mod ai_spend;
pub mod clock;
pub mod conversation;
pub mod error;
pub mod ids;
// Plans managed by admins (issue 18).
pub mod plan;
pub mod platform_content;
pub mod subscription;
pub mod tenant;
pub mod ticket;

pub use admin_action::{AdminAction, AdminActionCommand, AdminActionError, AdminActionServices};
// The usage monitor's AI spend thresholds (issue 18).
pub use ai_spend::{AiSpendCommand, AiSpendError, AiSpendServices, AiSpendThreshold};
pub use clock::{Clock, FixedClock, SystemClock};
pub use conversation::{
    Conversation, ConversationCommand, ConversationError, ConversationServices,
};
pub use error::{DomainError, ErrorKind, ServiceError};
pub use ids::{IdGenerator, RandomIds, SequentialIds};
// Plans managed by admins (issue 18).
pub use plan::{CataloguePlan, PlanCommand, PlanError, PlanServices};
pub use platform_content::{
    PlatformContent, PlatformContentCommand, PlatformContentError, PlatformContentServices,
};
pub use subscription::{
    Subscription, SubscriptionCommand, SubscriptionError, SubscriptionServices,
};
pub use tenant::{Tenant, TenantCommand, TenantError, TenantServices};
pub use ticket::{Ticket, TicketCommand, TicketError, TicketServices};
