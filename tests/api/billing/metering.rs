//! Usage metering (F25): AI answers of tenants with a Stripe customer reach the Billing
//! Meter exactly once, even when an answer from Stripe is lost and the reporter restarts.

use super::fake::{app_with_stripe, form, header, received, stripe_tenant, SECRET_KEY};
use super::metering_support::answers;
use crate::helpers::TestApp;
use crate::tenants::onboard;
use integrations::stripe::{StripeClient, StripeConfig};
use read_api::auth::Role;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use workers::stripe::meter::{MeterReporter, ReporterConfig};

const METER_PATH: &str = "/v1/billing/meter_events";

fn meter_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "object": "billing.meter_event", "event_name": "atende_ai_answers",
        "identifier": "x", "livemode": false, "created": 1, "timestamp": 1,
        "payload": {}
    }))
}

/// Every report the fake received, by identifier: the values sent under it.
async fn reports(stripe: &MockServer) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for request in received(stripe, "POST", METER_PATH).await {
        let form = form(&request);
        out.entry(form["identifier"].clone())
            .or_default()
            .push(form["payload[value]"].parse().unwrap());
    }
    out
}

/// Units Stripe counts: one value per identifier (a resent identifier counts once).
fn counted(reports: &BTreeMap<String, Vec<i64>>) -> i64 {
    reports.values().map(|v| v[0]).sum()
}

async fn billable(app: &TestApp, tenant: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT COALESCE(sum(billable), 0)::int8 FROM meter_usage WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn ai_answers_of_a_stripe_customer_reach_the_meter_with_its_customer_and_stable_identifiers()
{
    let (app, stripe) = app_with_stripe(|_| {}).await;
    Mock::given(method("POST"))
        .and(path(METER_PATH))
        .respond_with(meter_ok())
        .mount(&stripe)
        .await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let tenant = stripe_tenant(&app, "Loja", "pro", "cus_meter", "sub_meter").await;
    let (free, _, _) = onboard(&app, &admin, "Cortesia").await;
    answers(&app, tenant, 3).await;
    answers(&app, free, 2).await;
    for _ in 0..500 {
        if counted(&reports(&stripe).await) >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // One more round's worth of time: nothing else may arrive.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let requests = received(&stripe, "POST", METER_PATH).await;
    assert!(!requests.is_empty());
    let prefix = format!("atende-{}-", tenant.simple());
    for request in &requests {
        let form = form(request);
        assert_eq!(form["event_name"], "atende_ai_answers");
        assert_eq!(
            form["payload[stripe_customer_id]"], "cus_meter",
            "only the Stripe tenant is reported"
        );
        assert!(
            form["identifier"].starts_with(&prefix),
            "{}",
            form["identifier"]
        );
        let ts: i64 = form["timestamp"].parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - ts).abs() < 600);
        assert_eq!(
            header(request, "idempotency-key").as_deref(),
            Some(form["identifier"].as_str())
        );
        assert_eq!(
            header(request, "authorization").as_deref(),
            Some(format!("Bearer {SECRET_KEY}").as_str())
        );
    }
    assert_eq!(counted(&reports(&stripe).await), 3, "each answer once");
    let health: Value = app.get("/health").await.json().await.unwrap();
    assert_eq!(health["stripe_usage"]["pending"], 0);
    assert_eq!(health["stripe_usage"]["failed"], 0);
}

#[tokio::test]
async fn a_report_whose_answer_was_lost_is_resent_unchanged_after_a_restart_and_no_unit_is_lost() {
    // The app's own reporter waits an hour between rounds: the test drives the rounds.
    let (app, stripe) =
        app_with_stripe(|config| config.background.billing.meter_interval_ms = 3_600_000).await;
    let tenant = stripe_tenant(&app, "Loja", "basic", "cus_crash", "sub_crash").await;
    answers(&app, tenant, 3).await;
    app.eventually("three answers are counted", || async {
        billable(&app, tenant).await == 3
    })
    .await;

    // Stripe records the report but its answer never arrives in time.
    Mock::given(method("POST"))
        .and(path(METER_PATH))
        .respond_with(meter_ok().set_delay(Duration::from_secs(2)))
        .mount(&stripe)
        .await;
    let reporter = |timeout: Duration| {
        let client = StripeClient::new(&StripeConfig {
            secret_key: SECRET_KEY.into(),
            api_base: stripe.uri(),
            timeout,
        })
        .unwrap();
        MeterReporter::new(
            app.db.pool.clone(),
            client,
            ReporterConfig {
                event_name: "atende_ai_answers".into(),
                interval: Duration::from_secs(3600),
                retry_base: Duration::from_millis(1),
                max_attempts: 10,
            },
        )
    };
    let first = reporter(Duration::from_millis(200)).round().await.unwrap();
    assert_eq!(
        (first.written, first.reported, first.failed_attempts),
        (1, 0, 1)
    );
    let health: Value = app.get("/health").await.json().await.unwrap();
    assert_eq!(
        health["stripe_usage"]["pending"], 1,
        "the lost report waits for a retry"
    );

    // The process dies; meanwhile two more answers are counted.
    answers(&app, tenant, 2).await;
    app.eventually("five answers are counted", || async {
        billable(&app, tenant).await == 5
    })
    .await;
    let before_crash = received(&stripe, "POST", METER_PATH).await;
    assert_eq!(before_crash.len(), 1, "Stripe got the first report");
    stripe.reset().await;
    Mock::given(method("POST"))
        .and(path(METER_PATH))
        .respond_with(meter_ok())
        .mount(&stripe)
        .await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let restarted = reporter(Duration::from_secs(5));
    let round = restarted.round().await.unwrap();
    assert_eq!(
        (round.written, round.reported, round.failed_attempts),
        (1, 2, 0)
    );
    let idle = restarted.round().await.unwrap();
    assert_eq!(
        (idle.written, idle.reported),
        (0, 0),
        "nothing is sent twice"
    );

    let mut sent = reports(&stripe).await;
    for request in &before_crash {
        let form = form(request);
        sent.entry(form["identifier"].clone())
            .or_default()
            .push(form["payload[value]"].parse().unwrap());
    }
    assert_eq!(sent.len(), 2, "{sent:?}");
    let values: Vec<&Vec<i64>> = sent.values().collect();
    assert!(
        values.iter().all(|v| v.iter().all(|x| *x == v[0])),
        "a resent report keeps its value: {sent:?}"
    );
    let units: Vec<i64> = sent.values().map(|v| v[0]).collect();
    assert_eq!(units.iter().sum::<i64>(), 5, "every answer once: {sent:?}");
    assert!(
        sent.contains_key(&format!(
            "atende-{}-{}-1",
            tenant.simple(),
            chrono::Utc::now().date_naive().format("%Y%m%d")
        )),
        "the first report is named by its first unit: {sent:?}"
    );
    let health: Value = app.get("/health").await.json().await.unwrap();
    assert_eq!(health["stripe_usage"]["pending"], 0);
}

