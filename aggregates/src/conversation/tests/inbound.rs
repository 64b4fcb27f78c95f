//! Customer messages: recording, dedup, tenant gate, reopening.

use super::*;
use crate::error::{DomainError, ErrorKind};
use chrono::Duration;
use schemas::events::ConversationStatus as S;

#[test]
fn a_customer_message_opens_the_conversation() {
    conversation()
        .given_no_previous_events()
        .when(receive("wamid.1"))
        .then_expect_events(vec![received("wamid.1")]);
    let c = state(vec![received("wamid.1")]);
    assert_eq!(
        (c.tenant_id(), c.status(), c.message_count()),
        (Some(TENANT), S::AiActive, 1)
    );
}

#[test]
fn a_redelivered_provider_message_is_recorded_once() {
    conversation()
        .given(vec![received("wamid.1")])
        .when(receive("wamid.1"))
        .then_expect_events(vec![]);
}

#[test]
fn dedup_remembers_only_the_last_thousand_provider_ids() {
    let events = (0..=RECENT_IDS_KEPT)
        .map(|i| received(&format!("wamid.{i}")))
        .collect();
    let c = state(events);
    assert!(!c.has_received("wamid.0"), "the oldest id is forgotten");
    assert!(c.has_received("wamid.1"));
    assert!(c.has_received(&format!("wamid.{RECENT_IDS_KEPT}")));
}

#[test]
fn dedup_survives_a_snapshot() {
    let c = state(vec![received("wamid.1")]);
    let back: Conversation = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
    assert!(back.has_received("wamid.1"));
}

#[test]
fn a_message_for_an_unknown_tenant_is_refused() {
    let err = conversation_with(Ok(TenantStatus::Unknown), t0())
        .given_no_previous_events()
        .when(receive("wamid.1"))
        .inspect_result()
        .unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        ("tenant_not_found", ErrorKind::NotFound)
    );
}

#[test]
fn a_suspended_tenants_customer_messages_are_still_recorded() {
    conversation_with(Ok(TenantStatus::Suspended), t0())
        .given(vec![received("wamid.1")])
        .when(receive("wamid.2"))
        .then_expect_events(vec![received("wamid.2")]);
}

#[test]
fn a_tenant_directory_outage_is_reported_as_unavailable() {
    let err = conversation_with(Err(ServiceError::new("timeout")), t0())
        .given_no_previous_events()
        .when(receive("wamid.1"))
        .inspect_result()
        .unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        ("service_unavailable", ErrorKind::Unavailable)
    );
}

#[test]
fn a_message_naming_another_tenant_is_refused() {
    let ConversationCommand::ReceiveMessage {
        contact_wa_id,
        contact_name,
        content,
        sent_at,
        ..
    } = receive("x")
    else {
        unreachable!()
    };
    let other = ConversationCommand::ReceiveMessage {
        tenant_id: Uuid::from_u128(2),
        contact_wa_id,
        contact_name,
        provider_message_id: "wamid.2".into(),
        content,
        sent_at,
    };
    let err = error_of(vec![received("wamid.1")], other);
    assert_eq!(
        (err.code(), err.kind()),
        ("tenant_mismatch", ErrorKind::Unprocessable)
    );
}

#[test]
fn a_blank_provider_message_id_is_refused() {
    let err = error_of(vec![], receive(" "));
    assert_eq!(
        (err.code(), err.kind()),
        ("provider_message_id_required", ErrorKind::Unprocessable)
    );
}

#[test]
fn a_message_reopens_a_resolved_conversation_with_the_ai() {
    let given = vec![received("wamid.1"), handed_off(), resolved()];
    conversation()
        .given(given.clone())
        .when(receive("wamid.2"))
        .then_expect_events(vec![received("wamid.2")]);
    let c = state([given, vec![received("wamid.2")]].concat());
    assert_eq!(c.status(), S::AiActive);
    assert!(!c.is_resolved());
}

#[test]
fn commands_before_the_first_message_find_no_conversation() {
    let commands = [
        ConversationCommand::Resolve,
        ConversationCommand::RequestHuman {
            question: "?".into(),
        },
        ConversationCommand::ReplyAsHuman {
            agent_id: AGENT,
            text: "oi".into(),
        },
        ConversationCommand::RecordDelivery {
            provider_message_id: "wamid.9".into(),
            status: schemas::events::DeliveryStatus::Sent,
            error: None,
        },
    ];
    for command in commands {
        let err = error_of(vec![], command);
        assert_eq!(
            (err.code(), err.kind()),
            ("conversation_not_found", ErrorKind::NotFound)
        );
    }
}

#[test]
fn the_last_inbound_time_is_the_latest_send_time_never_after_receipt() {
    let later = t0() + Duration::hours(1);
    let c = state(vec![received_at("wamid.2", later), received("wamid.1")]);
    assert_eq!(
        c.last_inbound_at(),
        Some(later),
        "a late redelivery does not move it back"
    );

    let mut ahead = received("wamid.3");
    if let E::MessageReceived { sent_at, .. } = &mut ahead {
        *sent_at = t0() + Duration::hours(5);
    }
    assert_eq!(
        state(vec![ahead]).last_inbound_at(),
        Some(t0()),
        "a provider clock ahead is capped"
    );
}
