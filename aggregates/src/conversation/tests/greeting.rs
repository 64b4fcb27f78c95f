//! The greeting before the AI's first answer of a new conversation.

use super::*;

fn greeted() -> E {
    E::GreetingSent {
        outbound_id: first_outbound(),
        at: t0(),
    }
}

#[test]
fn a_new_conversation_is_greeted_once() {
    conversation()
        .given(vec![received("wamid.1")])
        .when(ConversationCommand::Greet)
        .then_expect_events(vec![greeted()]);
    conversation()
        .given(vec![received("wamid.1"), greeted(), received("wamid.2")])
        .when(ConversationCommand::Greet)
        .then_expect_events(vec![]);
}

#[test]
fn a_conversation_already_answered_or_with_a_human_is_not_greeted() {
    let answered = E::AiReplied {
        outbound_id: Uuid::from_u128(90),
        text: "Abrimos às 8h.".into(),
        confidence: 0.9,
        sources: vec![],
        model: "extractive".into(),
        tokens_in: 0,
        tokens_out: 0,
        run: None,
        at: t0(),
    };
    for history in [
        vec![received("wamid.1"), answered],
        vec![received("wamid.1"), handed_off()],
        vec![received("wamid.1"), handed_off(), human_replied()],
    ] {
        conversation()
            .given(history)
            .when(ConversationCommand::Greet)
            .then_expect_events(vec![]);
    }
}

#[test]
fn a_snapshot_from_before_greetings_counts_as_greeted() {
    let mut snapshot = serde_json::to_value(state(vec![received("wamid.1")])).unwrap();
    snapshot.as_object_mut().unwrap().remove("greeted");
    let restored: Conversation = serde_json::from_value(snapshot).unwrap();
    assert!(restored.greeted());
    assert!(!state(vec![received("wamid.1")]).greeted());
}
