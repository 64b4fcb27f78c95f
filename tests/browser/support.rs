//! Support tickets in the console (F50): a tenant opens a ticket with a file and reads the
//! support AI's answer; an admin works it from the queue and the tenant, with the ticket
//! open in another window, sees the answer arrive without a reload; every support page,
//! tenant and admin, in both themes and at a phone's width.

use crate::harness::Console;
use read_api::auth::Role;
use serde_json::{json, Value};
use std::path::PathBuf;
use uuid::Uuid;

/// Platform knowledge with one answer: how to reconnect WhatsApp.
const KNOWLEDGE: &str = "Reconectar o WhatsApp: abra Configurações, escolha WhatsApp e clique \
                         em Reconectar número.";

/// The title of the page a role may not open.
const FORBIDDEN: &str = "Acesso restrito";

/// The first bytes of a PNG: what the API judges a file's type by.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";

/// A screenshot a tenant would attach, on disk for the file dialog.
fn screenshot_file() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atende-upload-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("print-do-erro.png");
    std::fs::write(&path, PNG).unwrap();
    path
}

/// Sets the platform knowledge the support AI answers from, as an admin through the API.
async fn with_knowledge(console: &Console, admin_token: &str) {
    let resp = console
        .app
        .client
        .put(console.url("/api/v1/admin/support-knowledge"))
        .bearer_auth(admin_token)
        .json(&json!({ "text": KNOWLEDGE }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "the knowledge is saved");
}

async fn get(console: &Console, token: &str, path: &str) -> Value {
    let resp = console.app.get_as(path, token).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

/// Clicks into the field `selector` and types `text` (accents too: CDP's key events know
/// only a US keyboard, so the text goes in as an input method would put it).
async fn type_into(console: &Console, selector: &str, text: &str) {
    console.click(selector).await;
    console.type_text(text).await;
}

/// Opens a ticket through the console's form: subject, the "tecnico" category, message
/// and, if any, a file; returns its id once its thread shows.
async fn open_ticket(
    console: &Console,
    subject: &str,
    message: &str,
    file: Option<&PathBuf>,
) -> String {
    console.click("a[href='/support']").await;
    console.click("#new-ticket").await;
    type_into(console, "#ticket-subject", subject).await;
    console
        .wait_until(
            "the categories are listed",
            "document.querySelector('#ticket-category option[value=tecnico]')",
        )
        .await;
    // A select's options are a native popup CDP cannot click: pick like the keyboard does.
    let _: bool = console
        .eval("(document.querySelector('#ticket-category').value = 'tecnico') === 'tecnico'")
        .await;
    if let Some(file) = file {
        console.choose_file("#ticket-files", file).await;
        let picked = console.text(".picked").await;
        assert!(picked.contains("print-do-erro.png"), "{picked}");
    }
    type_into(console, "#ticket-message", message).await;
    console.click("#new-ticket-form button[type=submit]").await;
    console
        .wait_until(
            "the new ticket opens",
            "/^\\/support\\/[0-9a-f-]{36}$/.test(location.pathname)",
        )
        .await;
    console.wait_for("#ticket-messages .msg.t-tenant").await;
    console
        .location()
        .await
        .trim_start_matches("/support/")
        .to_owned()
}

#[tokio::test]
async fn a_tenant_opens_a_ticket_with_a_file_reads_the_ai_answer_and_sees_the_admins_reply_live() {
    let mut console = Console::start().await;
    let (admin, admin_token) = console.app.signed_in(Role::Admin).await;
    with_knowledge(&console, &admin_token).await;
    let tenant = console.tenant("Oficina do Zé").await;
    let tenant_token = console.app.access_token(&tenant.owner).await;
    let file = screenshot_file();

    console.sign_in(&tenant.owner).await;
    let id = open_ticket(
        &console,
        "Reconectar WhatsApp",
        "Como reconectar o número do WhatsApp nas configurações?",
        Some(&file),
    )
    .await;

    let ai = console.text("#ticket-messages .msg.t-ai").await;
    assert!(ai.contains("Reconectar número"), "the AI's answer: {ai}");
    assert!(
        console
            .text(".msg.t-ai .sources summary")
            .await
            .contains('1'),
        "the answer names its one source"
    );
    let sent = console.text("#ticket-messages .msg.t-tenant .files").await;
    assert!(sent.contains("print-do-erro.png"), "{sent}");
    let row = console.text(&format!("[data-ticket='{id}']")).await;
    assert!(
        row.contains("Reconectar WhatsApp"),
        "the list shows it: {row}"
    );

    // The file downloads with the bearer token: no error shown.
    console.click(".msg.t-tenant .files button").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !console
            .eval::<bool>("!!document.querySelector('.files .error')")
            .await,
        "the download failed"
    );
    console.assert_axe_clean("a tenant's ticket").await;
    console.screenshot("support-ticket-tenant").await;

    let thread = get(&console, &tenant_token, &format!("/api/v1/tickets/{id}")).await;
    let kinds: Vec<&str> = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["author_kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["tenant", "ai"]);
    assert_eq!(
        thread["messages"][0]["attachments"][0]["name"],
        "print-do-erro.png"
    );
    assert_eq!(thread["ticket"]["category"], "tecnico");

    // The tenant keeps the ticket open; a support admin signs in elsewhere.
    let _: bool = console.eval("(window.stillTheSamePage = true)").await;
    let admin_page = console.private_page().await;
    let tenant_page = std::mem::replace(&mut console.page, admin_page);
    console.sign_in(&admin).await;
    assert_eq!(
        console.location().await,
        "/admin/overview",
        "admins land on the overview"
    );
    assert!(
        console.text("#main-nav").await.contains("Fila de suporte"),
        "the admin section of the navigation"
    );
    console.click("#main-nav a[href='/admin/support']").await;
    console.click(&format!("[data-ticket='{id}']")).await;
    console.wait_for("#ticket-messages .msg.t-ai").await;
    console.click("#assign-me").await;
    console
        .wait_until(
            "the ticket is assigned to the admin",
            "document.querySelector('#ticket-assignee').textContent.includes('você')",
        )
        .await;

    console.click("#kind-internal").await;
    type_into(
        &console,
        "#admin-reply",
        "Cliente antigo, tratar com prioridade.",
    )
    .await;
    console.click(".reply button[type=submit]").await;
    console.wait_for("#ticket-messages .msg.internal").await;
    assert!(console
        .text(".msg.internal")
        .await
        .contains("não visível ao cliente"));

    console.click("input[name=kind][value=public]").await;
    type_into(
        &console,
        "#admin-reply",
        "Olá! Reconectamos o número pelo painel.",
    )
    .await;
    console.click(".reply button[type=submit]").await;
    console
        .wait_for("#ticket-messages .msg.t-admin:not(.internal)")
        .await;
    console.assert_axe_clean("the admin's ticket").await;
    console.screenshot("support-ticket-admin").await;

    // Back at the tenant's window: the answer arrived by itself; the note did not.
    let _admin_page = std::mem::replace(&mut console.page, tenant_page);
    console
        .wait_until(
            "the admin's reply appears without a reload",
            "[...document.querySelectorAll('#ticket-messages .msg.t-admin')]
               .some(m => m.textContent.includes('Reconectamos o número'))",
        )
        .await;
    assert!(
        console
            .eval::<bool>("window.stillTheSamePage === true")
            .await,
        "no reload"
    );
    let tenant_sees: String = console
        .eval("document.querySelector('#ticket-messages').textContent")
        .await;
    assert!(
        !tenant_sees.contains("tratar com prioridade"),
        "{tenant_sees}"
    );
    console
        .screenshot("support-ticket-tenant-live-answer")
        .await;
    console.assert_no_js_errors().await;
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}

/// Checks and photographs the page at `path` once `ready` (a selector) shows.
async fn check(console: &Console, path: &str, ready: &str, name: &str) {
    console.open(path).await;
    console.wait_for(ready).await;
    console.assert_axe_clean(name).await;
    console.screenshot(name).await;
}

#[tokio::test]
async fn every_support_page_has_no_javascript_error_and_no_serious_accessibility_violation() {
    let console = Console::start().await;
    let (admin, admin_token) = console.app.signed_in(Role::Admin).await;
    with_knowledge(&console, &admin_token).await;
    let tenant = console.tenant("Padaria Pão Quente").await;

    console.sign_in(&tenant.owner).await;
    let id = open_ticket(
        &console,
        "Nota fiscal de março",
        "A nota fiscal de março não chegou no meu e-mail.",
        None,
    )
    .await;
    for scheme in ["light", "dark"] {
        console.prefer_color_scheme(scheme).await;
        check(
            &console,
            "/support",
            "#ticket-list",
            &format!("support-list-{scheme}"),
        )
        .await;
        check(
            &console,
            "/support/new",
            "#ticket-subject",
            &format!("support-new-{scheme}"),
        )
        .await;
        check(
            &console,
            &format!("/support/{id}"),
            "#ticket-messages .msg",
            &format!("support-ticket-{scheme}"),
        )
        .await;
    }
    console.prefer_color_scheme("light").await;
    console.viewport(360, 740).await;
    for (path, ready, name) in [
        ("/support".to_owned(), "#ticket-list", "support-list-phone"),
        (
            "/support/new".to_owned(),
            "#ticket-subject",
            "support-new-phone",
        ),
        (
            format!("/support/{id}"),
            "#ticket-messages .msg",
            "support-ticket-phone",
        ),
    ] {
        console.viewport(360, 740).await;
        check(&console, &path, ready, name).await;
        assert!(!console.scrolls_sideways().await, "{name} scrolls sideways");
    }
    console.viewport(1280, 860).await;

    console.click(".user-menu summary").await;
    console.click("#sign-out").await;
    console.wait_for("#email").await;
    console.sign_in(&admin).await;
    let admin_pages = [
        ("/admin/support".to_owned(), "#queue", "admin-queue"),
        (
            format!("/admin/support/{id}"),
            "#ticket-messages .msg",
            "admin-ticket",
        ),
        (
            "/admin/support-knowledge".to_owned(),
            "#support-knowledge",
            "admin-support-knowledge",
        ),
        (
            "/admin/support-categories".to_owned(),
            ".edit-table",
            "admin-categories",
        ),
    ];
    for scheme in ["light", "dark"] {
        console.prefer_color_scheme(scheme).await;
        for (path, ready, name) in &admin_pages {
            check(&console, path, ready, &format!("{name}-{scheme}")).await;
        }
    }
    console.prefer_color_scheme("light").await;
    console.open("/admin/support-knowledge").await;
    console
        .wait_until(
            "the editor shows the saved knowledge",
            "document.querySelector('#support-knowledge')?.value.includes('Reconectar número')",
        )
        .await;
    console.viewport(360, 740).await;
    for (path, ready, name) in &admin_pages {
        console.viewport(360, 740).await;
        check(&console, path, ready, &format!("{name}-phone")).await;
        assert!(!console.scrolls_sideways().await, "{name} scrolls sideways");
    }
    // The tenant pages are not the admin's: not in the navigation, refused if typed in.
    console.viewport(1280, 860).await;
    console.open("/support").await;
    console.wait_for("main h1").await;
    let nav = console.text("#main-nav").await;
    assert!(
        !nav.contains("Conversas") && !nav.contains("Suporte\n"),
        "{nav}"
    );
    assert_eq!(console.text("main h1").await, FORBIDDEN);
    console.assert_no_js_errors().await;
}
