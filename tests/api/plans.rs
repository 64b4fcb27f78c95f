//! Plans managed by admins (issue 18): create, edit and retire under `/api/v1/admin/plans`;
//! the catalogue in force reaches the plan list and checkouts, while subscriptions keep the
//! terms they bought.

use crate::helpers::{spawn_app_with, TestApp};
use crate::tenants::send;
use aggregates::SubscriptionCommand;
use chrono::Utc;
use read_api::auth::Role;
use reqwest::Method;
use schemas::Plan;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// An app selling through a fake Stripe (`basic` and `pro` have Stripe prices).
async fn app_with_stripe() -> (TestApp, MockServer) {
    let stripe = MockServer::start().await;
    let uri = stripe.uri();
    let app = spawn_app_with(|config| {
        config.background.billing.stripe_secret_key = Some("sk_test_plans".into());
        config.background.billing.stripe_api_base = uri;
        config.background.billing.stripe_prices = Some("basic=price_basic,pro=price_pro".into());
    })
    .await;
    (app, stripe)
}

/// The checkout sessions Stripe was asked for, each as its form body.
async fn received(stripe: &MockServer, method: &str, path: &str) -> Vec<String> {
    stripe
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == method && r.url.path() == path)
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect()
}

/// The Stripe price a checkout session's form body asks for.
fn price_of(form: &str) -> Option<String> {
    form.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.replace("%5B", "[").replace("%5D", "]") == "line_items[0][price]")
        .map(|(_, v)| v.to_owned())
}

fn gold(cents: i64, price: &str) -> Value {
    json!({"id": "gold", "name": "Ouro", "monthly_price_cents": cents, "currency": "BRL",
           "monthly_ai_message_quota": 10_000, "features": ["ai_answers", "reports"],
           "stripe_price_id": price})
}

async fn call(
    app: &TestApp,
    m: Method,
    path: &str,
    body: Option<&Value>,
    token: &str,
) -> (u16, Value) {
    let resp = send(app, m, path, body, token).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn mount_checkout(stripe: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "cs_test_1", "object": "checkout.session",
            "url": "https://checkout.stripe.com/c/pay/cs_test_1", "mode": "subscription"
        })))
        .mount(stripe)
        .await;
}

