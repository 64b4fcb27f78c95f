//! What the WhatsApp channel records besides messages: sends given up, and replies typed on
//! the tenant's own phone.

use super::*;
use schemas::events::ConversationStatus;
use schemas::Personal;

fn refused(outbound_id: Uuid) -> ConversationCommand {
    ConversationCommand::RecordSendRefused {
        outbound_id,
        error: "invalid token".into(),
    }
}

fn phone_reply(id: &str) -> ConversationCommand {
    ConversationCommand::RecordPhoneReply {
        provider_message_id: id.into(),
        text: Some(Personal::from("já te respondo")),
        sent_at: t0(),
    }
}

fn replied_from_phone(id: &str) -> E {
    E::HumanRepliedFromPhone {
        provider_message_id: id.into(),
        text: Some(Personal::from("já te respondo")),
        sent_at: t0(),
        at: t0(),
    }
}

#[test]
fn a_send_given_up_is_recorded_once() {
    let reply = Uuid::from_u128(91);
    let given_up = E::OutboundRefused {
        outbound_id: reply,
        error: "invalid token".into(),
        at: t0(),
    };
    conversation()
        .given(vec![received("wamid.1"), human_replied()])
        .when(refused(reply))
        .then_expect_events(vec![given_up.clone()]);
    conversation()
        .given(vec![received("wamid.1"), human_replied(), given_up])
        .when(refused(reply))
        .then_expect_events(vec![]);
}

#[test]
fn a_message_already_sent_cannot_be_given_up() {
    let reply = Uuid::from_u128(91);
    let sent = E::OutboundSent {
        outbound_id: reply,
        provider_message_id: "wamid.out".into(),
        at: t0(),
    };
    let err = error_of(
        vec![received("wamid.1"), human_replied(), sent],
        refused(reply),
    );
    assert_eq!(err, ConversationError::OutboundSentAsOther);
}

#[test]
fn a_reply_typed_on_the_phone_is_human_activity_recorded_once() {
    conversation()
        .given(vec![received("wamid.1")])
        .when(phone_reply("3EB0"))
        .then_expect_events(vec![replied_from_phone("3EB0")]);
    conversation()
        .given(vec![received("wamid.1"), replied_from_phone("3EB0")])
        .when(phone_reply("3EB0"))
        .then_expect_events(vec![]);
}

#[test]
fn the_phone_echo_of_a_message_atende_sent_is_not_a_human_reply() {
    let sent = E::OutboundSent {
        outbound_id: Uuid::from_u128(91),
        provider_message_id: "3EB0".into(),
        at: t0(),
    };
    conversation()
        .given(vec![received("wamid.1"), human_replied(), sent])
        .when(phone_reply("3EB0"))
        .then_expect_events(vec![]);
}

#[test]
fn a_reply_on_the_phone_silences_the_ai() {
    let mut c = Conversation::default();
    c.apply(received("wamid.1"));
    c.apply(replied_from_phone("3EB0"));
    assert_eq!(c.status(), ConversationStatus::HumanReplied);
    assert_eq!(c.last_human_activity_at(), Some(t0()));
}
