//! The subscription lifecycle (F23): past due, grace period, suspension, reactivation,
//! cancellation; with a clock the test moves.

use crate::helpers::TestApp;
use crate::stripe_support::*;
use aggregates::{Clock, FixedClock};
use chrono::Duration as Days;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use testkit::smtp::{ReceivedMail, SmtpSink};
use uuid::Uuid;

async fn deliver_on(app: &TestApp, clock: &FixedClock, event: &Value) {
    let resp = deliver_at(app, event, clock.now().timestamp()).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

async fn next_mail(sink: &SmtpSink, count: usize) -> ReceivedMail {
    let mails = sink.wait_for(count, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), count, "{count} mails arrived");
    mails.into_iter().last().unwrap()
}

async fn suspended(app: &TestApp, tenant: Uuid) -> bool {
    let (t, _) = app.app.bus.tenants.load(&tenant.to_string()).await.unwrap();
    t.is_suspended()
}

async fn onboarded(app: &TestApp, clock: &FixedClock, sink: &SmtpSink) -> (String, Uuid) {
    let cus = customer();
    deliver_on(
        app,
        clock,
        &checkout_completed(&cus, "dona@padaria.example", "pro", true),
    )
    .await;
    deliver_on(
        app,
        clock,
        &invoice_event("invoice.paid", &cus, "in_1", "dona@padaria.example", 1),
    )
    .await;
    next_mail(sink, 1).await;
    provisioned(app, tenant_of(&cus)).await;
    (cus.clone(), tenant_of(&cus))
}

/// The second invoice of an onboarded customer fails.
async fn payment_failed(app: &TestApp, clock: &FixedClock, cus: &str) {
    let failed = invoice_event(
        "invoice.payment_failed",
        cus,
        "in_2",
        "dona@padaria.example",
        1,
    );
    deliver_on(app, clock, &failed).await;
}

#[tokio::test]
async fn an_unpaid_subscription_is_suspended_after_the_grace_period_and_reactivated_by_a_payment() {
    let sink = SmtpSink::start().await.unwrap();
    let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
    let app = stripe_app(clock.clone(), Some(&sink)).await;
    let (cus, tenant) = onboarded(&app, &clock, &sink).await;

    // Given a failed payment: past due, the owner is told until when.
    payment_failed(&app, &clock, &cus).await;
    let mail = next_mail(&sink, 2).await;
    assert_eq!(mail.header("To").as_deref(), Some("dona@padaria.example"));
    assert!(mail
        .header("Subject")
        .unwrap()
        .starts_with("Pagamento não aprovado"));
    let grace_end = (clock.now() + Days::days(7)).format("%d/%m/%Y").to_string();
    assert!(mail.body("text/plain").unwrap().contains(&grace_end));
    let (sub, _) = app
        .app
        .bus
        .subscriptions
        .load(&tenant.to_string())
        .await
        .unwrap();
    assert_eq!(sub.status().unwrap().as_str(), "past_due");

    // When six days pass, nothing is due yet.
    clock.advance(Days::days(6));
    let fired = workers::lifecycle::expire_due(&app.db.pool, &app.app.bus, clock.as_ref())
        .await
        .unwrap();
    assert_eq!(fired, 0);
    assert!(!suspended(&app, tenant).await);

    // When the seventh ends, the deadline (stored, not in memory) fires once.
    clock.advance(Days::days(1) + Days::seconds(1));
    let pool = &app.db.pool;
    assert_eq!(
        workers::lifecycle::expire_due(pool, &app.app.bus, clock.as_ref())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        workers::lifecycle::expire_due(pool, &app.app.bus, clock.as_ref())
            .await
            .unwrap(),
        0
    );
    app.eventually("the tenant is suspended", || suspended(&app, tenant))
        .await;
    let mail = next_mail(&sink, 3).await;
    assert!(mail
        .header("Subject")
        .unwrap()
        .starts_with("Conta suspensa"));
    let events = event_types(&app, "subscription", tenant).await;
    assert_eq!(
        events.iter().filter(|e| *e == "GracePeriodExpired").count(),
        1
    );

    // Then a later payment reactivates it and says so.
    deliver_on(
        &app,
        &clock,
        &invoice_event("invoice.paid", &cus, "in_2", "dona@padaria.example", 2),
    )
    .await;
    app.eventually("the tenant is active again", || async {
        !suspended(&app, tenant).await
    })
    .await;
    let mail = next_mail(&sink, 4).await;
    assert!(mail
        .header("Subject")
        .unwrap()
        .starts_with("Conta reativada"));
    assert_eq!(
        event_types(&app, "tenant", tenant).await,
        ["TenantRegistered", "TenantSuspended", "TenantReactivated"]
    );
}

#[tokio::test]
async fn a_deleted_subscription_suspends_the_tenant_and_tells_the_owner() {
    let sink = SmtpSink::start().await.unwrap();
    let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
    let app = stripe_app(clock.clone(), Some(&sink)).await;
    let (cus, tenant) = onboarded(&app, &clock, &sink).await;
    let deleted = event(
        "customer.subscription.deleted",
        json!({
            "id": format!("sub_of_{cus}"),
            "object": "subscription",
            "customer": cus,
            "status": "canceled",
            "cancel_at_period_end": false,
            "cancellation_details": { "reason": "cancellation_requested" },
        }),
    );
    deliver_on(&app, &clock, &deleted).await;
    app.eventually("the tenant is suspended", || suspended(&app, tenant))
        .await;
    let mail = next_mail(&sink, 2).await;
    assert!(mail
        .header("Subject")
        .unwrap()
        .starts_with("Conta suspensa"));
    let (sub, _) = app
        .app
        .bus
        .subscriptions
        .load(&tenant.to_string())
        .await
        .unwrap();
    assert_eq!(sub.status().unwrap().as_str(), "cancelled");
}

#[tokio::test]
async fn with_two_grace_timers_on_one_database_a_passed_grace_period_suspends_once_with_one_mail() {
    let sink = SmtpSink::start().await.unwrap();
    let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
    let app = stripe_app(clock.clone(), Some(&sink)).await;
    let (cus, tenant) = onboarded(&app, &clock, &sink).await;
    payment_failed(&app, &clock, &cus).await;
    next_mail(&sink, 2).await;
    // Two timers as two `atende worker` processes run them: same database, own loops.
    let timer = || {
        workers::lifecycle::spawn_grace_timer(
            app.db.pool.clone(),
            app.app.bus.clone(),
            clock.clone(),
            Duration::from_millis(5),
        )
    };
    let (one, two) = (timer(), timer());
    clock.advance(Days::days(7) + Days::seconds(1));
    app.eventually("the tenant is suspended", || suspended(&app, tenant))
        .await;
    let mail = next_mail(&sink, 3).await;
    assert!(mail
        .header("Subject")
        .unwrap()
        .starts_with("Conta suspensa"));
    // Many ticks of both timers later, nothing more.
    tokio::time::sleep(Duration::from_millis(500)).await;
    one.stop().await;
    two.stop().await;
    let events = event_types(&app, "subscription", tenant).await;
    assert_eq!(
        events.iter().filter(|e| *e == "GracePeriodExpired").count(),
        1,
        "{events:?}"
    );
    assert_eq!(
        event_types(&app, "tenant", tenant).await,
        ["TenantRegistered", "TenantSuspended"]
    );
    assert_eq!(sink.received().len(), 3, "one suspension mail");
}
