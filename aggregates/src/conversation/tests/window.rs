//! Human replies and the 24 h customer-service window (F3, F7).

use super::*;
use crate::error::{DomainError, ErrorKind};
use chrono::Duration;
use schemas::events::ConversationStatus as S;

fn reply() -> ConversationCommand {
    ConversationCommand::ReplyAsHuman {
        agent_id: AGENT,
        text: "Olá, sou a Bia.".into(),
    }
}

fn replied_at(at: DateTime<Utc>) -> E {
    E::HumanReplied {
        outbound_id: first_outbound(),
        agent_id: AGENT,
        text: "Olá, sou a Bia.".into(),
        at,
    }
}

#[test]
fn a_human_may_reply_in_any_open_state() {
    for given in [
        vec![received("wamid.1")],
        vec![received("wamid.1"), handed_off()],
        vec![received("wamid.1"), handed_off(), human_replied()],
    ] {
        conversation()
            .given(given)
            .when(reply())
            .then_expect_events(vec![replied_at(t0())]);
    }
    let c = state(vec![received("wamid.1"), handed_off(), replied_at(t0())]);
    assert_eq!(
        (c.status(), c.last_human_activity_at(), c.message_count()),
        (S::HumanReplied, Some(t0()), 2)
    );
}

#[test]
fn human_reply_outside_the_customer_window_is_refused() {
    let err = conversation_with(Ok(TenantStatus::Active), t0() + Duration::hours(24))
        .given(vec![received("wamid.1")])
        .when(reply())
        .inspect_result()
        .unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        ("customer_window_closed", ErrorKind::Conflict)
    );
}

#[test]
fn human_reply_one_second_before_the_window_closes_is_accepted() {
    let now = t0() + Duration::hours(24) - Duration::seconds(1);
    conversation_with(Ok(TenantStatus::Active), now)
        .given(vec![received("wamid.1")])
        .when(reply())
        .then_expect_events(vec![replied_at(now)]);
}

#[test]
fn the_window_counts_from_the_last_inbound_message() {
    let second = t0() + Duration::hours(20);
    let now = t0() + Duration::hours(30);
    conversation_with(Ok(TenantStatus::Active), now)
        .given(vec![received("wamid.1"), received_at("wamid.2", second)])
        .when(reply())
        .then_expect_events(vec![replied_at(now)]);
    let c = state(vec![received("wamid.1"), received_at("wamid.2", second)]);
    assert_eq!(
        c.customer_window_ends_at(),
        Some(second + Duration::hours(24))
    );
    assert!(c.is_customer_window_open(now));
    assert!(!c.is_customer_window_open(second + Duration::hours(24)));
}

#[test]
fn a_conversation_without_an_inbound_message_has_no_window() {
    let c = Conversation::default();
    assert_eq!(c.customer_window_ends_at(), None);
    assert!(!c.is_customer_window_open(t0()));
}

#[test]
fn a_human_may_not_reply_to_a_resolved_conversation() {
    let err = error_of(vec![received("wamid.1"), resolved()], reply());
    assert_eq!(
        (err.code(), err.kind()),
        ("conversation_resolved", ErrorKind::Conflict)
    );
}

#[test]
fn a_blank_human_reply_is_refused() {
    let blank = ConversationCommand::ReplyAsHuman {
        agent_id: AGENT,
        text: "  ".into(),
    };
    let err = error_of(vec![received("wamid.1")], blank);
    assert_eq!(
        (err.code(), err.kind()),
        ("text_required", ErrorKind::Unprocessable)
    );
}
