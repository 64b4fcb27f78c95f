//! The admin billing views and actions (F26).

use super::fake::{app_with_stripe, form, header, received, stripe_tenant, subscription};
use crate::helpers::TestApp;
use crate::tenants::{onboard, send};
use aggregates::SubscriptionCommand;
use chrono::Utc;
use read_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

async fn page(app: &TestApp, path: &str, token: &str) -> Value {
    let resp = app.get_as(path, token).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

fn tenants_of(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["tenant_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn admins_list_subscriptions_and_payments_by_status_plan_tenant_and_day_one_page_at_a_time() {
    let (app, _stripe) = app_with_stripe(|_| {}).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let paying = stripe_tenant(&app, "Paga", "pro", "cus_a", "sub_a").await;
    let late = stripe_tenant(&app, "Atrasada", "basic", "cus_b", "sub_b").await;
    let (free, _, _) = onboard(&app, &admin, "Cortesia").await;
    subscription(
        &app,
        paying,
        SubscriptionCommand::RecordPayment {
            invoice_id: "in_a1".into(),
            amount_cents: 39_900,
            currency: "BRL".into(),
            period_end: Utc::now() + chrono::Duration::days(30),
        },
    )
    .await;
    subscription(
        &app,
        late,
        SubscriptionCommand::RecordPaymentFailure {
            invoice_id: "in_b1".into(),
            attempt: 1,
        },
    )
    .await;
    app.eventually("every subscription and payment is projected", || async {
        let subs = page(&app, "/api/v1/admin/subscriptions", &admin).await;
        let payments = page(&app, "/api/v1/admin/payments", &admin).await;
        subs["items"].as_array().unwrap().len() == 3
            && payments["items"].as_array().unwrap().len() == 2
    })
    .await;

    let all = page(&app, "/api/v1/admin/subscriptions", &admin).await;
    assert_eq!(
        tenants_of(&all),
        [free.to_string(), late.to_string(), paying.to_string()],
        "newest first"
    );
    let past_due = page(&app, "/api/v1/admin/subscriptions?status=past_due", &admin).await;
    assert_eq!(tenants_of(&past_due), [late.to_string()]);
    let item = &past_due["items"][0];
    assert_eq!(item["stripe_customer_id"], "cus_b");
    assert_eq!(item["stripe_subscription_id"], "sub_b");
    assert_eq!(item["plan"], "basic");
    assert_eq!(item["complimentary"], false);
    let pro = page(&app, "/api/v1/admin/subscriptions?plan=pro", &admin).await;
    assert_eq!(tenants_of(&pro), [free.to_string(), paying.to_string()]);
    let one = page(
        &app,
        &format!("/api/v1/admin/subscriptions?tenant={paying}"),
        &admin,
    )
    .await;
    assert_eq!(one["items"][0]["status"], "active");
    assert!(one["items"][0]["paid_until"].is_string());

    let first = page(&app, "/api/v1/admin/subscriptions?limit=2", &admin).await;
    assert_eq!(tenants_of(&first), [free.to_string(), late.to_string()]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = page(
        &app,
        &format!("/api/v1/admin/subscriptions?limit=2&cursor={cursor}"),
        &admin,
    )
    .await;
    assert_eq!(tenants_of(&second), [paying.to_string()]);
    assert!(second["next_cursor"].is_null());

    let failed = page(&app, "/api/v1/admin/payments?status=failed", &admin).await;
    assert_eq!(tenants_of(&failed), [late.to_string()]);
    assert_eq!(failed["items"][0]["invoice_id"], "in_b1");
    assert_eq!(failed["items"][0]["attempt"], 1);
    let paid = page(
        &app,
        &format!("/api/v1/admin/payments?tenant={paying}"),
        &admin,
    )
    .await;
    assert_eq!(paid["items"][0]["amount_cents"], 39_900);
    assert_eq!(paid["items"][0]["currency"], "brl");
    assert_eq!(paid["items"][0]["tenant_name"], "Paga");
    let today = Utc::now().date_naive();
    let in_range = page(
        &app,
        &format!("/api/v1/admin/payments?from={today}&to={today}"),
        &admin,
    )
    .await;
    assert_eq!(in_range["items"].as_array().unwrap().len(), 2);
    let tomorrow = today.succ_opt().unwrap();
    let later = page(
        &app,
        &format!("/api/v1/admin/payments?from={tomorrow}"),
        &admin,
    )
    .await;
    assert!(later["items"].as_array().unwrap().is_empty());
    let first = page(&app, "/api/v1/admin/payments?limit=1", &admin).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = page(
        &app,
        &format!("/api/v1/admin/payments?limit=1&cursor={cursor}"),
        &admin,
    )
    .await;
    assert_ne!(
        first["items"][0]["position"],
        second["items"][0]["position"]
    );

    for bad in [
        "/api/v1/admin/subscriptions?status=paid",
        "/api/v1/admin/subscriptions?cursor=nope",
        "/api/v1/admin/payments?status=ok",
        "/api/v1/admin/payments?from=2026-13-01",
    ] {
        assert_eq!(app.get_as(bad, &admin).await.status(), 422, "{bad}");
    }
}

#[tokio::test]
async fn an_admin_cancels_at_period_end_or_at_once_and_reactivates_through_stripe() {
    let (app, stripe) = app_with_stripe(|_| {}).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let tenant = stripe_tenant(&app, "Loja", "pro", "cus_c", "sub_c").await;
    let (free, _, _) = onboard(&app, &admin, "Cortesia").await;
    Mock::given(method("POST"))
        .and(path("/v1/subscriptions/sub_c"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "sub_c", "object": "subscription"})),
        )
        .mount(&stripe)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1/subscriptions/sub_c"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"id": "sub_c", "object": "subscription", "status": "canceled"}),
            ),
        )
        .mount(&stripe)
        .await;
    for t in [tenant, free] {
        app.eventually("the subscription is projected", || async {
            app.get_as(&format!("/api/v1/admin/subscriptions?tenant={t}"), &admin)
                .await
                .json::<Value>()
                .await
                .unwrap()["items"]
                .as_array()
                .is_some_and(|i| i.len() == 1)
        })
        .await;
    }

    let action = |path: String, body: Option<Value>| {
        let app = &app;
        let admin = admin.clone();
        async move { send(app, Method::POST, &path, body.as_ref(), &admin).await }
    };
    let resp = action(format!("/api/v1/admin/subscriptions/{tenant}/cancel"), None).await;
    assert_eq!(resp.status(), 202);
    let resp = action(
        format!("/api/v1/admin/subscriptions/{tenant}/reactivate"),
        None,
    )
    .await;
    assert_eq!(resp.status(), 202);
    let updates = received(&stripe, "POST", "/v1/subscriptions/sub_c").await;
    assert_eq!(updates.len(), 2);
    assert_eq!(form(&updates[0])["cancel_at_period_end"], "true");
    assert_eq!(form(&updates[1])["cancel_at_period_end"], "false");
    for u in &updates {
        assert!(
            header(u, "idempotency-key").is_some(),
            "every POST carries a key"
        );
    }
    let resp = action(
        format!("/api/v1/admin/subscriptions/{tenant}/cancel"),
        Some(json!({"immediately": true})),
    )
    .await;
    assert_eq!(resp.status(), 202);
    assert_eq!(
        received(&stripe, "DELETE", "/v1/subscriptions/sub_c")
            .await
            .len(),
        1
    );

    let resp = action(format!("/api/v1/admin/subscriptions/{free}/cancel"), None).await;
    assert_eq!(
        resp.status(),
        409,
        "a complimentary subscription is not Stripe's"
    );
    let resp = action(
        format!("/api/v1/admin/subscriptions/{}/cancel", Uuid::now_v7()),
        None,
    )
    .await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn billing_admin_routes_are_forbidden_to_everyone_but_admins() {
    let (app, stripe) = app_with_stripe(|_| {}).await;
    let tenant = Uuid::now_v7();
    for role in [Role::Owner, Role::Agent, Role::Auditor] {
        let (_, token) = app.signed_in(role).await;
        for (method, path) in [
            (Method::GET, "/api/v1/admin/subscriptions".to_owned()),
            (Method::GET, "/api/v1/admin/payments".to_owned()),
            (Method::GET, "/api/v1/admin/quota-alerts".to_owned()),
            (
                Method::POST,
                format!("/api/v1/admin/subscriptions/{tenant}/cancel"),
            ),
            (
                Method::POST,
                format!("/api/v1/admin/subscriptions/{tenant}/reactivate"),
            ),
            (Method::POST, "/api/v1/admin/payments/1/refund".to_owned()),
        ] {
            let resp = send(&app, method.clone(), &path, None, &token).await;
            assert_eq!(resp.status(), 403, "{role} {method} {path}");
        }
    }
    assert!(stripe
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn admins_find_subscriptions_by_part_of_the_tenant_name() {
    let (app, _stripe) = app_with_stripe(|_| {}).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let padaria = stripe_tenant(&app, "Padaria Pão Quente", "pro", "cus_p", "sub_p").await;
    let otica = stripe_tenant(&app, "Ótica 100%", "basic", "cus_o", "sub_o").await;
    app.eventually("both are projected with their names", || async {
        let all = page(&app, "/api/v1/admin/subscriptions", &admin).await;
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["tenant_name"].is_string())
            .count()
            == 2
    })
    .await;
    let found = page(&app, "/api/v1/admin/subscriptions?q=p%C3%A3o", &admin).await;
    assert_eq!(
        tenants_of(&found),
        [padaria.to_string()],
        "case and accents as typed"
    );
    let found = page(&app, "/api/v1/admin/subscriptions?q=PADARIA", &admin).await;
    assert_eq!(tenants_of(&found), [padaria.to_string()], "any case");
    let found = page(&app, "/api/v1/admin/subscriptions?q=100%25", &admin).await;
    assert_eq!(tenants_of(&found), [otica.to_string()], "% is a character");
    let found = page(&app, "/api/v1/admin/subscriptions?q=_", &admin).await;
    assert!(tenants_of(&found).is_empty(), "_ is a character too");
    let found = page(
        &app,
        "/api/v1/admin/subscriptions?q=quente&plan=basic",
        &admin,
    )
    .await;
    assert!(tenants_of(&found).is_empty(), "with the other filters");
}