/// Buys `plan` and answers the status, the error code if any, and the Stripe price the
/// last session asked for.
async fn buy(
    app: &TestApp,
    stripe: &MockServer,
    plan: &str,
    key: &str,
) -> (u16, String, Option<String>) {
    let resp = app
        .client
        .post(format!("{}/api/v1/billing/checkout", app.address))
        .header("Idempotency-Key", key)
        .json(&json!({"plan": plan, "email": "ana@loja.example"}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let price = received(stripe, "POST", "/v1/checkout/sessions")
        .await
        .last()
        .and_then(|f| price_of(f));
    (
        status,
        body["code"].as_str().unwrap_or_default().to_owned(),
        price,
    )
}

async fn on_sale(app: &TestApp) -> Vec<Value> {
    let body: Value = app.get("/api/v1/plans").await.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

fn find<'a>(plans: &'a [Value], id: &str) -> Option<&'a Value> {
    plans.iter().find(|p| p["id"] == id)
}

/// A tenant paying `plan` through Stripe from now on.
async fn paying(app: &TestApp, name: &str, plan: &str) {
    let tenant = app
        .register_tenant(name, &format!("dona@{}.example", name.to_lowercase()))
        .await;
    let md = TestApp::admin_metadata(tenant);
    let subscriptions = &app.app.bus.subscriptions;
    subscriptions
        .execute(
            &tenant.to_string(),
            SubscriptionCommand::StartFromCheckout {
                tenant_id: tenant,
                stripe_customer_id: format!("cus_{name}"),
                stripe_subscription_id: format!("sub_{name}"),
                plan: Plan::from(plan),
                trial_end: None,
            },
            &md,
        )
        .await
        .unwrap();
    subscriptions
        .execute(
            &tenant.to_string(),
            SubscriptionCommand::RecordPayment {
                invoice_id: format!("in_{name}"),
                amount_cents: 1,
                currency: "brl".into(),
                period_end: Utc::now(),
            },
            &md,
        )
        .await
        .unwrap();
}

async fn mrr_once(app: &TestApp, admin: &str, paying: i64) -> Value {
    let report = || async {
        app.get_as("/api/v1/admin/reports/mrr", admin)
            .await
            .json::<Value>()
            .await
            .unwrap()
    };
    app.eventually("the subscriptions reach the reports", || async {
        report().await["paying_subscriptions"] == paying
    })
    .await;
    report().await
}

#[tokio::test]
async fn an_admin_creates_a_plan_that_is_listed_and_that_a_checkout_sells() {
    let (app, stripe) = app_with_stripe().await;
    mount_checkout(&stripe).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    assert_eq!(buy(&app, &stripe, "gold", "k0").await.1, "unknown_plan");

    let (status, created) = call(
        &app,
        Method::POST,
        "/api/v1/admin/plans",
        Some(&gold(59_900, "price_gold")),
        &admin,
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["currency"], "brl", "stored lower case");
    assert_eq!(created["configured"], false);
    assert_eq!(created["revisions"].as_array().unwrap().len(), 1);

    let plans = on_sale(&app).await;
    let listed = find(&plans, "gold").expect("gold is on sale");
    assert_eq!(listed["monthly_price_cents"], 59_900);
    assert_eq!(listed["monthly_ai_message_quota"], 10_000);
    assert_eq!(listed["purchasable"], true);
    let (status, _, price) = buy(&app, &stripe, "gold", "k1").await;
    assert_eq!(status, 200);
    assert_eq!(price.as_deref(), Some("price_gold"));
}

#[tokio::test]
async fn an_edit_reaches_new_checkouts_while_subscriptions_started_before_keep_their_price() {
    let (app, stripe) = app_with_stripe().await;
    mount_checkout(&stripe).await;
    let (admin_user, admin) = app.signed_in(Role::Admin).await;
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/admin/plans",
        Some(&gold(59_900, "price_gold")),
        &admin,
    )
    .await;
    assert_eq!(status, 201);
    paying(&app, "Antes", "gold").await;
    paying(&app, "Pro", "pro").await;
    let before = mrr_once(&app, &admin, 2).await;
    assert_eq!(before["mrr_cents"], json!({"brl": 59_900 + 39_900}));

    let (status, edited) = call(
        &app,
        Method::PUT,
        "/api/v1/admin/plans/gold",
        Some(&gold(69_900, "price_gold_2027")),
        &admin,
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["monthly_price_cents"], 69_900);
    let revisions = edited["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 2);
    assert_eq!(revisions[0]["monthly_price_cents"], 69_900, "newest first");
    assert_eq!(revisions[1]["monthly_price_cents"], 59_900);
    assert_eq!(revisions[0]["admin_email"], admin_user.email.as_str());
    // The configured `pro` is the seed an admin revises like any other plan.
    let mut pro = find(&on_sale(&app).await, "pro").unwrap().clone();
    pro["monthly_price_cents"] = json!(44_900);
    let pro_input = json!({"name": pro["name"], "monthly_price_cents": 44_900, "currency": "brl",
        "monthly_ai_message_quota": pro["monthly_ai_message_quota"], "features": pro["features"],
        "stripe_price_id": "price_pro"});
    let (status, _) = call(
        &app,
        Method::PUT,
        "/api/v1/admin/plans/pro",
        Some(&pro_input),
        &admin,
    )
    .await;
    assert_eq!(status, 200);

    assert_eq!(
        find(&on_sale(&app).await, "gold").unwrap()["monthly_price_cents"],
        69_900
    );
    let (status, _, price) = buy(&app, &stripe, "gold", "k1").await;
    assert_eq!((status, price.as_deref()), (200, Some("price_gold_2027")));
    let after = mrr_once(&app, &admin, 2).await;
    assert_eq!(
        after["mrr_cents"],
        json!({"brl": 59_900 + 39_900}),
        "history is not rewritten"
    );

    paying(&app, "Depois", "gold").await;
    let later = mrr_once(&app, &admin, 3).await;
    assert_eq!(later["mrr_cents"], json!({"brl": 59_900 + 69_900 + 39_900}));
    let gold_row = later["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["plan"] == "gold")
        .unwrap();
    assert_eq!(gold_row["subscriptions"], 2);
    assert_eq!(gold_row["amount_cents"], 59_900 + 69_900);
}

#[tokio::test]
async fn a_retired_plan_leaves_the_list_checkouts_refuse_it_and_it_changes_no_more() {
    let (app, stripe) = app_with_stripe().await;
    mount_checkout(&stripe).await;
    let (admin_user, admin) = app.signed_in(Role::Admin).await;
    call(
        &app,
        Method::POST,
        "/api/v1/admin/plans",
        Some(&gold(59_900, "price_gold")),
        &admin,
    )
    .await;
    paying(&app, "Fiel", "gold").await;

    let (status, retired) = call(
        &app,
        Method::POST,
        "/api/v1/admin/plans/gold/retire",
        None,
        &admin,
    )
    .await;
    assert_eq!(status, 200, "{retired}");
    assert_eq!(retired["retired_by"], admin_user.id.to_string());
    assert!(retired["retired_at"].is_string());
    let (status, basic) = call(
        &app,
        Method::POST,
        "/api/v1/admin/plans/basic/retire",
        None,
        &admin,
    )
    .await;
    assert_eq!((status, basic["configured"].clone()), (200, json!(true)));

    let plans = on_sale(&app).await;
    assert!(find(&plans, "gold").is_none() && find(&plans, "basic").is_none());
    assert!(find(&plans, "pro").is_some());
    let (status, code, _) = buy(&app, &stripe, "gold", "k1").await;
    assert_eq!((status, code.as_str()), (422, "plan_retired"));
    assert_eq!(buy(&app, &stripe, "basic", "k2").await.1, "plan_retired");
    assert!(received(&stripe, "POST", "/v1/checkout/sessions")
        .await
        .is_empty());

    let (status, again) = call(
        &app,
        Method::POST,
        "/api/v1/admin/plans/gold/retire",
        None,
        &admin,
    )
    .await;
    assert_eq!(
        (status, &again["retired_at"]),
        (200, &retired["retired_at"])
    );
    let (status, refused) = call(
        &app,
        Method::PUT,
        "/api/v1/admin/plans/gold",
        Some(&gold(1, "price_x")),
        &admin,
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("plan_retired"))
    );
    let (status, refused) = call(
        &app,
        Method::POST,
        "/api/v1/admin/plans",
        Some(&gold(1, "price_x")),
        &admin,
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("plan_retired"))
    );

    let (_, list) = call(&app, Method::GET, "/api/v1/admin/plans", None, &admin).await;
    let listed = find(list["items"].as_array().unwrap(), "gold")
        .expect("retired plans stay listed for admins")
        .clone();
    assert_eq!(listed["retired_at"], retired["retired_at"]);
    let mrr = mrr_once(&app, &admin, 1).await;
    assert_eq!(
        mrr["mrr_cents"],
        json!({"brl": 59_900}),
        "its subscribers keep their terms"
    );
}

