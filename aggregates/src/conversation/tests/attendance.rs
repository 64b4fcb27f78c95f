//! Who answers: the AI, hand-offs, assignment, resuming, resolving, the tenant gate.

use super::*;
use crate::error::{DomainError, ErrorKind};
use schemas::events::{ConversationStatus as S, ResumeReason};

fn ai_reply(confidence: f64) -> ConversationCommand {
    ConversationCommand::RecordAiReply {
        text: "Abrimos às 8h.".into(),
        confidence,
        sources: vec!["chunk-3".into()],
        model: "gpt-4o-mini".into(),
        tokens_in: 120,
        tokens_out: 8,
        run: None,
    }
}

fn low_confidence() -> ConversationCommand {
    ConversationCommand::RecordLowConfidence {
        confidence: 0.3,
        question: "Vocês aceitam pix?".into(),
        reason: None,
    }
}

#[test]
fn the_ai_reply_is_recorded_with_an_outbound_id() {
    conversation()
        .given(vec![received("wamid.1")])
        .when(ai_reply(0.9))
        .then_expect_events(vec![E::AiReplied {
            outbound_id: first_outbound(),
            text: "Abrimos às 8h.".into(),
            confidence: 0.9,
            sources: vec!["chunk-3".into()],
            model: "gpt-4o-mini".into(),
            tokens_in: 120,
            tokens_out: 8,
            run: None,
            at: t0(),
        }]);
}

#[test]
fn the_ai_never_answers_unless_ai_active() {
    let base = vec![received("wamid.1")];
    for (extra, status) in [
        (vec![handed_off()], S::AwaitingHuman),
        (vec![handed_off(), human_replied()], S::HumanReplied),
        (vec![resolved()], S::Resolved),
    ] {
        for command in [ai_reply(0.9), low_confidence()] {
            let err = error_of([base.clone(), extra.clone()].concat(), command);
            assert_eq!(err, ConversationError::AiNotAllowed(status));
            assert_eq!(
                (err.code(), err.kind()),
                ("ai_not_allowed", ErrorKind::Conflict)
            );
        }
    }
}

#[test]
fn a_confidence_outside_0_to_1_is_refused() {
    for confidence in [-0.1, 1.1, f64::NAN] {
        let err = error_of(vec![received("wamid.1")], ai_reply(confidence));
        assert_eq!(
            (err.code(), err.kind()),
            ("invalid_confidence", ErrorKind::Unprocessable)
        );
    }
}

#[test]
fn low_confidence_hands_the_conversation_to_a_human() {
    let low = E::ConfidenceLow {
        outbound_id: first_outbound(),
        confidence: 0.3,
        question: "Vocês aceitam pix?".into(),
        reason: None,
        at: t0(),
    };
    conversation()
        .given(vec![received("wamid.1")])
        .when(low_confidence())
        .then_expect_events(vec![low.clone()]);
    let c = state(vec![received("wamid.1"), low]);
    assert_eq!(
        (c.status(), c.handed_off_at()),
        (S::AwaitingHuman, Some(t0()))
    );
}

#[test]
fn asking_for_a_human_hands_off_with_a_waiting_message() {
    conversation()
        .given(vec![received("wamid.1")])
        .when(ConversationCommand::RequestHuman {
            question: "quero falar com alguém".into(),
        })
        .then_expect_events(vec![E::HumanRequested {
            outbound_id: first_outbound(),
            question: "quero falar com alguém".into(),
            at: t0(),
        }]);
}

#[test]
fn asking_for_a_human_while_one_is_involved_records_nothing() {
    for given in [
        vec![received("wamid.1"), handed_off()],
        vec![received("wamid.1"), handed_off(), human_replied()],
    ] {
        conversation()
            .given(given)
            .when(ConversationCommand::RequestHuman {
                question: "alô?".into(),
            })
            .then_expect_events(vec![]);
    }
}

#[test]
fn the_ai_resumes_only_from_a_hand_off() {
    let resume = || ConversationCommand::ResumeAi {
        reason: ResumeReason::Timeout,
    };
    let resumed = E::AiResumed {
        outbound_id: first_outbound(),
        reason: ResumeReason::Timeout,
        at: t0(),
    };
    for given in [
        vec![received("wamid.1"), handed_off()],
        vec![received("wamid.1"), handed_off(), human_replied()],
    ] {
        conversation()
            .given(given)
            .when(resume())
            .then_expect_events(vec![resumed.clone()]);
    }
    for given in [
        vec![received("wamid.1")],
        vec![received("wamid.1"), resolved()],
    ] {
        conversation()
            .given(given)
            .when(resume())
            .then_expect_events(vec![]);
    }
    assert_eq!(
        state(vec![received("wamid.1"), handed_off(), resumed]).status(),
        S::AiActive
    );
}

#[test]
fn assigning_an_agent_is_recorded_once() {
    let assigned = E::AgentAssigned {
        agent_id: AGENT,
        at: t0(),
    };
    let assign = || ConversationCommand::AssignAgent { agent_id: AGENT };
    conversation()
        .given(vec![received("wamid.1")])
        .when(assign())
        .then_expect_events(vec![assigned.clone()]);
    conversation()
        .given(vec![received("wamid.1"), assigned.clone()])
        .when(assign())
        .then_expect_events(vec![]);
    let c = state(vec![received("wamid.1"), assigned]);
    assert_eq!(
        (c.assigned_agent(), c.last_human_activity_at()),
        (Some(AGENT), Some(t0()))
    );
}

#[test]
fn a_resolved_conversation_takes_no_assignment() {
    let err = error_of(
        vec![received("wamid.1"), resolved()],
        ConversationCommand::AssignAgent { agent_id: AGENT },
    );
    assert_eq!(
        (err.code(), err.kind()),
        ("conversation_resolved", ErrorKind::Conflict)
    );
}

#[test]
fn resolving_is_recorded_once() {
    conversation()
        .given(vec![received("wamid.1")])
        .when(ConversationCommand::Resolve)
        .then_expect_events(vec![resolved()]);
    conversation()
        .given(vec![received("wamid.1"), resolved()])
        .when(ConversationCommand::Resolve)
        .then_expect_events(vec![]);
}

#[test]
fn a_suspended_tenant_accepts_no_attendance_commands() {
    let commands = [
        ai_reply(0.9),
        low_confidence(),
        ConversationCommand::RequestHuman {
            question: "?".into(),
        },
        ConversationCommand::ReplyAsHuman {
            agent_id: AGENT,
            text: "oi".into(),
        },
        ConversationCommand::AssignAgent { agent_id: AGENT },
        ConversationCommand::ResumeAi {
            reason: ResumeReason::Manual,
        },
        ConversationCommand::Resolve,
    ];
    for command in commands {
        assert!(command.requires_active_tenant());
        let err = conversation_with(Ok(TenantStatus::Suspended), t0())
            .given(vec![received("wamid.1")])
            .when(command)
            .inspect_result()
            .unwrap_err();
        assert_eq!(
            (err.code(), err.kind()),
            ("tenant_suspended", ErrorKind::Forbidden)
        );
    }
}
