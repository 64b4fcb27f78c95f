use super::*;
use crate::events::test_support::{at, tag};
use serde_json::json;

pub(crate) fn samples() -> Vec<ConversationEvent> {
    let id = Uuid::from_u128(7);
    vec![
        ConversationEvent::MessageReceived {
            tenant_id: Uuid::from_u128(1),
            contact_wa_id: "5511999990000".into(),
            contact_name: Some("Ana".into()),
            provider_message_id: "wamid.1".into(),
            content: MessageContent::Text("Oi".into()),
            sent_at: at(),
            at: at(),
        },
        ConversationEvent::AiReplied {
            outbound_id: id,
            text: "Olá!".into(),
            confidence: 0.9,
            sources: vec!["chunk-1".into()],
            model: "gpt-4o-mini".into(),
            tokens_in: 100,
            tokens_out: 20,
            run: None,
            at: at(),
        },
        ConversationEvent::ConfidenceLow {
            outbound_id: id,
            confidence: 0.2,
            question: "?".into(),
            reason: None,
            at: at(),
        },
        ConversationEvent::HumanRequested {
            outbound_id: id,
            question: "humano".into(),
            at: at(),
        },
        ConversationEvent::HumanReplied {
            outbound_id: id,
            agent_id: Uuid::from_u128(2),
            text: "Oi".into(),
            at: at(),
        },
        ConversationEvent::AgentAssigned {
            agent_id: Uuid::from_u128(2),
            at: at(),
        },
        ConversationEvent::AiResumed {
            outbound_id: id,
            reason: ResumeReason::Timeout,
            at: at(),
        },
        ConversationEvent::OutboundSent {
            outbound_id: id,
            provider_message_id: "wamid.2".into(),
            at: at(),
        },
        ConversationEvent::OutboundDelivered {
            provider_message_id: "wamid.2".into(),
            status: DeliveryStatus::Read,
            at: at(),
        },
        ConversationEvent::OutboundFailed {
            provider_message_id: "wamid.2".into(),
            error: Some("131047".into()),
            at: at(),
        },
        ConversationEvent::ConversationResolved { at: at() },
        ConversationEvent::SubjectErased {
            reason: "data subject request".into(),
            at: at(),
        },
        ConversationEvent::OutboundRefused {
            outbound_id: Uuid::nil(),
            error: "invalid token".into(),
            at: at(),
        },
        ConversationEvent::HumanRepliedFromPhone {
            provider_message_id: "3EB0".into(),
            text: Some(Personal::from("já te respondo")),
            sent_at: at(),
            at: at(),
        },
        ConversationEvent::GreetingSent {
            outbound_id: id,
            at: at(),
        },
    ]
}

#[test]
fn every_variant_is_listed_and_tagged_by_its_type_name() {
    let samples = samples();
    let names: Vec<_> = samples.iter().map(ConversationEvent::type_name).collect();
    assert_eq!(names, ConversationEvent::EVENT_TYPES);
    for e in &samples {
        assert_eq!(tag(e), e.type_name());
        let back: ConversationEvent =
            serde_json::from_value(serde_json::to_value(e).expect("ser")).expect("de");
        assert_eq!(&back, e);
    }
}

#[test]
fn stored_shape_of_message_received_never_changes() {
    assert_eq!(
        serde_json::to_value(&samples()[0]).expect("serializes"),
        json!({"MessageReceived": {
            "tenant_id": "00000000-0000-0000-0000-000000000001",
            "contact_wa_id": "5511999990000",
            "contact_name": "Ana",
            "provider_message_id": "wamid.1",
            "content": {"text": "Oi"},
            "sent_at": "2025-01-02T03:04:05Z",
            "at": "2025-01-02T03:04:05Z"
        }})
    );
}

