//! Erasure of the contact's personal data (F65).

use super::*;

fn erase() -> ConversationCommand {
    ConversationCommand::EraseSubject {
        reason: "data subject request".into(),
    }
}

fn erased() -> E {
    E::SubjectErased {
        reason: "data subject request".into(),
        at: t0(),
    }
}

#[test]
fn an_erasure_is_recorded_whatever_the_conversation_state() {
    for history in [
        vec![received("wamid.1")],
        vec![received("wamid.1"), resolved()],
        vec![received("wamid.1"), human_replied()],
    ] {
        conversation()
            .given(history)
            .when(erase())
            .then_expect_events(vec![erased()]);
    }
}

#[test]
fn a_suspended_tenants_contact_can_still_be_erased() {
    assert!(!erase().requires_active_tenant());
    conversation_with(Ok(TenantStatus::Suspended), t0())
        .given(vec![received("wamid.1")])
        .when(erase())
        .then_expect_events(vec![erased()]);
}
