use super::*;
use crate::clock::FixedClock;
use crate::error::{DomainError, ErrorKind};
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use schemas::events::PlanEvent as E;
use schemas::plans::PlanSpec;
use std::sync::Arc;
use uuid::Uuid;

const ADMIN: Uuid = Uuid::from_u128(3);
const OTHER_ADMIN: Uuid = Uuid::from_u128(4);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap()
}

fn plans() -> TestFramework<CataloguePlan> {
    TestFramework::with(PlanServices::new(Arc::new(FixedClock::new(t0()))))
}

fn gold() -> PlanSpec {
    PlanSpec {
        id: "gold".into(),
        name: "Ouro".into(),
        monthly_price_cents: 59_900,
        currency: "brl".into(),
        monthly_ai_message_quota: Some(10_000),
        features: vec!["ai_answers".into(), "reports".into()],
        stripe_price_id: Some("price_gold".into()),
    }
}

fn set(spec: PlanSpec) -> E {
    E::PlanSet {
        spec,
        admin_id: ADMIN,
        at: t0(),
    }
}

fn retired() -> E {
    E::PlanRetired {
        plan_id: "gold".into(),
        admin_id: ADMIN,
        at: t0(),
    }
}

fn create(spec: PlanSpec) -> PlanCommand {
    PlanCommand::Create {
        spec,
        configured: false,
        admin_id: ADMIN,
    }
}

fn edit(spec: PlanSpec, admin_id: Uuid) -> PlanCommand {
    PlanCommand::Edit {
        spec,
        configured: false,
        admin_id,
    }
}

fn retire(configured: bool) -> PlanCommand {
    PlanCommand::Retire {
        plan_id: "gold".into(),
        configured,
        admin_id: ADMIN,
    }
}

#[test]
fn given_nothing_when_an_admin_creates_a_plan_then_its_whole_spec_is_set_by_them() {
    plans()
        .given_no_previous_events()
        .when(create(gold()))
        .then_expect_events(vec![set(gold())]);
}

#[test]
fn given_nothing_when_a_spec_is_created_untidy_then_it_is_recorded_tidy() {
    let mut untidy = gold();
    untidy.id = " gold ".into();
    untidy.name = "  Ouro ".into();
    untidy.currency = "BRL".into();
    untidy.features = vec![" ai_answers".into(), "reports".into(), "ai_answers".into()];
    untidy.stripe_price_id = Some(" price_gold ".into());
    plans()
        .given_no_previous_events()
        .when(create(untidy))
        .then_expect_events(vec![set(gold())]);
    let mut no_price = gold();
    no_price.stripe_price_id = Some("  ".into());
    let mut expected = gold();
    expected.stripe_price_id = None;
    plans()
        .given_no_previous_events()
        .when(create(no_price))
        .then_expect_events(vec![set(expected)]);
}

#[test]
fn given_nothing_when_a_free_unlimited_plan_is_created_then_zero_price_and_no_quota_are_accepted() {
    let mut free = gold();
    free.monthly_price_cents = 0;
    free.monthly_ai_message_quota = None;
    free.features = vec![];
    plans()
        .given_no_previous_events()
        .when(create(free.clone()))
        .then_expect_events(vec![set(free.clone())]);
    free.monthly_ai_message_quota = Some(0);
    plans()
        .given_no_previous_events()
        .when(create(free.clone()))
        .then_expect_events(vec![set(free)]);
}

/// A change to a valid spec that breaks one rule.
type Breaks = fn(&mut PlanSpec);

#[test]
fn given_nothing_when_a_spec_breaks_a_rule_then_the_rule_it_breaks_is_named() {
    let cases: Vec<(Breaks, PlanError)> = vec![
        (|s| s.id = "".into(), PlanError::InvalidKey),
        (|s| s.id = "Gold".into(), PlanError::InvalidKey),
        (|s| s.id = "9gold".into(), PlanError::InvalidKey),
        (|s| s.id = "x".repeat(41), PlanError::InvalidKey),
        (|s| s.name = "  ".into(), PlanError::InvalidName),
        (|s| s.name = "n".repeat(81), PlanError::InvalidName),
        (|s| s.monthly_price_cents = -1, PlanError::NegativePrice),
        (|s| s.currency = "reais".into(), PlanError::InvalidCurrency),
        (|s| s.currency = "r$1".into(), PlanError::InvalidCurrency),
        (|s| s.currency = "".into(), PlanError::InvalidCurrency),
        (
            |s| s.monthly_ai_message_quota = Some(-1),
            PlanError::NegativeQuota,
        ),
        (|s| s.features = vec![" ".into()], PlanError::InvalidFeature),
        (
            |s| s.features = vec!["f".repeat(61)],
            PlanError::InvalidFeature,
        ),
        (
            |s| s.stripe_price_id = Some("price 1".into()),
            PlanError::InvalidStripePrice,
        ),
        (
            |s| s.stripe_price_id = Some("p".repeat(256)),
            PlanError::InvalidStripePrice,
        ),
    ];
    for (breaks, error) in cases {
        let mut spec = gold();
        breaks(&mut spec);
        plans()
            .given_no_previous_events()
            .when(create(spec))
            .then_expect_error(error);
    }
    let mut longest = gold();
    longest.id = "x".repeat(40);
    longest.name = "n".repeat(80);
    longest.features = vec!["f".repeat(60)];
    longest.stripe_price_id = Some("p".repeat(255));
    plans()
        .given_no_previous_events()
        .when(create(longest.clone()))
        .then_expect_events(vec![set(longest)]);
}

