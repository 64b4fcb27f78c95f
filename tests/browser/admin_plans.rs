//! Plans managed by admins in the console (issue 18): an admin creates a plan, raises its
//! price and retires it, and the plan list buyers see follows; the page is clean in both
//! themes and fits a phone.

use crate::harness::Console;
use read_api::auth::Role;
use serde_json::Value;

/// The price of `plan` on the public plan list, if it is on sale.
async fn on_sale(console: &Console, plan: &str) -> Option<i64> {
    let body: Value = console.app.get("/api/v1/plans").await.json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == plan)
        .and_then(|p| p["monthly_price_cents"].as_i64())
}

async fn card_shows(console: &Console, what: &str, text: &str) {
    console
        .wait_until(
            what,
            &format!(
                "(document.querySelector('#plan-ouro') || {{}}).innerText?.includes({})",
                serde_json::to_string(text).unwrap()
            ),
        )
        .await;
}

#[tokio::test]
async fn an_admin_creates_a_plan_raises_its_price_and_retires_it() {
    let console = Console::start().await;
    let (admin, _) = console.app.signed_in(Role::Admin).await;
    console.sign_in(&admin).await;
    console.open("/admin/support").await;
    console.click("#main-nav a[href='/admin/plans']").await;
    console.wait_for("#plan-pro").await;
    assert!(console.text("#main-nav").await.contains("Planos"));

    console.click("#new-plan").await;
    console.fill("#plan-key", "ouro").await;
    console.fill("#plan-name", "Ouro").await;
    console.fill("#plan-price", "599.00").await;
    console.fill("#plan-currency", "BRL").await;
    console.fill("#plan-quota", "10000").await;
    console.fill("#plan-features", "ai_answers, reports").await;
    console.fill("#plan-stripe-price", "price_ouro").await;
    console.assert_axe_clean("the new plan form").await;
    console.screenshot("admin-plans-form").await;
    console.click("#plan-save").await;
    card_shows(&console, "the new plan is listed", "599,00").await;
    assert!(console.text("main .success").await.contains("Ouro"));
    assert_eq!(on_sale(&console, "ouro").await, Some(59_900));

    console.click("#edit-ouro").await;
    console.wait_for("#plan-form").await;
    let key_locked: bool = console
        .eval("document.querySelector('#plan-key').disabled")
        .await;
    assert!(key_locked, "a plan's key cannot change");
    console.fill("#plan-price", "699.00").await;
    console.click("#plan-save").await;
    card_shows(&console, "the new price shows", "699,00").await;
    console.click("#plan-ouro .plan-history summary").await;
    let history = console.text("#plan-ouro .plan-revisions").await;
    assert!(
        history.contains("699,00") && history.contains("599,00"),
        "{history}"
    );
    assert!(history.contains(&admin.email), "{history}");
    assert_eq!(on_sale(&console, "ouro").await, Some(69_900));
    console.screenshot("admin-plans-history").await;

    console.click("#retire-ouro").await;
    console.assert_axe_clean("the retire confirmation").await;
    console.click("#confirm-retire-ouro").await;
    console
        .wait_until(
            "the plan shows as retired",
            "document.querySelector('#plan-ouro.retired')",
        )
        .await;
    assert!(console.text("#plan-ouro").await.contains("Aposentado"));
    let still_editable: bool = console
        .eval("!!document.querySelector('#edit-ouro, #retire-ouro')")
        .await;
    assert!(!still_editable, "a retired plan offers no changes");
    assert_eq!(on_sale(&console, "ouro").await, None);

    for scheme in ["light", "dark"] {
        console.prefer_color_scheme(scheme).await;
        console.viewport(1280, 860).await;
        console.open("/admin/plans").await;
        console.wait_for("#plan-ouro.retired").await;
        console
            .assert_axe_clean(&format!("/admin/plans ({scheme})"))
            .await;
        console.screenshot(&format!("admin-plans-{scheme}")).await;
    }
    console.prefer_color_scheme("light").await;
    console.viewport(360, 740).await;
    console.open("/admin/plans").await;
    console.wait_for("#plan-ouro.retired").await;
    console.click("#new-plan").await;
    assert!(
        !console.scrolls_sideways().await,
        "/admin/plans scrolls sideways at 360 px: {:?}",
        console.too_wide().await
    );
    console.assert_axe_clean("/admin/plans (phone)").await;
    console.screenshot("phone-admin-plans").await;
    console.assert_no_js_errors().await;
}
