//! The admin cockpit's overview and tenants (issue 18): an admin creates a tenant and sees
//! the owner's password once, finds the tenant in the overview and, by searching, in the
//! list; opens its page; suspends it, and its owner is refused at sign-in with a clear
//! message; reactivates it, and the owner signs in again. Every page clean in both themes
//! and at a phone's width.

use crate::harness::Console;
use read_api::auth::Role;
use serde_json::Value;
use uuid::Uuid;

async fn sign_out(console: &Console) {
    console.click(".user-menu summary").await;
    console.click("#sign-out").await;
    console.wait_for("#email").await;
}

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

/// The page at `path` once `ready` shows: axe-clean, nothing too wide at a phone's width,
/// photographed light, dark and on a phone.
async fn check(console: &Console, path: &str, ready: &str, name: &str) {
    for scheme in ["light", "dark"] {
        console.prefer_color_scheme(scheme).await;
        console.open(path).await;
        console.wait_for(ready).await;
        console
            .assert_axe_clean(&format!("{name} ({scheme})"))
            .await;
        console.screenshot(&format!("{name}-{scheme}")).await;
    }
    console.prefer_color_scheme("light").await;
    console.viewport(360, 740).await;
    console.open(path).await;
    console.wait_for(ready).await;
    // Wide tables scroll inside their own box; the page itself must not.
    assert!(
        !console.scrolls_sideways().await,
        "{name} scrolls sideways at 360 px: {:?}",
        console.too_wide().await
    );
    console.assert_axe_clean(&format!("{name} (phone)")).await;
    console.screenshot(&format!("{name}-phone")).await;
    console.viewport(1280, 860).await;
}

