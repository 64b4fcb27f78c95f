use super::*;

fn welcome(tenant_name: &str) -> Template {
    Template::Welcome {
        tenant_name: tenant_name.into(),
        login_email: "dona@padaria.example".into(),
        password: "s3nha-gerada-123".into(),
        dashboard_url: "https://app.example/login".into(),
    }
}

#[test]
fn values_are_escaped_in_html_and_left_alone_in_text() {
    let rendered = welcome("<b>Pão & Cia</b>").render(Locale::PtBr);
    assert!(rendered.html.contains("&lt;b&gt;Pão &amp; Cia&lt;/b&gt;"));
    assert!(!rendered.html.contains("<b>Pão"));
    assert!(rendered.text.contains("<b>Pão & Cia</b>"));
    assert_eq!(rendered.subject, "Bem-vindo ao atende, <b>Pão & Cia</b>");
}

#[test]
fn a_link_with_quotes_cannot_break_out_of_its_attribute() {
    let rendered = Template::PasswordReset {
        reset_url: "https://app.example/reset?token=a\"onmouseover=\"x".into(),
        valid_minutes: 60,
    }
    .render(Locale::En);
    assert!(rendered
        .html
        .contains("href=\"https://app.example/reset?token=a&quot;onmouseover=&quot;x\""));
}

#[test]
fn the_welcome_mail_shows_login_password_and_dashboard_link_in_both_bodies() {
    for locale in [Locale::PtBr, Locale::En] {
        let rendered = welcome("Padaria").render(locale);
        for body in [&rendered.text, &rendered.html] {
            assert!(body.contains("dona@padaria.example"), "{locale}: {body}");
            assert!(body.contains("s3nha-gerada-123"), "{locale}: {body}");
            assert!(
                body.contains("https://app.example/login"),
                "{locale}: {body}"
            );
        }
    }
}

#[test]
fn every_template_differs_by_locale() {
    let templates = [
        welcome("Padaria"),
        Template::PaymentFailed {
            tenant_name: "Padaria".into(),
            grace_until: "2026-12-01".into(),
            billing_url: "https://app.example/billing".into(),
        },
        Template::Suspended {
            tenant_name: "Padaria".into(),
            billing_url: "https://app.example/billing".into(),
        },
        Template::Reactivated {
            tenant_name: "Padaria".into(),
            dashboard_url: "https://app.example/".into(),
        },
        Template::AttendancePending {
            tenant_name: "Padaria".into(),
            contact: "Maria".into(),
            conversation_url: "https://app.example/conversations/1".into(),
        },
        Template::HandedOff {
            tenant_name: "Padaria".into(),
            contact: "Maria".into(),
            cause: HandoffCause::QuotaReached,
            conversation_url: "https://app.example/conversations/1".into(),
        },
        Template::AiLimitNear {
            tenant_name: "Padaria".into(),
            limit: AiLimitKind::TokensPerDay,
            used_percent: 80,
            usage_url: "https://app.example/usage".into(),
        },
        Template::PasswordReset {
            reset_url: "https://app.example/reset-password?token=t".into(),
            valid_minutes: 60,
        },
        Template::Invitation {
            tenant_name: "Padaria".into(),
            login_email: "ana@padaria.example".into(),
            accept_url: "https://app.example/set-password?token=t".into(),
            valid_hours: 48,
        },
        Template::QuotaAlert {
            tenant_name: "Padaria".into(),
            used: 800,
            quota: 1000,
            period_last_day: "2026-12-09".into(),
            billing_url: "https://app.example/billing".into(),
        },
        Template::TicketForAdmins {
            tenant_name: "Padaria".into(),
            category: "tecnico".into(),
            cause: TicketCause::AiHandedOff,
            ticket_url: "https://app.example/admin/tickets/1".into(),
        },
        Template::TicketAnswered {
            tenant_name: "Padaria".into(),
            by_ai: true,
            ticket_url: "https://app.example/tickets/1".into(),
        },
    ];
    for template in templates {
        let pt = template.render(Locale::PtBr);
        let en = template.render(Locale::En);
        assert_ne!(pt.subject, en.subject, "{}", template.name());
        assert_ne!(pt.text, en.text, "{}", template.name());
    }
}

#[test]
fn locales_come_from_language_tags_with_portuguese_by_default() {
    assert_eq!(Locale::from_tag(Some("en-US")), Locale::En);
    assert_eq!(Locale::from_tag(Some("pt")), Locale::PtBr);
    assert_eq!(Locale::from_tag(Some("fr")), Locale::PtBr);
    assert_eq!(Locale::from_tag(None), Locale::PtBr);
    assert_eq!(
        Locale::from_accept_language("fr-FR, en;q=0.8, pt;q=0.5"),
        Some(Locale::En)
    );
    assert_eq!(Locale::from_accept_language("de"), None);
}

#[test]
fn the_quota_alert_says_how_much_of_the_quota_is_used_and_what_happens_at_the_limit() {
    let template = Template::QuotaAlert {
        tenant_name: "Padaria".into(),
        used: 800,
        quota: 1000,
        period_last_day: "2026-12-09".into(),
        billing_url: "https://app.example/billing".into(),
    };
    let pt = template.render(Locale::PtBr);
    assert!(pt.text.contains("800 das 1000"), "{}", pt.text);
    assert!(
        pt.text.contains("https://app.example/billing"),
        "{}",
        pt.text
    );
    let en = template.render(Locale::En);
    assert!(en.text.contains("800 of the 1000"), "{}", en.text);
    assert!(en.text.contains("stops answering"), "{}", en.text);
}