#[tokio::test]
async fn a_report_stripe_refuses_for_good_is_given_up_and_the_admins_are_told_once() {
    let (app, stripe) =
        app_with_stripe(|config| config.background.billing.meter_interval_ms = 3_600_000).await;
    Mock::given(method("POST"))
        .and(path(METER_PATH))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"type": "invalid_request_error", "message": "No such customer"}
        })))
        .mount(&stripe)
        .await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let tenant = stripe_tenant(&app, "Loja", "basic", "cus_gone", "sub_gone").await;
    answers(&app, tenant, 1).await;
    app.eventually("the answer is counted", || async {
        billable(&app, tenant).await == 1
    })
    .await;
    let client = StripeClient::new(&StripeConfig {
        secret_key: SECRET_KEY.into(),
        api_base: stripe.uri(),
        timeout: Duration::from_secs(5),
    })
    .unwrap();
    let reporter = MeterReporter::new(
        app.db.pool.clone(),
        client,
        ReporterConfig {
            event_name: "atende_ai_answers".into(),
            interval: Duration::from_secs(3600),
            retry_base: Duration::from_millis(1),
            max_attempts: 10,
        },
    );
    reporter.round().await.unwrap();
    reporter.round().await.unwrap();

    let page: Value = app
        .get_as("/api/v1/admin/notifications", &admin)
        .await
        .json()
        .await
        .unwrap();
    let given_up: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "usage_report_given_up")
        .collect();
    assert_eq!(given_up.len(), 1, "{page}");
    assert!(
        given_up[0]["subject"]
            .as_str()
            .unwrap()
            .starts_with(&format!("atende-{}-", tenant.simple())),
        "{page}"
    );
    assert!(
        given_up[0]["detail"]["error"]
            .as_str()
            .unwrap()
            .contains("400"),
        "{page}"
    );
}

#[tokio::test]
async fn two_reporters_running_at_once_send_a_due_report_to_stripe_exactly_once() {
    // The app's own reporter waits an hour between rounds: two others stand for two
    // `atende worker` processes with the billing part.
    let (app, stripe) =
        app_with_stripe(|config| config.background.billing.meter_interval_ms = 3_600_000).await;
    Mock::given(method("POST"))
        .and(path(METER_PATH))
        .respond_with(ResponseTemplate::new(503))
        .mount(&stripe)
        .await;
    let tenant = stripe_tenant(&app, "Loja", "basic", "cus_two", "sub_two").await;
    answers(&app, tenant, 2).await;
    app.eventually("two answers are counted", || async {
        billable(&app, tenant).await == 2
    })
    .await;
    let reporter = || {
        let client = StripeClient::new(&StripeConfig {
            secret_key: SECRET_KEY.into(),
            api_base: stripe.uri(),
            timeout: Duration::from_secs(5),
        })
        .unwrap();
        MeterReporter::new(
            app.db.pool.clone(),
            client,
            ReporterConfig {
                event_name: "atende_ai_answers".into(),
                interval: Duration::from_secs(3600),
                retry_base: Duration::from_millis(1),
                max_attempts: 10,
            },
        )
    };
    let (one, two) = (reporter(), reporter());
    // A first attempt fails: the report is written and due again at once.
    let first = one.round().await.unwrap();
    assert_eq!((first.written, first.failed_attempts), (1, 1));
    stripe.reset().await;
    // Slow enough that both reporters look for due reports before either records one.
    Mock::given(method("POST"))
        .and(path(METER_PATH))
        .respond_with(meter_ok().set_delay(Duration::from_millis(400)))
        .mount(&stripe)
        .await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let (a, b) = tokio::join!(one.round(), two.round());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.reported + b.reported, 1, "{a:?} {b:?}");
    let (a, b) = tokio::join!(one.round(), two.round());
    assert_eq!(a.unwrap().reported + b.unwrap().reported, 0);
    let sent = reports(&stripe).await;
    assert_eq!(
        received(&stripe, "POST", METER_PATH).await.len(),
        1,
        "one request reached Stripe: {sent:?}"
    );
    assert_eq!(counted(&sent), 2);
}
