use super::*;
use crate::clock::FixedClock;
use chrono::TimeZone;
use cqrs_es::test::TestFramework;
use schemas::events::AiSpendEvent as E;

const ADMIN: Uuid = Uuid::from_u128(3);
const TENANT: Uuid = Uuid::from_u128(9);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap()
}

fn thresholds() -> TestFramework<AiSpendThreshold> {
    TestFramework::with(AiSpendServices::new(Arc::new(FixedClock::new(t0()))))
}

fn set(tenant_id: Option<Uuid>, cents: i64) -> AiSpendCommand {
    AiSpendCommand::Set {
        tenant_id,
        monthly_usd_cents: cents,
        admin_id: ADMIN,
    }
}

fn was_set(tenant_id: Option<Uuid>, cents: i64) -> E {
    E::AiSpendThresholdSet {
        tenant_id,
        monthly_usd_cents: cents,
        admin_id: ADMIN,
        at: t0(),
    }
}

#[test]
fn given_nothing_when_an_admin_sets_a_tenants_threshold_then_it_is_recorded_by_them() {
    thresholds()
        .given_no_previous_events()
        .when(set(Some(TENANT), 2_500))
        .then_expect_events(vec![was_set(Some(TENANT), 2_500)]);
}

#[test]
fn given_nothing_when_a_threshold_is_zero_or_the_maximum_then_it_is_accepted() {
    thresholds()
        .given_no_previous_events()
        .when(set(None, 0))
        .then_expect_events(vec![was_set(None, 0)]);
    thresholds()
        .given_no_previous_events()
        .when(set(None, MAX_MONTHLY_USD_CENTS))
        .then_expect_events(vec![was_set(None, MAX_MONTHLY_USD_CENTS)]);
}

#[test]
fn given_nothing_when_a_threshold_is_negative_or_above_the_maximum_then_it_is_refused() {
    for cents in [-1, MAX_MONTHLY_USD_CENTS + 1] {
        thresholds()
            .given_no_previous_events()
            .when(set(None, cents))
            .then_expect_error(AiSpendError::InvalidAmount);
    }
}

#[test]
fn given_a_threshold_when_the_same_amount_is_set_again_then_nothing_is_recorded() {
    thresholds()
        .given(vec![was_set(None, 1_000)])
        .when(set(None, 1_000))
        .then_expect_events(vec![]);
}

#[test]
fn given_a_threshold_when_it_is_cleared_then_the_clearing_is_recorded_once() {
    let clear = AiSpendCommand::Clear {
        tenant_id: Some(TENANT),
        admin_id: ADMIN,
    };
    let cleared = E::AiSpendThresholdCleared {
        tenant_id: Some(TENANT),
        admin_id: ADMIN,
        at: t0(),
    };
    thresholds()
        .given(vec![was_set(Some(TENANT), 500)])
        .when(clear.clone())
        .then_expect_events(vec![cleared.clone()]);
    thresholds()
        .given(vec![was_set(Some(TENANT), 500), cleared])
        .when(clear)
        .then_expect_events(vec![]);
}

#[test]
fn given_a_tenants_threshold_when_a_command_names_another_scope_then_it_is_refused() {
    thresholds()
        .given(vec![was_set(Some(TENANT), 500)])
        .when(set(None, 700))
        .then_expect_error(AiSpendError::ScopeMismatch);
}
