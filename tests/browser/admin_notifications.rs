//! The admins' notifications in the console (issue 18): the bell in the top bar counts what
//! the admin has not read and rises live; the page lists them, unread ones emphasised,
//! each linking to where to act; marking all read clears the bell. Clean in both themes
//! and at a phone's width.

use crate::harness::Console;
use read_api::auth::Role;
use serde_json::json;
use uuid::Uuid;

async fn create_tenant(console: &Console, admin_token: &str, name: &str) {
    let resp = console
        .app
        .post_json(
            "/api/v1/admin/tenants",
            &json!({"name": name, "plan": "pro",
                    "owner_email": format!("owner-{}@loja.example", Uuid::now_v7().simple())}),
            Some(admin_token),
        )
        .await;
    assert_eq!(resp.status(), 201, "creating {name}");
}

async fn bell_label(console: &Console) -> String {
    console
        .eval("document.querySelector('#notifications-bell').getAttribute('aria-label')")
        .await
}

#[tokio::test]
async fn an_admin_sees_the_bell_rise_live_when_a_tenant_is_created_then_marks_all_read() {
    let console = Console::start().await;
    let (admin, admin_token) = console.app.signed_in(Role::Admin).await;
    create_tenant(&console, &admin_token, "Padaria Aurora").await;

    console.sign_in(&admin).await;
    console
        .wait_until(
            "the bell counts the first tenant",
            "document.querySelector('#notifications-bell .bell-count')?.textContent === '1'",
        )
        .await;
    assert_eq!(bell_label(&console).await, "Notificações, 1 não lida");

    // Another request creates a tenant while the admin looks at another page: the bell
    // rises without a reload.
    console
        .eval::<bool>("window.__sameDocument = true; true")
        .await;
    create_tenant(&console, &admin_token, "Floricultura Ipê").await;
    console
        .wait_until(
            "the bell counts the second tenant",
            "document.querySelector('#notifications-bell .bell-count')?.textContent === '2'",
        )
        .await;
    assert!(
        console.eval::<bool>("window.__sameDocument === true").await,
        "the page was reloaded"
    );
    assert_eq!(bell_label(&console).await, "Notificações, 2 não lidas");
    console.screenshot("admin-notifications-bell").await;

    console
        .wait_for("#notifications-bell")
        .await
        .click()
        .await
        .unwrap();
    console.wait_for(".notice-list .notice-item.unread").await;
    assert_eq!(console.location().await, "/admin/notifications");
    let unread: usize = console
        .eval("document.querySelectorAll('.notice-item.unread').length")
        .await;
    assert_eq!(unread, 2);
    let first = console.text(".notice-item .notice-title").await;
    assert!(first.contains("Floricultura Ipê"), "{first}");
    let link: String = console
        .eval("document.querySelector('.notice-item .notice-actions a').getAttribute('href')")
        .await;
    assert!(link.starts_with("/admin/tenants/"), "{link}");

    // A third arrives while the page is open: it appears at the top, unread.
    create_tenant(&console, &admin_token, "Oficina Centro").await;
    console
        .wait_until(
            "the list shows the third tenant",
            "document.querySelectorAll('.notice-item.unread').length === 3",
        )
        .await;

    console.wait_for("#read-all").await.click().await.unwrap();
    console
        .wait_until(
            "every notification is read",
            "document.querySelectorAll('.notice-item.unread').length === 0
             && document.querySelectorAll('.notice-item').length === 3",
        )
        .await;
    console
        .wait_until(
            "the bell has no count",
            "!document.querySelector('#notifications-bell .bell-count')",
        )
        .await;
    assert_eq!(bell_label(&console).await, "Notificações");
    console.assert_no_js_errors().await;

    // Another admin has read nothing.
    let (_, other) = console.app.signed_in(Role::SuperAdmin).await;
    let page: serde_json::Value = console
        .app
        .get_as("/api/v1/admin/notifications", &other)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["unread"], 3);
}

#[tokio::test]
async fn the_notifications_page_is_clean_in_both_themes_and_fits_a_phone() {
    let console = Console::start().await;
    let (admin, admin_token) = console.app.signed_in(Role::Admin).await;
    for name in [
        "Padaria Aurora",
        "Floricultura Ipê com um nome bem comprido de verdade",
    ] {
        create_tenant(&console, &admin_token, name).await;
    }
    // A failed sign-in run blocks this IP: a notification of another kind, linking to
    // the security page.
    for _ in 0..5 {
        console.app.login("ninguem@x.example", "errada").await;
    }
    // The browser signs in from that IP too: lift the block (the notification stays).
    let lifted = console
        .app
        .delete_as("/api/v1/admin/ip-blocks/127.0.0.1", &admin_token)
        .await;
    assert_eq!(lifted.status(), 204);
    console.sign_in(&admin).await;
    console
        .wait_until(
            "the bell counts three",
            "document.querySelector('#notifications-bell .bell-count')?.textContent === '3'",
        )
        .await;
    // One read, so both looks show.
    console.open("/admin/notifications").await;
    console.wait_for(".notice-item.unread").await;
    console
        .wait_for(".notice-item.unread .notice-actions button")
        .await
        .click()
        .await
        .unwrap();
    console
        .wait_until(
            "one is read",
            "document.querySelectorAll('.notice-item.unread').length === 2",
        )
        .await;
    let security: bool = console
        .eval("[...document.querySelectorAll('.notice-actions a')].some(a => a.getAttribute('href') === '/admin/security')")
        .await;
    assert!(security, "the blocked IP links to the security page");

    for scheme in ["light", "dark"] {
        console.prefer_color_scheme(scheme).await;
        console.viewport(1280, 860).await;
        console.open("/admin/notifications").await;
        console.wait_for(".notice-item").await;
        console
            .assert_axe_clean(&format!("/admin/notifications ({scheme})"))
            .await;
        console
            .screenshot(&format!("admin-notifications-{scheme}"))
            .await;
    }
    console.prefer_color_scheme("light").await;
    console.viewport(360, 740).await;
    console.open("/admin/notifications").await;
    console.wait_for(".notice-item").await;
    assert!(
        !console.scrolls_sideways().await,
        "the notifications page scrolls sideways at 360 px: {:?}",
        console.too_wide().await
    );
    console
        .assert_axe_clean("/admin/notifications (phone)")
        .await;
    console.screenshot("admin-notifications-phone").await;
    console
        .wait_for("#filter-unread")
        .await
        .click()
        .await
        .unwrap();
    console
        .wait_until(
            "only unread ones",
            "document.querySelectorAll('.notice-item').length === 2",
        )
        .await;
    console.assert_no_js_errors().await;
}
