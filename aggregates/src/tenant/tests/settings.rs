//! Bot settings, knowledge and suspension.

use super::*;

#[test]
fn bot_settings_are_recorded_whole() {
    tenant()
        .given(vec![registered()])
        .when(settings_command(0.7))
        .then_expect_events(vec![TenantEvent::BotSettingsChanged {
            settings: settings(0.7),
            at: t0(),
        }]);
}

#[test]
fn thresholds_of_exactly_0_and_1_are_accepted() {
    for threshold in [0.0, 1.0] {
        tenant()
            .given(vec![registered()])
            .when(settings_command(threshold))
            .then_expect_events(vec![TenantEvent::BotSettingsChanged {
                settings: settings(threshold),
                at: t0(),
            }]);
    }
}

#[test]
fn a_threshold_outside_0_to_1_or_nan_is_refused() {
    for threshold in [-0.01, 1.01, f64::NAN, f64::INFINITY] {
        let err = error_of(vec![registered()], settings_command(threshold));
        assert_eq!(
            (err.code(), err.kind()),
            ("invalid_confidence_threshold", ErrorKind::Unprocessable),
            "{threshold}"
        );
    }
}

#[test]
fn unchanged_bot_settings_record_nothing() {
    let changed = TenantEvent::BotSettingsChanged {
        settings: settings(0.7),
        at: t0(),
    };
    tenant()
        .given(vec![registered(), changed])
        .when(settings_command(0.7))
        .then_expect_events(vec![]);
}

fn with_keywords(keywords: &[&str]) -> TenantCommand {
    let TenantCommand::ChangeBotSettings {
        greeting,
        fallback_message,
        waiting_message,
        return_message,
        tone,
        confidence_threshold,
        ..
    } = settings_command(0.7)
    else {
        unreachable!("settings_command changes the bot settings")
    };
    TenantCommand::ChangeBotSettings {
        greeting,
        fallback_message,
        waiting_message,
        return_message,
        tone,
        confidence_threshold,
        handoff_keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
    }
}

#[test]
fn hand_off_keywords_are_kept_trimmed_once_each_without_blanks() {
    tenant()
        .given(vec![registered()])
        .when(with_keywords(&[
            " gerente ",
            "",
            "Gerente",
            "falar com alguém",
            "  ",
        ]))
        .then_expect_events(vec![TenantEvent::BotSettingsChanged {
            settings: BotSettings {
                handoff_keywords: vec!["gerente".into(), "falar com alguém".into()],
                ..settings(0.7)
            },
            at: t0(),
        }]);
}

#[test]
fn thirty_keywords_of_sixty_characters_are_accepted_one_more_or_longer_is_refused() {
    let longest = "a".repeat(MAX_HANDOFF_KEYWORD_CHARS);
    let many: Vec<String> = (0..MAX_HANDOFF_KEYWORDS).map(|i| format!("k{i}")).collect();
    for keywords in [vec![longest.clone()], many] {
        let sent: Vec<&str> = keywords.iter().map(String::as_str).collect();
        tenant()
            .given(vec![registered()])
            .when(with_keywords(&sent))
            .then_expect_events(vec![TenantEvent::BotSettingsChanged {
                settings: BotSettings {
                    handoff_keywords: keywords.clone(),
                    ..settings(0.7)
                },
                at: t0(),
            }]);
    }
    let too_long = format!("{longest}a");
    let too_many: Vec<String> = (0..=MAX_HANDOFF_KEYWORDS)
        .map(|i| format!("k{i}"))
        .collect();
    let too_many: Vec<&str> = too_many.iter().map(String::as_str).collect();
    for keywords in [vec![too_long.as_str()], too_many] {
        let err = error_of(vec![registered()], with_keywords(&keywords));
        assert_eq!(
            (err.code(), err.kind()),
            ("invalid_handoff_keywords", ErrorKind::Unprocessable),
            "{} keywords",
            keywords.len()
        );
    }
}

#[test]
fn a_new_tenant_hands_off_below_the_default_threshold_of_one_half() {
    let mut state = Tenant::default();
    state.apply(registered());
    assert_eq!(state.settings().confidence_threshold, 0.5);
}

#[test]
fn knowledge_longer_than_50000_characters_is_rejected() {
    let text = "a".repeat(MAX_KNOWLEDGE_CHARS + 1);
    let err = error_of(vec![registered()], TenantCommand::ReplaceKnowledge { text });
    assert_eq!(
        (err.code(), err.kind()),
        ("knowledge_too_long", ErrorKind::Unprocessable)
    );
    assert!(err.to_string().contains("50001"), "{err}");
}

#[test]
fn exactly_50000_characters_are_accepted_counting_multibyte_characters_as_one() {
    // 'ç' is 2 bytes and '🙂' 4 bytes: 100,000 bytes' worth would be refused if bytes counted.
    let text = format!("{}{}", "ç".repeat(25_000), "🙂".repeat(25_000));
    assert_eq!(text.chars().count(), 50_000);
    tenant()
        .given(vec![registered()])
        .when(TenantCommand::ReplaceKnowledge { text: text.clone() })
        .then_expect_events(vec![knowledge(1, &text)]);
}

