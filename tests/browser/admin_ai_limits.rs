//! Per-tenant AI limits (issue 18): an admin opens a tenant's page, sets its own limits in
//! the "Limites de IA" panel, sees them in force beside the defaults, finds the change in
//! the audit log under their name, and puts the tenant back on the defaults. Clean in both
//! themes and at a phone's width.

use crate::harness::Console;
use read_api::auth::Role;
use serde_json::Value;

/// Waits until the text of `selector` contains `text`.
async fn shows(console: &Console, selector: &str, text: &str) {
    console
        .wait_until(
            &format!("{selector} shows {text:?}"),
            &format!(
                "(document.querySelector({sel})?.textContent || '').includes({text})",
                sel = serde_json::to_string(selector).unwrap(),
                text = serde_json::to_string(text).unwrap(),
            ),
        )
        .await;
}

const REQUESTS: &str = "#ai-limits-table tr[data-limit=requests_per_hour]";
const TOKENS: &str = "#ai-limits-table tr[data-limit=tokens_per_day]";
const COST: &str = "#ai-limits-table tr[data-limit=cost_per_month_usd]";

#[tokio::test]
async fn an_admin_sets_a_tenants_ai_limits_on_its_page_sees_them_in_force_and_in_the_audit_log() {
    let console = Console::start().await;
    let (admin, _) = console.app.signed_in(Role::Admin).await;
    let tenant = console.tenant("Padaria Limite").await;
    console.sign_in(&admin).await;

    let page = format!("/admin/tenants/{}", tenant.id);
    console.open(&page).await;
    console.wait_for("#ai-limits-table").await;
    // Before: every limit is the platform's default.
    shows(&console, REQUESTS, "600").await;
    shows(&console, REQUESTS, "Padrão").await;
    shows(&console, COST, "US$").await;

    // The form is reached by keyboard, its fields by their labels.
    console.tab_to("ai-limit-requests_per_hour").await;
    console.fill("#ai-limit-requests_per_hour", "5").await;
    console.fill("#ai-limit-cost_per_month_usd", "0").await;
    console.screenshot("admin-ai-limits-form").await;
    console.click("#save-ai-limits").await;
    shows(
        &console,
        "#tenant-ai-limits",
        "valem a partir da próxima resposta",
    )
    .await;
    shows(&console, REQUESTS, "Próprio do cliente").await;
    shows(&console, COST, "Ilimitado").await;
    shows(&console, TOKENS, "Padrão").await;
    let requests = console.text(REQUESTS).await;
    assert!(
        requests.contains('5') && requests.contains("600"),
        "{requests}"
    );
    // What the responder reads for the next answer.
    let own = projections_own(&console, tenant.id).await;
    assert_eq!(
        own,
        serde_json::json!({"requests_per_hour": 5, "tokens_per_day": null, "cost_per_month_usd": 0.0})
    );

    // Light, dark and phone, with the tenant's own limits showing.
    for scheme in ["light", "dark"] {
        console.prefer_color_scheme(scheme).await;
        console.open(&page).await;
        shows(&console, REQUESTS, "Próprio do cliente").await;
        console
            .assert_axe_clean(&format!("the tenant's AI limits ({scheme})"))
            .await;
        console
            .eval::<bool>("document.querySelector('#tenant-ai-limits').scrollIntoView(), true")
            .await;
        console
            .screenshot(&format!("admin-ai-limits-{scheme}"))
            .await;
    }
    console.prefer_color_scheme("light").await;
    console.viewport(360, 740).await;
    console.open(&page).await;
    shows(&console, REQUESTS, "Próprio do cliente").await;
    assert!(
        !console.scrolls_sideways().await,
        "the tenant's page scrolls sideways at 360 px: {:?}",
        console.too_wide().await
    );
    console
        .assert_axe_clean("the tenant's AI limits (phone)")
        .await;
    console
        .eval::<bool>("document.querySelector('#tenant-ai-limits').scrollIntoView(), true")
        .await;
    console.screenshot("admin-ai-limits-phone").await;
    console.viewport(1280, 860).await;

    // The audit log shows the change with the admin as its actor.
    console
        .open(&format!("/audit/log?tenant={}&kind=action", tenant.id))
        .await;
    console
        .wait_until(
            "the limits change is in the log",
            "[...document.querySelectorAll('#log .audit-item')].some(e => e.textContent.includes('AiLimitsChanged'))",
        )
        .await;
    let entry: String = console
        .eval(
            "[...document.querySelectorAll('#log .audit-item')]
                .find(e => e.textContent.includes('AiLimitsChanged')).innerText",
        )
        .await;
    assert!(entry.contains("administrador"), "{entry}");
    assert!(entry.contains(&admin.id.to_string()), "{entry}");
    console.screenshot("admin-ai-limits-audit-log").await;

    // Back to the defaults.
    console.open(&page).await;
    shows(&console, REQUESTS, "Próprio do cliente").await;
    console.click("#clear-ai-limits").await;
    shows(&console, "#tenant-ai-limits", "voltou aos limites padrão").await;
    shows(&console, REQUESTS, "Padrão").await;
    assert!(!console.text(COST).await.contains("Ilimitado"));
    assert_eq!(
        projections_own(&console, tenant.id).await,
        serde_json::json!({"requests_per_hour": null, "tokens_per_day": null, "cost_per_month_usd": null})
    );
    console.assert_no_js_errors().await;
}

/// The tenant's own limits as the directory keeps them, once it caught up.
async fn projections_own(console: &Console, tenant: uuid::Uuid) -> Value {
    let pool = &console.app.db.pool;
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'AiLimitsChanged'",
    )
    .bind(tenant.to_string())
    .fetch_one(pool)
    .await
    .unwrap();
    console
        .app
        .eventually("the directory has the latest limits", || async {
            let seq: Option<i64> = sqlx::query_scalar(
                "SELECT last_sequence FROM tenant_directory WHERE tenant_id = $1",
            )
            .bind(tenant)
            .fetch_optional(pool)
            .await
            .unwrap();
            let max: Option<i64> =
                sqlx::query_scalar("SELECT max(sequence) FROM events WHERE aggregate_id = $1")
                    .bind(tenant.to_string())
                    .fetch_one(pool)
                    .await
                    .unwrap();
            events > 0 && seq.is_some() && seq == max
        })
        .await;
    sqlx::query_scalar("SELECT ai_limits FROM tenant_directory WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(pool)
        .await
        .unwrap()
}
