//! Per-tenant AI limits (issue 18): an admin sets them, clears them back to the default.

use super::*;
use schemas::events::AiLimits;

fn set(
    requests_per_hour: Option<i64>,
    tokens_per_day: Option<i64>,
    cost_per_month_usd: Option<f64>,
) -> TenantCommand {
    TenantCommand::SetAiLimits {
        requests_per_hour,
        tokens_per_day,
        cost_per_month_usd,
    }
}

fn changed(limits: AiLimits) -> TenantEvent {
    TenantEvent::AiLimitsChanged { limits, at: t0() }
}

#[test]
fn an_admin_sets_a_tenants_own_limits_and_the_state_keeps_them() {
    let own = AiLimits {
        requests_per_hour: Some(5),
        tokens_per_day: None,
        cost_per_month_usd: Some(2.5),
    };
    tenant()
        .given(vec![registered()])
        .when(set(Some(5), None, Some(2.5)))
        .then_expect_events(vec![changed(own)]);
    let mut state = Tenant::default();
    state.apply(registered());
    assert_eq!(state.ai_limits(), AiLimits::default());
    state.apply(changed(own));
    assert_eq!(state.ai_limits(), own);
}

#[test]
fn clearing_every_limit_puts_the_tenant_back_on_the_defaults() {
    let own = AiLimits {
        requests_per_hour: Some(5),
        ..AiLimits::default()
    };
    tenant()
        .given(vec![registered(), changed(own)])
        .when(set(None, None, None))
        .then_expect_events(vec![changed(AiLimits::default())]);
}

#[test]
fn the_limits_in_force_record_nothing() {
    tenant()
        .given(vec![registered()])
        .when(set(None, None, None))
        .then_expect_events(vec![]);
    let own = AiLimits {
        tokens_per_day: Some(1000),
        ..AiLimits::default()
    };
    tenant()
        .given(vec![registered(), changed(own)])
        .when(set(None, Some(1000), None))
        .then_expect_events(vec![]);
}

#[test]
fn zero_and_each_maximum_are_accepted() {
    for (r, t, c) in [
        (0, 0, 0.0),
        (
            MAX_REQUESTS_PER_HOUR,
            MAX_TOKENS_PER_DAY,
            MAX_COST_PER_MONTH_USD,
        ),
    ] {
        tenant()
            .given(vec![registered()])
            .when(set(Some(r), Some(t), Some(c)))
            .then_expect_events(vec![changed(AiLimits {
                requests_per_hour: Some(r as u64),
                tokens_per_day: Some(t as u64),
                cost_per_month_usd: Some(c),
            })]);
    }
}

#[test]
fn a_negative_limit_one_above_its_maximum_or_nan_is_refused() {
    let refused = [
        (set(Some(-1), None, None), "requests_per_hour"),
        (
            set(Some(MAX_REQUESTS_PER_HOUR + 1), None, None),
            "requests_per_hour",
        ),
        (set(None, Some(-1), None), "tokens_per_day"),
        (
            set(None, Some(MAX_TOKENS_PER_DAY + 1), None),
            "tokens_per_day",
        ),
        (set(None, None, Some(-0.01)), "cost_per_month_usd"),
        (
            set(None, None, Some(MAX_COST_PER_MONTH_USD + 0.01)),
            "cost_per_month_usd",
        ),
        (set(None, None, Some(f64::NAN)), "cost_per_month_usd"),
        (set(None, None, Some(f64::INFINITY)), "cost_per_month_usd"),
    ];
    for (command, field) in refused {
        let err = error_of(vec![registered()], command);
        assert!(
            matches!(err, TenantError::InvalidAiLimit { limit, .. } if limit == field),
            "{err:?}"
        );
        assert_eq!(err.code(), "invalid_ai_limit");
        assert_eq!(err.kind(), ErrorKind::Unprocessable);
    }
}

#[test]
fn an_unregistered_tenant_has_no_limits_to_set() {
    let err = error_of(vec![], set(Some(1), None, None));
    assert_eq!(err, TenantError::NotFound);
}
