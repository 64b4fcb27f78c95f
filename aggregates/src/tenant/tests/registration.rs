//! Registration and the WhatsApp number.

use super::*;

#[test]
fn a_business_registers_as_a_tenant() {
    tenant()
        .given_no_previous_events()
        .when(register())
        .then_expect_events(vec![registered()]);
}

#[test]
fn registering_twice_is_refused() {
    let err = error_of(vec![registered()], register());
    assert_eq!(err, TenantError::AlreadyRegistered);
    assert_eq!(
        (err.code(), err.kind()),
        ("already_registered", ErrorKind::Conflict)
    );
}

#[test]
fn a_blank_tenant_name_is_refused() {
    let TenantCommand::RegisterTenant {
        tenant_id,
        owner_email,
        plan,
        ..
    } = register()
    else {
        unreachable!()
    };
    let blank = TenantCommand::RegisterTenant {
        tenant_id,
        name: "  ".into(),
        owner_email,
        plan,
    };
    let err = error_of(vec![], blank);
    assert_eq!(
        (err.code(), err.kind()),
        ("name_required", ErrorKind::Unprocessable)
    );
}

#[test]
fn an_owner_email_that_does_not_look_like_an_email_is_refused() {
    for bad in [
        "",
        "dona",
        "dona@",
        "@padaria.com",
        "dona@padaria",
        "do na@x.com",
        "a@b@c.com",
        "a@.com",
        "a@b..com",
    ] {
        let command = TenantCommand::RegisterTenant {
            tenant_id: TENANT,
            name: "Padaria".into(),
            owner_email: bad.into(),
            plan: "pro".into(),
        };
        let err = error_of(vec![], command);
        assert_eq!(err, TenantError::InvalidEmail, "{bad:?}");
        assert_eq!(err.kind(), ErrorKind::Unprocessable);
        assert!(!err.to_string().contains('@'), "no address in messages");
    }
}

#[test]
fn commands_before_registration_find_no_tenant() {
    for command in [
        link("111"),
        settings_command(0.5),
        TenantCommand::Reactivate,
        TenantCommand::ChangeLocale {
            locale: schemas::Locale::En,
        },
    ] {
        let err = error_of(vec![], command);
        assert_eq!(
            (err.code(), err.kind()),
            ("tenant_not_found", ErrorKind::NotFound)
        );
    }
}

#[test]
fn linking_a_free_number_claims_it() {
    tenant()
        .given(vec![registered()])
        .when(link("111"))
        .then_expect_events(vec![linked("111", None)]);
}

#[test]
fn a_number_linked_to_another_tenant_is_refused() {
    let err = with(FakeDirectory::with_owner("111", OTHER_TENANT))
        .given(vec![registered()])
        .when(link("111"))
        .inspect_result()
        .unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        ("phone_number_taken", ErrorKind::Conflict)
    );
}

#[test]
fn a_number_this_tenant_already_claimed_can_be_linked_on_retry() {
    with(FakeDirectory::with_owner("111", TENANT))
        .given(vec![registered()])
        .when(link("111"))
        .then_expect_events(vec![linked("111", None)]);
}

#[test]
fn relinking_the_same_number_records_nothing() {
    tenant()
        .given(vec![registered(), linked("111", None)])
        .when(link("111"))
        .then_expect_events(vec![]);
}

#[test]
fn linking_another_number_names_the_one_it_replaces() {
    tenant()
        .given(vec![registered(), linked("111", None)])
        .when(link("222"))
        .then_expect_events(vec![linked("222", Some("111"))]);
}

#[test]
fn a_directory_outage_is_reported_as_unavailable() {
    let down = FakeDirectory {
        down: true,
        ..FakeDirectory::default()
    };
    let err = with(down)
        .given(vec![registered()])
        .when(link("111"))
        .inspect_result()
        .unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        ("service_unavailable", ErrorKind::Unavailable)
    );
}
