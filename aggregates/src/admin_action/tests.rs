use super::*;
use crate::clock::FixedClock;
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use schemas::events::{ActionOutcome, ActionTarget, AdminActionEvent as E};
use std::sync::Arc;
use uuid::Uuid;

const ADMIN: Uuid = Uuid::from_u128(3);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 14, 0, 0).unwrap()
}

fn trail() -> TestFramework<AdminAction> {
    TestFramework::with(AdminActionServices::new(Arc::new(FixedClock::new(t0()))))
}

fn record(action: &str, kind: &str, outcome: ActionOutcome) -> AdminActionCommand {
    AdminActionCommand::Record {
        action: action.into(),
        target: ActionTarget::new(kind, "192.0.2.7"),
        outcome,
        detail: Some(" ".into()),
        actor_id: Some(ADMIN),
        actor_role: "admin".into(),
    }
}

fn recorded(outcome: ActionOutcome) -> E {
    E::AdminActionRecorded {
        action: "unblock_ip".into(),
        target: ActionTarget::new("ip", "192.0.2.7"),
        outcome,
        detail: None,
        actor_id: Some(ADMIN),
        actor_role: "admin".into(),
        at: t0(),
    }
}

#[test]
fn given_nothing_when_an_action_is_recorded_then_it_is_kept_with_its_outcome_and_a_blank_note_dropped(
) {
    for outcome in [
        ActionOutcome::Done,
        ActionOutcome::Refused,
        ActionOutcome::Failed,
    ] {
        trail()
            .given_no_previous_events()
            .when(record("unblock_ip", "ip", outcome))
            .then_expect_events(vec![recorded(outcome)]);
    }
}

#[test]
fn given_a_recorded_action_when_it_is_recorded_again_then_it_is_refused() {
    trail()
        .given(vec![recorded(ActionOutcome::Done)])
        .when(record("unblock_ip", "ip", ActionOutcome::Done))
        .then_expect_error(AdminActionError::AlreadyRecorded);
}

#[test]
fn an_action_not_named_like_an_operation_or_without_a_target_kind_is_refused() {
    for bad in ["", "Unblock IP", "unblock-ip", &"a".repeat(81)] {
        trail()
            .given_no_previous_events()
            .when(record(bad, "ip", ActionOutcome::Done))
            .then_expect_error(AdminActionError::InvalidAction);
    }
    trail()
        .given_no_previous_events()
        .when(record("unblock_ip", " ", ActionOutcome::Done))
        .then_expect_error(AdminActionError::TargetKindRequired);
}