#[tokio::test]
async fn bad_plans_are_refused_with_the_rule_they_break() {
    let (app, _stripe) = app_with_stripe().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let with = |field: &str, value: Value| {
        let mut body = gold(100, "price_gold");
        body[field] = value;
        body
    };
    for (body, status, code) in [
        (with("monthly_price_cents", json!(-1)), 422, "invalid_price"),
        (with("currency", json!("reais")), 422, "invalid_currency"),
        (
            with("monthly_ai_message_quota", json!(-5)),
            422,
            "invalid_quota",
        ),
        (with("name", json!("  ")), 422, "invalid_plan_name"),
        (with("id", json!("Ouro Plus")), 422, "invalid_plan_key"),
        (with("id", Value::Null), 422, "invalid_plan_key"),
        (
            with("stripe_price_id", json!("price gold")),
            422,
            "invalid_stripe_price",
        ),
        (with("id", json!("pro")), 409, "plan_exists"),
    ] {
        let (got, answer) = call(
            &app,
            Method::POST,
            "/api/v1/admin/plans",
            Some(&body),
            &admin,
        )
        .await;
        assert_eq!(
            (got, answer["code"].as_str().unwrap_or_default()),
            (status, code),
            "{body}"
        );
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{answer}"
        );
    }
    let (got, answer) = call(
        &app,
        Method::POST,
        "/api/v1/admin/plans",
        Some(&json!({"id": "x", "name": "X"})),
        &admin,
    )
    .await;
    assert!(
        (400..500).contains(&got) && answer["code"].is_string(),
        "{got} {answer}"
    );
    let (got, answer) = call(
        &app,
        Method::PUT,
        "/api/v1/admin/plans/silver",
        Some(&with("id", Value::Null)),
        &admin,
    )
    .await;
    assert_eq!(
        (got, answer["code"].as_str()),
        (404, Some("plan_not_found"))
    );
    let (got, answer) = call(
        &app,
        Method::PUT,
        "/api/v1/admin/plans/pro",
        Some(&gold(1, "p")),
        &admin,
    )
    .await;
    assert_eq!(
        (got, answer["code"].as_str()),
        (422, Some("plan_key_mismatch"))
    );
    let (got, _) = call(
        &app,
        Method::POST,
        "/api/v1/admin/plans/silver/retire",
        None,
        &admin,
    )
    .await;
    assert_eq!(got, 404);
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type = 'plan'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(count, 0, "nothing refused was recorded");
}

