//! The link from an outbound message to the provider's id for it.

use super::*;

fn sent_as(outbound_id: Uuid, id: &str) -> ConversationCommand {
    ConversationCommand::RecordOutboundSent {
        outbound_id,
        provider_message_id: id.into(),
    }
}

fn recorded_sent(outbound_id: Uuid, id: &str) -> E {
    E::OutboundSent {
        outbound_id,
        provider_message_id: id.into(),
        at: t0(),
    }
}

/// The outbound id of [`human_replied`].
fn reply_id() -> Uuid {
    Uuid::from_u128(91)
}

#[test]
fn the_provider_id_of_an_outbound_message_is_recorded() {
    conversation()
        .given(vec![received("wamid.1"), human_replied()])
        .when(sent_as(reply_id(), "wamid.out"))
        .then_expect_events(vec![recorded_sent(reply_id(), "wamid.out")]);
}

#[test]
fn every_kind_of_outbound_message_can_be_recorded_as_sent() {
    let resumed = E::AiResumed {
        outbound_id: Uuid::from_u128(92),
        reason: schemas::events::ResumeReason::Manual,
        at: t0(),
    };
    let history = vec![received("wamid.1"), handed_off(), human_replied(), resumed];
    for outbound in [90, 91, 92] {
        let id = Uuid::from_u128(outbound);
        conversation()
            .given(history.clone())
            .when(sent_as(id, "wamid.out"))
            .then_expect_events(vec![recorded_sent(id, "wamid.out")]);
    }
}

#[test]
fn an_unknown_outbound_id_is_refused() {
    let err = error_of(
        vec![received("wamid.1"), human_replied()],
        sent_as(Uuid::from_u128(404), "wamid.out"),
    );
    assert_eq!(err, ConversationError::UnknownOutbound);
}

#[test]
fn recording_the_same_provider_id_again_records_nothing() {
    let history = vec![
        received("wamid.1"),
        human_replied(),
        recorded_sent(reply_id(), "wamid.out"),
    ];
    conversation()
        .given(history.clone())
        .when(sent_as(reply_id(), "wamid.out"))
        .then_expect_events(vec![]);
    assert_eq!(state(history).outbound(reply_id()), Some(Some("wamid.out")));
}

#[test]
fn another_provider_id_for_a_sent_message_is_refused() {
    let err = error_of(
        vec![
            received("wamid.1"),
            human_replied(),
            recorded_sent(reply_id(), "wamid.out"),
        ],
        sent_as(reply_id(), "wamid.other"),
    );
    assert_eq!(err, ConversationError::OutboundSentAsOther);
}

#[test]
fn a_blank_provider_id_is_refused() {
    let err = error_of(
        vec![received("wamid.1"), human_replied()],
        sent_as(reply_id(), "  "),
    );
    assert_eq!(err, ConversationError::ProviderMessageIdRequired);
}

#[test]
fn a_suspended_tenants_sent_messages_are_still_recorded() {
    assert!(!sent_as(reply_id(), "x").requires_active_tenant());
    conversation_with(Ok(TenantStatus::Suspended), t0())
        .given(vec![received("wamid.1"), human_replied()])
        .when(sent_as(reply_id(), "wamid.out"))
        .then_expect_events(vec![recorded_sent(reply_id(), "wamid.out")]);
}

#[test]
fn a_snapshot_taken_before_outbound_links_existed_still_loads() {
    let mut snapshot = serde_json::to_value(state(vec![received("wamid.1")])).unwrap();
    snapshot.as_object_mut().unwrap().remove("outbound_sent");
    let loaded: Conversation = serde_json::from_value(snapshot).unwrap();
    assert_eq!(loaded.outbound(reply_id()), None);
}
