//! The provisioning saga over real PostgreSQL: the facts the Stripe webhook records, in
//! either order, handled twice, at once, or after a crash, provision a tenant once.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod support;

use aggregates::{SubscriptionCommand, SystemClock, TenantCommand};
use commands::checkout_owners::{self, CheckoutOwner};
use schemas::events::Plan;
use schemas::{Personal, StoredEvent};
use std::sync::Arc;
use stream::{Checkpoint, EventHandler};
use support::{env, md, Env};
use uuid::Uuid;
use workers::provisioning::Provisioning;

/// The owner's e-mail for `tenant` (each tenant's is its own: an e-mail signs in once).
fn login(tenant: Uuid) -> String {
    format!("ana+{}@padaria.example", tenant.simple())
}

fn saga(env: &Env) -> Provisioning {
    Provisioning::new(
        env.bus.clone(),
        env.pool.clone(),
        "https://painel.atende.example".parse().unwrap(),
    )
}

/// What the webhook records for a completed checkout: its owner, then the fact.
async fn checkout(env: &Env, tenant: Uuid, paid: bool) {
    let owner = CheckoutOwner {
        email: Some(login(tenant)),
        business_name: Some("Padaria Pão Quente".into()),
        locale: Some("en".into()),
        paid,
    };
    checkout_owners::remember_checkout(&env.pool, tenant, &owner)
        .await
        .unwrap();
    let record = SubscriptionCommand::RecordCheckout {
        stripe_customer_id: "cus_1".into(),
        stripe_subscription_id: "sub_1".into(),
        plan: Plan("pro".into()),
    };
    env.bus
        .subscriptions
        .execute(&tenant.to_string(), record, &md(tenant))
        .await
        .unwrap();
}

/// What the webhook records for a paid invoice.
async fn invoice(env: &Env, tenant: Uuid) {
    let record = SubscriptionCommand::RecordPayment {
        invoice_id: "in_1".into(),
        amount_cents: 39_900,
        currency: "brl".into(),
        period_end: chrono::Utc::now() + chrono::Duration::days(30),
    };
    env.bus
        .subscriptions
        .execute(&tenant.to_string(), record, &md(tenant))
        .await
        .unwrap();
}

/// Runs `saga` over `tenant`'s stored events, each in its own transaction, as a runner does.
async fn handle_all(env: &Env, saga: &Provisioning, tenant: Uuid) {
    let events: Vec<StoredEvent> = env
        .tail
        .read_after(Checkpoint::START)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.aggregate_id == tenant.to_string() && saga.wants(e))
        .collect();
    for event in events {
        let mut tx = env.pool.begin().await.unwrap();
        saga.handle(&mut tx, &event).await.unwrap();
        tx.commit().await.unwrap();
    }
}

async fn types(env: &Env, aggregate_type: &str, tenant: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT event_type FROM events WHERE aggregate_type = $1 AND aggregate_id = $2
          ORDER BY sequence",
    )
    .bind(aggregate_type)
    .bind(tenant.to_string())
    .fetch_all(&env.pool)
    .await
    .unwrap()
}

async fn count(env: &Env, sql: &str, tenant: Uuid) -> i64 {
    sqlx::query_scalar(sql)
        .bind(tenant)
        .fetch_one(&env.pool)
        .await
        .unwrap()
}