#[test]
fn given_a_configured_or_published_plan_when_created_again_then_it_exists_already() {
    plans()
        .given_no_previous_events()
        .when(PlanCommand::Create {
            spec: gold(),
            configured: true,
            admin_id: ADMIN,
        })
        .then_expect_error(PlanError::AlreadyExists);
    plans()
        .given(vec![set(gold())])
        .when(create(gold()))
        .then_expect_error(PlanError::AlreadyExists);
}

#[test]
fn given_a_plan_when_another_admin_edits_its_price_then_the_new_spec_names_that_admin() {
    let mut dearer = gold();
    dearer.monthly_price_cents = 69_900;
    plans()
        .given(vec![set(gold())])
        .when(edit(dearer.clone(), OTHER_ADMIN))
        .then_expect_events(vec![E::PlanSet {
            spec: dearer,
            admin_id: OTHER_ADMIN,
            at: t0(),
        }]);
}

#[test]
fn given_a_plan_when_edited_to_the_same_spec_then_nothing_is_recorded() {
    plans()
        .given(vec![set(gold())])
        .when(edit(gold(), OTHER_ADMIN))
        .then_expect_events(vec![]);
}

#[test]
fn given_a_configured_plan_nobody_edited_when_an_admin_edits_it_then_its_first_spec_is_set() {
    plans()
        .given_no_previous_events()
        .when(PlanCommand::Edit {
            spec: gold(),
            configured: true,
            admin_id: ADMIN,
        })
        .then_expect_events(vec![set(gold())]);
}

#[test]
fn given_nothing_when_an_unknown_plan_is_edited_or_retired_then_it_is_not_found() {
    plans()
        .given_no_previous_events()
        .when(edit(gold(), ADMIN))
        .then_expect_error(PlanError::NotFound);
    plans()
        .given_no_previous_events()
        .when(retire(false))
        .then_expect_error(PlanError::NotFound);
}

#[test]
fn given_a_plan_when_edited_with_another_key_then_the_mismatch_is_refused() {
    let mut other = gold();
    other.id = "silver".into();
    plans()
        .given(vec![set(gold())])
        .when(edit(other, ADMIN))
        .then_expect_error(PlanError::KeyMismatch {
            plan: "gold".into(),
            spec: "silver".into(),
        });
}

#[test]
fn given_a_published_or_configured_plan_when_retired_then_it_is_retired_once() {
    plans()
        .given(vec![set(gold())])
        .when(retire(false))
        .then_expect_events(vec![retired()]);
    plans()
        .given_no_previous_events()
        .when(retire(true))
        .then_expect_events(vec![retired()]);
    plans()
        .given(vec![set(gold()), retired()])
        .when(retire(false))
        .then_expect_events(vec![]);
}

#[test]
fn given_a_retired_plan_when_edited_or_created_again_then_it_is_refused_as_retired() {
    plans()
        .given(vec![set(gold()), retired()])
        .when(edit(gold(), ADMIN))
        .then_expect_error(PlanError::Retired);
    plans()
        .given(vec![retired()])
        .when(PlanCommand::Create {
            spec: gold(),
            configured: true,
            admin_id: ADMIN,
        })
        .then_expect_error(PlanError::Retired);
}

#[test]
fn refusals_map_to_not_found_conflict_or_unprocessable() {
    assert_eq!(PlanError::NotFound.kind(), ErrorKind::NotFound);
    assert_eq!(PlanError::Retired.kind(), ErrorKind::Conflict);
    assert_eq!(PlanError::AlreadyExists.code(), "plan_exists");
    assert_eq!(PlanError::NegativePrice.kind(), ErrorKind::Unprocessable);
    assert_eq!(PlanError::InvalidCurrency.code(), "invalid_currency");
}
