use super::*;
use crate::events::{
    admin_action, ai_spend, conversation, plan, platform_content, subscription, tenant, ticket,
};
use serde_json::json;

fn stored(aggregate_type: &str, event_type: &str, version: &str, payload: Value) -> StoredEvent {
    StoredEvent {
        position: 1,
        tx_id: 1,
        recorded_at: Utc::now(),
        aggregate_type: aggregate_type.into(),
        aggregate_id: Uuid::from_u128(7).to_string(),
        sequence: 1,
        event_type: event_type.into(),
        event_version: version.into(),
        payload,
        metadata: HashMap::new(),
    }
}

/// Every sample event of every aggregate, as its typed value and as postgres-es stores it.
fn every_sample() -> Vec<(AnyEvent, StoredEvent)> {
    let mut all: Vec<AnyEvent> = Vec::new();
    all.extend(tenant::tests::samples().into_iter().map(AnyEvent::Tenant));
    all.extend(
        subscription::tests::samples()
            .into_iter()
            .map(AnyEvent::Subscription),
    );
    all.extend(
        conversation::tests::samples()
            .into_iter()
            .map(AnyEvent::Conversation),
    );
    all.extend(ticket::tests::samples().into_iter().map(AnyEvent::Ticket));
    all.extend(
        platform_content::tests::samples()
            .into_iter()
            .map(AnyEvent::PlatformContent),
    );
    all.extend(
        admin_action::tests::samples()
            .into_iter()
            .map(AnyEvent::AdminAction),
    );
    // Plans managed by admins (issue 18).
    all.extend(plan::tests::samples().into_iter().map(AnyEvent::Plan));
    // The usage monitor's AI spend thresholds (issue 18).
    all.extend(
        ai_spend::tests::samples()
            .into_iter()
            .map(AnyEvent::AiSpendThreshold),
    );
    all.into_iter()
        .map(|typed| {
            let payload = match &typed {
                AnyEvent::Tenant(e) => serde_json::to_value(e),
                AnyEvent::Subscription(e) => serde_json::to_value(e),
                AnyEvent::Conversation(e) => serde_json::to_value(e),
                AnyEvent::Ticket(e) => serde_json::to_value(e),
                AnyEvent::PlatformContent(e) => serde_json::to_value(e),
                AnyEvent::AdminAction(e) => serde_json::to_value(e),
                // Plans managed by admins (issue 18).
                AnyEvent::Plan(e) => serde_json::to_value(e),
                // The usage monitor's AI spend thresholds (issue 18).
                AnyEvent::AiSpendThreshold(e) => serde_json::to_value(e),
            }
            .expect("serializes");
            let kind = typed.kind();
            let stored = stored(kind.aggregate().as_str(), kind.as_str(), "1", payload);
            (typed, stored)
        })
        .collect()
}

#[test]
fn every_event_of_every_aggregate_decodes_into_its_typed_enum() {
    let samples = every_sample();
    for kind in [
        AggregateKind::Tenant,
        AggregateKind::Subscription,
        AggregateKind::Conversation,
        AggregateKind::Ticket,
        AggregateKind::PlatformContent,
        AggregateKind::AdminAction,
        // Plans managed by admins (issue 18).
        AggregateKind::Plan,
        // The usage monitor's AI spend thresholds (issue 18).
        AggregateKind::AiSpendThreshold,
    ] {
        assert!(
            samples.iter().any(|(t, _)| t.kind().aggregate() == kind),
            "no sample of {kind:?}"
        );
    }
    for (typed, stored) in &samples {
        assert_eq!(&stored.decode().expect("decodes"), typed);
        assert_eq!(stored.kind(), Some(typed.kind()));
        assert!(stored.is(typed.kind()));
        assert_eq!(stored.at(), Ok(typed.at()));
    }
}

