//! The quota alert (F24): at 80% of the plan's AI answers in a billing period the owner is
//! e-mailed once and admins see the alert.

use super::metering_support::answers;
use crate::helpers::spawn_app_with;
use crate::tenants::onboard;
use read_api::auth::Role;
use serde_json::Value;
use std::time::Duration;
use testkit::smtp::SmtpSink;

const PLANS: &str = r#"[{"id": "pro", "name": "Pro", "monthly_price_cents": 9900,
    "currency": "brl", "monthly_ai_message_quota": 5, "features": ["ai_answers"]}]"#;

async fn alerts(app: &crate::helpers::TestApp, admin: &str) -> Vec<Value> {
    let resp = app.get_as("/api/v1/admin/quota-alerts", admin).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_owner_is_emailed_once_and_admins_notified_when_ai_answers_reach_80_percent_of_the_quota(
) {
    let sink = SmtpSink::start().await.unwrap();
    let url = sink.url();
    let app = spawn_app_with(|config| {
        config.background.plans = Some(PLANS.into());
        config.background.mail.smtp_url = Some(url);
        config.background.mail.public_url = "https://painel.atende.example".parse().unwrap();
    })
    .await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (tenant, owner, _) = onboard(&app, &admin, "Padaria").await;

    answers(&app, tenant, 3).await;
    app.eventually("three answers are metered", || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT COALESCE(sum(ai_replies), 0)::int8 FROM meter_usage WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
            == 3
    })
    .await;
    assert!(alerts(&app, &admin).await.is_empty(), "60% raises nothing");

    answers(&app, tenant, 2).await;
    app.eventually("the alert is raised", || async {
        !alerts(&app, &admin).await.is_empty()
    })
    .await;
    let mails = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.rcpt_to, std::slice::from_ref(&owner.email));
    let subject = mail.header("Subject").unwrap();
    assert!(subject.contains("Padaria"), "{subject}");
    let text = mail.body("text/plain").unwrap();
    assert!(text.contains("4 das 5"), "{text}");
    assert!(
        text.contains("https://painel.atende.example/billing"),
        "{text}"
    );

    let listed = alerts(&app, &admin).await;
    assert_eq!(
        listed.len(),
        1,
        "one alert per period, not one per answer past 80%"
    );
    assert_eq!(listed[0]["tenant_id"], tenant.to_string());
    assert_eq!(listed[0]["tenant_name"], "Padaria");
    assert_eq!(listed[0]["ai_replies"], 4);
    assert_eq!(listed[0]["quota"], 5);
    assert_eq!(listed[0]["owners_mailed"], 1);
    let more = sink.wait_for(2, Duration::from_millis(500)).await;
    assert_eq!(more.len(), 1, "the fifth answer sends no second mail");
}