#[tokio::test]
async fn an_admin_creates_a_tenant_finds_it_suspends_it_so_its_owner_is_refused_and_reactivates_it()
{
    let console = Console::start().await;
    let (admin, _) = console.app.signed_in(Role::Admin).await;
    console.sign_in(&admin).await;
    // Admins land on the overview.
    console.screenshot("admin-overview-first").await;
    console.wait_for("#overview-kpis").await;
    assert!(console.location().await.ends_with("/admin/overview"));

    // Create: the owner's password is shown once, with a copy button.
    console.open("/admin/tenants").await;
    console.click("#new-tenant").await;
    console.fill("#tenant-name", "Padaria Aurora").await;
    let email = format!("dona-{}@aurora.example", Uuid::now_v7().simple());
    console.fill("#tenant-owner-email", &email).await;
    console.fill("#tenant-new-plan", "pro").await;
    console.screenshot("admin-tenants-form").await;
    console.click("#tenant-form button[type=submit]").await;
    console.wait_for("#tenant-created").await;
    let password = console.text("#owner-password").await;
    assert!(password.trim().chars().count() >= 16, "{password:?}");
    assert!(console
        .text("#password-once")
        .await
        .contains("aparece só agora"));
    console.wait_for("#copy-password").await;
    console.assert_axe_clean("the created tenant").await;
    console.screenshot("admin-tenants-created").await;
    console.click("#close-created").await;
    console
        .wait_until(
            "the password is gone",
            "!document.querySelector('#tenant-created')",
        )
        .await;
    let page: String = console.eval("document.body.innerText").await;
    assert!(!page.contains(password.trim()), "the password shows again");

    // The owner signs in once, so their page has a last sign-in.
    let login = console.app.login(&email, password.trim()).await;
    assert_eq!(login.status(), 200);

    let tenant: Uuid = sqlx::query_scalar("SELECT tenant_id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_one(&console.app.db.pool)
        .await
        .unwrap();
    console
        .app
        .eventually("the directory and the reports list the tenant", || async {
            let listed: i64 = sqlx::query_scalar(
                "SELECT (SELECT count(*) FROM tenant_directory WHERE tenant_id = $1)
                      + (SELECT count(*) FROM report_tenants WHERE tenant_id = $1)
                      + (SELECT count(*) FROM report_subscriptions WHERE tenant_id = $1)",
            )
            .bind(tenant)
            .fetch_one(&console.app.db.pool)
            .await
            .unwrap();
            listed == 3
        })
        .await;

    // The overview counts it and lists it among the latest.
    console.open("/admin/overview").await;
    shows(&console, "#recent-tenants", "Padaria Aurora").await;
    shows(&console, "#kpi-tenants", "ativos: 1").await;
    shows(&console, "#subscriptions-by-status", "Ativa").await;

    // The list finds it by searching, and a filter it does not match leaves it out.
    console.open("/admin/tenants").await;
    console.fill("#tenant-search", "auror").await;
    console.click(".tenant-filters button[type=submit]").await;
    console
        .wait_until(
            "the search is in the address",
            "location.search.includes('q=auror')",
        )
        .await;
    shows(&console, "#tenants-table", "Padaria Aurora").await;
    console.fill("#tenant-status", "suspended").await;
    console.wait_for("#tenants-empty").await;
    console.fill("#tenant-status", "").await;
    console.click("#tenants-table a").await;

    // Its page: plan, team with the owner's sign-in, timeline.
    console.wait_for("#tenant-summary").await;
    shows(&console, "#tenant-team", &email).await;
    shows(&console, "#tenant-team", "127.0.0.1").await;
    shows(&console, "#tenant-subscription", "cortesia").await;
    shows(&console, "#tenant-timeline", "TenantRegistered").await;
    shows(&console, "#tenant-usage", "US$").await;
    assert!(console
        .location()
        .await
        .ends_with(&format!("/admin/tenants/{tenant}")));

    // Rename it.
    console.click("#edit-tenant").await;
    console.fill("#edit-name", "Padaria Aurora Boreal").await;
    console.click("#tenant-edit button[type=submit]").await;
    shows(&console, "#page-title", "Padaria Aurora Boreal").await;

    // Suspend, with a reason and a confirmation.
    console.click("#suspend-tenant").await;
    console.wait_for("#suspend-reason").await;
    console.screenshot("admin-tenant-suspend-confirm").await;
    console.fill("#suspend-reason", "Pagamento em atraso").await;
    console.click("#confirm-suspend").await;
    shows(&console, "main .success", "suspenso").await;
    console.wait_for("#reactivate-tenant").await;
    shows(&console, "main .page-head", "Suspenso").await;
    shows(&console, "#tenant-timeline", "TenantSuspended").await;
    shows(&console, "#tenant-timeline", "TenantRenamed").await;
    console.assert_axe_clean("a suspended tenant's page").await;

    // The owner is refused, and told why.
    let refused = console.app.login(&email, password.trim()).await;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "tenant_suspended");
    sign_out(&console).await;
    console.click("#email").await;
    console.type_text(&email).await;
    console.click("#password").await;
    console.type_text(password.trim()).await;
    console.press("Enter").await;
    shows(&console, "#signin-error", "suspensa").await;
    console.assert_axe_clean("the refused sign-in").await;
    console.screenshot("admin-tenant-owner-refused").await;
    assert!(console.location().await.contains("/login"));

    // Reactivated, the owner signs in again.
    console.sign_in(&admin).await;
    console.open(&format!("/admin/tenants/{tenant}")).await;
    console.click("#reactivate-tenant").await;
    console.click("#confirm-reactivate").await;
    shows(&console, "main .success", "reativado").await;
    console.wait_for("#suspend-tenant").await;
    let again = console.app.login(&email, password.trim()).await;
    assert_eq!(again.status(), 200);

    check(
        &console,
        "/admin/overview",
        "#overview-kpis",
        "admin-overview",
    )
    .await;
    check(
        &console,
        "/admin/tenants",
        "#tenants-table",
        "admin-tenants",
    )
    .await;
    check(
        &console,
        &format!("/admin/tenants/{tenant}"),
        "#tenant-timeline li",
        "admin-tenant",
    )
    .await;
    console.assert_no_js_errors().await;
}