#[test]
fn every_event_type_names_its_aggregate_and_parses_back_from_its_name() {
    let listed: Vec<_> = crate::events::all_event_types().collect();
    let typed: Vec<_> = EventType::ALL
        .iter()
        .map(|k| (k.aggregate(), k.as_str()))
        .collect();
    assert_eq!(typed, listed);
    for kind in EventType::ALL {
        assert_eq!(EventType::parse(kind.as_str()), Some(*kind));
    }
    assert_eq!(EventType::parse("messagereceived"), None);
}

#[test]
fn an_unknown_event_type_is_a_clear_error_not_a_panic() {
    let e = stored(
        "conversation",
        "MessageEdited",
        "1",
        json!({"MessageEdited": {}}),
    );
    assert_eq!(e.kind(), None);
    let err = e.decode().expect_err("unknown");
    assert!(matches!(err, DecodeError::UnknownType { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "unknown event type \"MessageEdited\" of aggregate conversation"
    );
}

#[test]
fn an_event_type_of_another_aggregate_is_unknown_to_this_one() {
    let e = stored(
        "tenant",
        "MessageReceived",
        "1",
        json!({"MessageReceived": {}}),
    );
    assert!(matches!(
        e.decode(),
        Err(DecodeError::UnknownType {
            aggregate: "tenant",
            ..
        })
    ));
}

#[test]
fn an_unknown_aggregate_type_is_a_clear_error() {
    let e = stored("invoice", "PaymentSucceeded", "1", json!({}));
    let err = e.decode().expect_err("unknown");
    assert_eq!(err.to_string(), "unknown aggregate type \"invoice\"");
}

#[test]
fn an_unknown_version_is_a_clear_error_not_a_panic() {
    let (_, mut e) = every_sample().swap_remove(0);
    e.event_version = "2".into();
    let err = e.decode().expect_err("unsupported");
    assert_eq!(
        err.to_string(),
        "TenantRegistered has no version \"2\" (this build reads version 1)"
    );
}

#[test]
fn a_malformed_payload_or_a_payload_of_another_type_is_a_clear_error() {
    let e = stored(
        "tenant",
        "TenantSuspended",
        "1",
        json!({"TenantSuspended": {"reason": 7}}),
    );
    let err = e.decode().expect_err("malformed");
    assert!(
        err.to_string()
            .starts_with("the payload of TenantSuspended is malformed"),
        "{err}"
    );
    let e = stored(
        "tenant",
        "TenantSuspended",
        "1",
        json!({"TenantReactivated": {"at": "2025-01-02T03:04:05Z"}}),
    );
    assert!(matches!(
        e.decode(),
        Err(DecodeError::TagMismatch {
            tagged: EventType::TenantReactivated,
            ..
        })
    ));
}

#[test]
fn fields_read_as_stored_and_a_missing_one_names_the_event_and_the_field() {
    let e = stored(
        "subscription",
        "PaymentFailed",
        "1",
        json!({"PaymentFailed": {"invoice_id": "in_1", "attempt": 2, "note": null,
            "at": "2026-02-10T09:00:00Z"}}),
    );
    assert_eq!(e.text("invoice_id"), Ok("in_1"));
    assert_eq!(e.integer("attempt"), Ok(2));
    assert_eq!(e.value::<u32>("attempt"), Ok(2));
    assert_eq!(e.field("note"), None);
    assert_eq!(
        e.at(),
        Ok("2026-02-10T09:00:00Z"
            .parse::<DateTime<Utc>>()
            .expect("a time"))
    );
    assert_eq!(e.aggregate_uuid(), Ok(Uuid::from_u128(7)));
    assert_eq!(
        e.text("attempt").expect_err("not text").to_string(),
        "PaymentFailed has no text field attempt"
    );
    assert_eq!(
        e.uuid("tenant_id").expect_err("absent").to_string(),
        "PaymentFailed has no uuid field tenant_id"
    );
}

#[test]
fn a_sealed_personal_field_is_read_as_stored() {
    let sealed = json!({"$pii": "1.abc.def"});
    let e = stored(
        "conversation",
        "MessageReceived",
        "1",
        json!({"MessageReceived": {"contact_wa_id": sealed}}),
    );
    assert_eq!(e.field("contact_wa_id"), Some(&sealed));
}
