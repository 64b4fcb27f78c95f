//! Given/when/then tests of the conversation rules, one per rule.

mod attendance;
mod channel;
mod delivery;
mod erasure;
mod greeting;
mod inbound;
mod sent;
mod window;

use super::*;
use crate::clock::FixedClock;
use crate::error::ServiceError;
use crate::ids::SequentialIds;
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;
use schemas::events::{ConversationEvent as E, MessageContent};
use std::sync::Arc;
use uuid::Uuid;

pub(super) const TENANT: Uuid = Uuid::from_u128(1);
pub(super) const AGENT: Uuid = Uuid::from_u128(50);

pub(super) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

/// The id the first outbound message of a command gets.
pub(super) fn first_outbound() -> Uuid {
    Uuid::from_u128(1)
}

/// A tenant directory that always answers the same.
pub(super) struct FakeGate(pub Result<TenantStatus, ServiceError>);

#[async_trait::async_trait]
impl TenantGate for FakeGate {
    async fn tenant_status(&self, _tenant: Uuid) -> Result<TenantStatus, ServiceError> {
        self.0.clone()
    }
}

pub(super) fn conversation_with(
    gate: Result<TenantStatus, ServiceError>,
    now: DateTime<Utc>,
) -> TestFramework<Conversation> {
    TestFramework::with(ConversationServices::new(
        Arc::new(FixedClock::new(now)),
        Arc::new(SequentialIds::starting_at(1)),
        Arc::new(FakeGate(gate)),
    ))
}

/// An active tenant's conversation, at `t0`.
pub(super) fn conversation() -> TestFramework<Conversation> {
    conversation_with(Ok(TenantStatus::Active), t0())
}

pub(super) fn receive_at(id: &str, sent_at: DateTime<Utc>) -> ConversationCommand {
    ConversationCommand::ReceiveMessage {
        tenant_id: TENANT,
        contact_wa_id: "5511999990000".into(),
        contact_name: Some("Ana".into()),
        provider_message_id: id.into(),
        content: MessageContent::Text("Oi, qual o horário?".into()),
        sent_at,
    }
}

pub(super) fn receive(id: &str) -> ConversationCommand {
    receive_at(id, t0())
}

/// A message sent and recorded at `at`.
pub(super) fn received_at(id: &str, at: DateTime<Utc>) -> E {
    E::MessageReceived {
        tenant_id: TENANT,
        contact_wa_id: "5511999990000".into(),
        contact_name: Some("Ana".into()),
        provider_message_id: id.into(),
        content: MessageContent::Text("Oi, qual o horário?".into()),
        sent_at: at,
        at,
    }
}

pub(super) fn received(id: &str) -> E {
    received_at(id, t0())
}

pub(super) fn handed_off() -> E {
    E::HumanRequested {
        outbound_id: Uuid::from_u128(90),
        question: "humano".into(),
        at: t0(),
    }
}

pub(super) fn human_replied() -> E {
    E::HumanReplied {
        outbound_id: Uuid::from_u128(91),
        agent_id: AGENT,
        text: "Olá, sou a Bia.".into(),
        at: t0(),
    }
}

pub(super) fn resolved() -> E {
    E::ConversationResolved { at: t0() }
}

pub(super) fn state(events: Vec<E>) -> Conversation {
    let mut c = Conversation::default();
    events.into_iter().for_each(|e| c.apply(e));
    c
}

pub(super) fn error_of(events: Vec<E>, command: ConversationCommand) -> ConversationError {
    conversation()
        .given(events)
        .when(command)
        .inspect_result()
        .unwrap_err()
}

#[test]
fn the_aggregate_type_is_the_stored_conversation_string() {
    assert_eq!(Conversation::TYPE, "conversation");
}