#[tokio::test]
async fn plan_changes_are_events_in_the_audit_log_with_the_admin_as_actor() {
    let (app, _stripe) = app_with_stripe().await;
    let (admin_user, admin) = app.signed_in(Role::Admin).await;
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    call(
        &app,
        Method::POST,
        "/api/v1/admin/plans",
        Some(&gold(59_900, "price_gold")),
        &admin,
    )
    .await;
    call(
        &app,
        Method::PUT,
        "/api/v1/admin/plans/gold",
        Some(&gold(69_900, "price_gold")),
        &admin,
    )
    .await;
    call(
        &app,
        Method::POST,
        "/api/v1/admin/plans/gold/retire",
        None,
        &admin,
    )
    .await;
    let (status, page) = call(
        &app,
        Method::GET,
        "/api/v1/audit/events?aggregate_type=plan",
        None,
        &auditor,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    let types: Vec<&str> = items
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["PlanSet", "PlanSet", "PlanRetired"]);
    for e in items {
        assert_eq!(e["aggregate_id"], "gold");
        assert_eq!(e["metadata"]["actor_id"], admin_user.id.to_string(), "{e}");
        assert_eq!(e["metadata"]["actor_kind"], "admin", "{e}");
    }
    assert_eq!(
        items[1]["payload"]["PlanSet"]["spec"]["monthly_price_cents"],
        69_900
    );
}

#[tokio::test]
async fn plan_routes_are_forbidden_to_tenant_users_and_auditors() {
    let (app, _stripe) = app_with_stripe().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    call(
        &app,
        Method::POST,
        "/api/v1/admin/plans",
        Some(&gold(59_900, "price_gold")),
        &admin,
    )
    .await;
    for role in [Role::Owner, Role::Agent, Role::Auditor] {
        let (_, token) = app.signed_in(role).await;
        for (m, p) in [
            (Method::GET, "/api/v1/admin/plans"),
            (Method::POST, "/api/v1/admin/plans"),
            (Method::PUT, "/api/v1/admin/plans/gold"),
            (Method::POST, "/api/v1/admin/plans/gold/retire"),
        ] {
            let mut body = gold(1, "price_x");
            body["id"] = json!("silver");
            let body = if m == Method::PUT {
                gold(1, "price_x")
            } else {
                body
            };
            let (status, answer) = call(&app, m.clone(), p, Some(&body), &token).await;
            assert_eq!(status, 403, "{role} {m} {p}");
            assert!(answer["code"].is_string(), "{answer}");
        }
    }
    let plans = on_sale(&app).await;
    assert_eq!(
        find(&plans, "gold").unwrap()["monthly_price_cents"],
        59_900,
        "unchanged"
    );
    assert!(find(&plans, "silver").is_none());
}
