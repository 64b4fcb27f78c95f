//! Provider delivery statuses of outbound messages.

use super::*;
use schemas::events::DeliveryStatus as D;

fn status(id: &str, status: D) -> ConversationCommand {
    ConversationCommand::RecordDelivery {
        provider_message_id: id.into(),
        status,
        error: None,
    }
}

fn delivered(id: &str, status: D) -> E {
    E::OutboundDelivered {
        provider_message_id: id.into(),
        status,
        at: t0(),
    }
}

#[test]
fn a_delivery_status_is_recorded() {
    conversation()
        .given(vec![received("wamid.1")])
        .when(status("wamid.out", D::Delivered))
        .then_expect_events(vec![delivered("wamid.out", D::Delivered)]);
}

#[test]
fn a_failed_delivery_is_recorded_with_the_provider_error() {
    conversation()
        .given(vec![received("wamid.1"), delivered("wamid.out", D::Sent)])
        .when(ConversationCommand::RecordDelivery {
            provider_message_id: "wamid.out".into(),
            status: D::Failed,
            error: Some("131047: re-engagement message".into()),
        })
        .then_expect_events(vec![E::OutboundFailed {
            provider_message_id: "wamid.out".into(),
            error: Some("131047: re-engagement message".into()),
            at: t0(),
        }]);
}

#[test]
fn a_repeated_or_older_status_records_nothing() {
    let given = vec![received("wamid.1"), delivered("wamid.out", D::Read)];
    for old in [D::Sent, D::Delivered, D::Read] {
        conversation()
            .given(given.clone())
            .when(status("wamid.out", old))
            .then_expect_events(vec![]);
    }
    assert_eq!(state(given).delivery_status("wamid.out"), Some(D::Read));
}

#[test]
fn a_suspended_tenants_delivery_statuses_are_still_recorded() {
    assert!(!status("x", D::Sent).requires_active_tenant());
    conversation_with(Ok(TenantStatus::Suspended), t0())
        .given(vec![received("wamid.1")])
        .when(status("wamid.out", D::Sent))
        .then_expect_events(vec![delivered("wamid.out", D::Sent)]);
}