/// The tenant is registered once, in the checkout's language, with one owner, one welcome
/// mail and a started subscription, and its owner's details are dropped.
async fn assert_provisioned_once(env: &Env, tenant: Uuid) {
    assert_eq!(
        types(env, "tenant", tenant).await,
        ["TenantRegistered", "LocaleChanged"]
    );
    let subscription = types(env, "subscription", tenant).await;
    let started = subscription
        .iter()
        .filter(|t| *t == "SubscriptionStarted")
        .count();
    assert_eq!(started, 1, "{subscription:?}");
    let owners: Vec<(String, String)> =
        sqlx::query_as("SELECT email, role FROM users WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_all(&env.pool)
            .await
            .unwrap();
    assert_eq!(owners, [(login(tenant), "owner".to_owned())]);
    let welcome = count(
        env,
        "SELECT count(*) FROM mail_outbox WHERE idempotency_key = 'welcome:' || $1::text",
        tenant,
    )
    .await;
    assert_eq!(welcome, 1);
    let kept = count(
        env,
        "SELECT count(*) FROM stripe_checkout_owners WHERE tenant_id = $1",
        tenant,
    )
    .await;
    assert_eq!(kept, 0);
}

#[tokio::test]
async fn a_checkout_and_its_payment_provision_the_tenant_once_in_either_order() {
    let env = env(Arc::new(SystemClock)).await;
    let saga = saga(&env);

    // Given a paid checkout, then its invoice.
    let paid_first = Uuid::now_v7();
    checkout(&env, paid_first, true).await;
    handle_all(&env, &saga, paid_first).await;
    invoice(&env, paid_first).await;
    handle_all(&env, &saga, paid_first).await;
    assert_provisioned_once(&env, paid_first).await;
    assert_eq!(
        types(&env, "subscription", paid_first).await,
        [
            "CheckoutCompleted",
            "SubscriptionStarted",
            "PaymentSucceeded"
        ]
    );

    // Given an unpaid checkout (a boleto), which waits, then the invoice paying it.
    let unpaid_first = Uuid::now_v7();
    checkout(&env, unpaid_first, false).await;
    handle_all(&env, &saga, unpaid_first).await;
    assert!(types(&env, "tenant", unpaid_first).await.is_empty());
    invoice(&env, unpaid_first).await;
    handle_all(&env, &saga, unpaid_first).await;
    assert_provisioned_once(&env, unpaid_first).await;

    // Given the invoice before its checkout: the payment alone names no plan.
    let invoice_first = Uuid::now_v7();
    invoice(&env, invoice_first).await;
    handle_all(&env, &saga, invoice_first).await;
    assert!(types(&env, "tenant", invoice_first).await.is_empty());
    checkout(&env, invoice_first, false).await;
    handle_all(&env, &saga, invoice_first).await;
    assert_provisioned_once(&env, invoice_first).await;
    assert_eq!(
        types(&env, "subscription", invoice_first).await,
        [
            "PaymentHeld",
            "CheckoutCompleted",
            "SubscriptionStarted",
            "PaymentSucceeded"
        ]
    );
}

#[tokio::test]
async fn an_event_handled_again_or_by_two_processes_at_once_creates_no_second_owner_or_mail() {
    let env = env(Arc::new(SystemClock)).await;
    let (one, other) = (saga(&env), saga(&env));
    let tenant = Uuid::now_v7();
    checkout(&env, tenant, true).await;

    // When two processes handle the checkout at once, then one handles it again.
    tokio::join!(
        handle_all(&env, &one, tenant),
        handle_all(&env, &other, tenant)
    );
    handle_all(&env, &one, tenant).await;

    assert_provisioned_once(&env, tenant).await;
}

#[tokio::test]
async fn a_saga_that_crashed_after_registering_the_tenant_resumes_and_finishes_once() {
    let env = env(Arc::new(SystemClock)).await;
    let saga = saga(&env);
    let tenant = Uuid::now_v7();
    checkout(&env, tenant, true).await;
    // Given the first step done before the process died.
    let register = TenantCommand::RegisterTenant {
        tenant_id: tenant,
        name: "Padaria Pão Quente".into(),
        owner_email: Personal::from(login(tenant)),
        plan: Plan("pro".into()),
    };
    env.bus
        .tenants
        .execute(&tenant.to_string(), register, &md(tenant))
        .await
        .unwrap();

    // When the checkout is handled again after the restart.
    handle_all(&env, &saga, tenant).await;

    assert_provisioned_once(&env, tenant).await;
}

#[tokio::test]
async fn an_email_that_signs_in_elsewhere_stops_the_saga_without_a_retry_and_the_next_payment_finishes_it(
) {
    let env = env(Arc::new(SystemClock)).await;
    let saga = saga(&env);
    let tenant = Uuid::now_v7();
    let squatter = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, email, password_hash, role) VALUES ($1, $2, 'x', 'admin')")
        .bind(squatter)
        .bind(login(tenant))
        .execute(&env.pool)
        .await
        .unwrap();
    checkout(&env, tenant, true).await;

    // The handler succeeds (no retry would change the answer) and creates no owner.
    handle_all(&env, &saga, tenant).await;
    assert_eq!(
        types(&env, "subscription", tenant).await,
        ["CheckoutCompleted"]
    );
    let owners = count(
        &env,
        "SELECT count(*) FROM users WHERE tenant_id = $1",
        tenant,
    )
    .await;
    assert_eq!(owners, 0);

    // The cause is fixed; the invoice arrives.
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(squatter)
        .execute(&env.pool)
        .await
        .unwrap();
    invoice(&env, tenant).await;
    handle_all(&env, &saga, tenant).await;

    assert_provisioned_once(&env, tenant).await;
}
