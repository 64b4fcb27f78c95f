//! Complimentary subscriptions: given by an admin, no Stripe involved.

use super::*;

fn give(plan: &str) -> SubscriptionCommand {
    SubscriptionCommand::StartComplimentary {
        tenant_id: TENANT,
        plan: plan.into(),
    }
}

fn given(plan: &str) -> E {
    E::ComplimentarySubscriptionStarted {
        tenant_id: TENANT,
        plan: plan.into(),
        status: S::Active,
        at: t0(),
    }
}

#[test]
fn a_complimentary_subscription_starts_active() {
    subscription()
        .given_no_previous_events()
        .when(give("pro"))
        .then_expect_events(vec![given("pro")]);
}

#[test]
fn a_complimentary_subscription_is_active_with_its_plan_and_no_stripe_ids() {
    let s = state(vec![given("pro")]);
    assert_eq!(s.status(), Some(S::Active));
    assert_eq!(s.plan().as_str(), "pro");
    assert_eq!(s.tenant_id(), Some(TENANT));
    assert!(s.stripe_subscription_id().is_empty());
}

#[test]
fn giving_the_same_plan_twice_records_nothing() {
    subscription()
        .given(vec![given("pro")])
        .when(give("pro"))
        .then_expect_events(vec![]);
}

#[test]
fn a_complimentary_subscription_is_refused_when_stripe_already_bills_the_tenant() {
    let err = error_of(vec![started()], give("pro"));
    assert_eq!(
        (err.code(), err.kind()),
        ("already_started", ErrorKind::Conflict)
    );
}

#[test]
fn a_complimentary_subscription_needs_a_plan() {
    let err = error_of(vec![], give("  "));
    assert_eq!(
        (err.code(), err.kind()),
        ("plan_required", ErrorKind::Unprocessable)
    );
}

#[test]
fn a_complimentary_subscription_can_be_cancelled() {
    subscription()
        .given(vec![given("pro")])
        .when(SubscriptionCommand::Cancel {
            reason: "requested".into(),
        })
        .then_expect_events(vec![cancelled()]);
}