#[test]
fn stored_shape_of_ai_replied_never_changes() {
    assert_eq!(
        serde_json::to_value(&samples()[1]).expect("serializes"),
        json!({"AiReplied": {
            "outbound_id": "00000000-0000-0000-0000-000000000007",
            "text": "Olá!",
            "confidence": 0.9,
            "sources": ["chunk-1"],
            "model": "gpt-4o-mini",
            "tokens_in": 100,
            "tokens_out": 20,
            "at": "2025-01-02T03:04:05Z"
        }})
    );
}

#[test]
fn stored_shape_of_outbound_sent_never_changes() {
    let sent = samples()
        .into_iter()
        .find(|e| e.type_name() == "OutboundSent")
        .expect("a sample");
    assert_eq!(
        serde_json::to_value(&sent).expect("serializes"),
        json!({"OutboundSent": {
            "outbound_id": "00000000-0000-0000-0000-000000000007",
            "provider_message_id": "wamid.2",
            "at": "2025-01-02T03:04:05Z"
        }})
    );
}

#[test]
fn stored_shape_of_media_content_never_changes() {
    let media = MessageContent::Media {
        kind: "image".into(),
        caption: Some("foto".into()),
    };
    assert_eq!(
        serde_json::to_value(&media).expect("serializes"),
        json!({"media": {"kind": "image", "caption": "foto"}})
    );
    assert_eq!(media.text().map(|t| t.expose().as_str()), Some("foto"));
}

#[test]
fn value_enums_serialize_as_snake_case() {
    let v = serde_json::to_value((
        ConversationStatus::AwaitingHuman,
        DeliveryStatus::Delivered,
        ResumeReason::Manual,
    ))
    .expect("serializes");
    assert_eq!(v, json!(["awaiting_human", "delivered", "manual"]));
}

#[test]
fn stored_shape_of_subject_erased_never_changes() {
    let e = ConversationEvent::SubjectErased {
        reason: "court order".into(),
        at: at(),
    };
    assert_eq!(
        serde_json::to_value(&e).expect("ser"),
        json!({"SubjectErased": {"reason": "court order", "at": "2025-01-02T03:04:05Z"}})
    );
}

#[test]
fn ai_replied_with_its_run_round_trips_and_older_answers_still_load() {
    let e = ConversationEvent::AiReplied {
        outbound_id: Uuid::from_u128(7),
        text: "Olá!".into(),
        confidence: 0.9,
        sources: vec![],
        model: "gpt-4o-mini".into(),
        tokens_in: 1,
        tokens_out: 2,
        run: Some(AiRun {
            provider: "primary".into(),
            latency_ms: 12,
            cost_usd: 0.5,
            cached: false,
        }),
        at: at(),
    };
    let value = serde_json::to_value(&e).expect("serializes");
    assert_eq!(value["AiReplied"]["run"]["provider"], "primary");
    let back: ConversationEvent = serde_json::from_value(value).expect("deserializes");
    assert_eq!(back, e);
    let mut old = serde_json::to_value(&e).expect("serializes");
    old["AiReplied"]
        .as_object_mut()
        .expect("an object")
        .remove("run");
    let old: ConversationEvent = serde_json::from_value(old).expect("an older answer loads");
    assert!(matches!(
        old,
        ConversationEvent::AiReplied { run: None, .. }
    ));
}

#[test]
fn a_hand_off_reason_is_stored_in_snake_case_and_absent_in_older_hand_offs() {
    let e = ConversationEvent::ConfidenceLow {
        outbound_id: Uuid::from_u128(7),
        confidence: 0.0,
        question: "?".into(),
        reason: Some(HandoffReason::PlanQuotaReached),
        at: at(),
    };
    let value = serde_json::to_value(&e).expect("serializes");
    assert_eq!(value["ConfidenceLow"]["reason"], "plan_quota_reached");
    let old = json!({"ConfidenceLow": {
        "outbound_id": "00000000-0000-0000-0000-000000000007",
        "confidence": 0.2, "question": "?", "at": "2025-01-02T03:04:05Z"
    }});
    let old: ConversationEvent = serde_json::from_value(old).expect("an older hand-off loads");
    assert!(matches!(
        old,
        ConversationEvent::ConfidenceLow { reason: None, .. }
    ));
}