#[test]
fn each_knowledge_replacement_gets_the_next_version() {
    tenant()
        .given(vec![registered(), knowledge(1, "v1")])
        .when(TenantCommand::ReplaceKnowledge { text: "v2".into() })
        .then_expect_events(vec![knowledge(2, "v2")]);
}

#[test]
fn saving_the_same_knowledge_again_records_nothing() {
    tenant()
        .given(vec![registered(), knowledge(1, "v1")])
        .when(TenantCommand::ReplaceKnowledge { text: "v1".into() })
        .then_expect_events(vec![]);
}

#[test]
fn suspending_records_the_reason_once() {
    let suspended = TenantEvent::TenantSuspended {
        reason: "payment_overdue".into(),
        at: t0(),
    };
    let suspend = || TenantCommand::Suspend {
        reason: "payment_overdue".into(),
    };
    tenant()
        .given(vec![registered()])
        .when(suspend())
        .then_expect_events(vec![suspended.clone()]);
    tenant()
        .given(vec![registered(), suspended])
        .when(suspend())
        .then_expect_events(vec![]);
}

#[test]
fn reactivating_an_active_tenant_records_nothing() {
    tenant()
        .given(vec![registered()])
        .when(TenantCommand::Reactivate)
        .then_expect_events(vec![]);
}

#[test]
fn a_suspended_tenant_can_be_reactivated() {
    let suspended = TenantEvent::TenantSuspended {
        reason: "x".into(),
        at: t0(),
    };
    tenant()
        .given(vec![registered(), suspended.clone()])
        .when(TenantCommand::Reactivate)
        .then_expect_events(vec![TenantEvent::TenantReactivated { at: t0() }]);

    let mut state = Tenant::default();
    state.apply(registered());
    state.apply(suspended);
    assert!(state.is_suspended());
    state.apply(TenantEvent::TenantReactivated { at: t0() });
    assert!(!state.is_suspended());
}

#[test]
fn a_tenant_speaks_portuguese_until_it_chooses_another_language() {
    let mut state = Tenant::default();
    state.apply(registered());
    assert_eq!(state.locale(), Locale::PtBr);
    let changed = TenantEvent::LocaleChanged {
        locale: Locale::En,
        at: t0(),
    };
    tenant()
        .given(vec![registered()])
        .when(TenantCommand::ChangeLocale { locale: Locale::En })
        .then_expect_events(vec![changed.clone()]);
    state.apply(changed);
    assert_eq!(state.locale(), Locale::En);
}

#[test]
fn choosing_the_language_in_force_records_nothing() {
    tenant()
        .given(vec![registered()])
        .when(TenantCommand::ChangeLocale {
            locale: Locale::PtBr,
        })
        .then_expect_events(vec![]);
    tenant()
        .given(vec![
            registered(),
            TenantEvent::LocaleChanged {
                locale: Locale::En,
                at: t0(),
            },
        ])
        .when(TenantCommand::ChangeLocale { locale: Locale::En })
        .then_expect_events(vec![]);
}

#[test]
fn an_onboarding_step_is_recorded_once() {
    use schemas::events::OnboardingStep;
    let live = TenantEvent::OnboardingStepCompleted {
        step: OnboardingStep::WentLive,
        at: t0(),
    };
    let go_live = TenantCommand::CompleteOnboardingStep {
        step: OnboardingStep::WentLive,
    };
    tenant()
        .given(vec![registered()])
        .when(go_live.clone())
        .then_expect_events(vec![live.clone()]);
    tenant()
        .given(vec![registered(), live])
        .when(go_live)
        .then_expect_events(vec![]);
    let err = error_of(
        vec![],
        TenantCommand::CompleteOnboardingStep {
            step: OnboardingStep::BotTried,
        },
    );
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[test]
fn an_admin_renames_a_tenant_and_the_name_in_force_records_nothing() {
    let renamed = TenantEvent::TenantRenamed {
        name: "Padaria Nova".into(),
        at: t0(),
    };
    tenant()
        .given(vec![registered()])
        .when(TenantCommand::Rename {
            name: "  Padaria Nova ".into(),
        })
        .then_expect_events(vec![renamed.clone()]);
    tenant()
        .given(vec![registered(), renamed.clone()])
        .when(TenantCommand::Rename {
            name: "Padaria Nova".into(),
        })
        .then_expect_events(vec![]);
    let mut state = Tenant::default();
    state.apply(registered());
    state.apply(renamed);
    assert_eq!(state.name(), "Padaria Nova");
}

#[test]
fn a_blank_name_or_an_unregistered_tenant_cannot_be_renamed() {
    let blank = TenantCommand::Rename { name: "  ".into() };
    assert_eq!(
        error_of(vec![registered()], blank),
        TenantError::NameRequired
    );
    let nobody = TenantCommand::Rename { name: "X".into() };
    assert_eq!(error_of(vec![], nobody), TenantError::NotFound);
}
