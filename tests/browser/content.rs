//! Tutorials, announcements and the admin's own workspace in the console (issue 20): an
//! admin publishes an announcement for one plan and only that plan's tenants see its
//! banner, which stays closed once closed; a tutorial's Markdown shows and its HTML does
//! not run; an admin answers a customer in their own workspace; every new page clean in
//! both themes and at a phone's width.

use crate::harness::{Console, Tenant};
use crate::helpers::TestUser;
use aggregates::{ConversationCommand, TenantCommand};
use read_api::auth::Role;
use schemas::events::MessageContent;
use schemas::{conversation_id, Actor, CommandMetadata, Personal, Plan};
use serde_json::{json, Value};
use uuid::Uuid;

/// A tenant on `plan` with its owner, listed in the tenant directory (where audiences are
/// matched).
async fn tenant_on(console: &Console, name: &str, plan: &str) -> Tenant {
    let email = format!("owner-{}@loja.example", Uuid::now_v7().simple());
    let id = Uuid::now_v7();
    console
        .app
        .tenant_command(
            id,
            TenantCommand::RegisterTenant {
                tenant_id: id,
                name: name.into(),
                owner_email: Personal::from(email.as_str()),
                plan: Plan(plan.into()),
            },
        )
        .await;
    let owner = console.app.create_user(&email, Role::Owner, Some(id)).await;
    console
        .app
        .eventually("the directory lists the tenant", || async {
            sqlx::query_scalar::<_, String>(
                "SELECT plan FROM tenant_directory WHERE tenant_id = $1",
            )
            .bind(id)
            .fetch_optional(&console.app.db.pool)
            .await
            .unwrap()
            .as_deref()
                == Some(plan)
        })
        .await;
    Tenant { id, owner }
}

async fn sign_out(console: &Console) {
    console.click(".user-menu summary").await;
    console.click("#sign-out").await;
    console.wait_for("#email").await;
}

/// Waits until the banner's request for the announcements has been answered `n` times on
/// this page, then a moment for the answer to render.
async fn announcements_fetched(console: &Console, n: usize) {
    console
        .wait_until(
            "the announcements were fetched",
            &format!(
                "performance.getEntriesByType('resource')
                   .filter(e => e.name.includes('/api/v1/announcements?')).length >= {n}"
            ),
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

async fn banners(console: &Console) -> usize {
    console
        .eval("document.querySelectorAll('.banners .banner').length")
        .await
}

#[tokio::test]
async fn an_admin_publishes_an_announcement_for_one_plan_and_only_its_tenants_see_the_banner_until_they_close_it(
) {
    let console = Console::start().await;
    let (admin, _) = console.app.signed_in(Role::Admin).await;
    let pro = tenant_on(&console, "Loja Pro", "pro").await;
    let basic = tenant_on(&console, "Loja Basic", "basic").await;

    console.sign_in(&admin).await;
    console.open("/admin/announcements").await;
    console.click("#new-announcement").await;
    console
        .fill("#announcement-title-pt", "Manutenção no sábado")
        .await;
    console
        .fill("#announcement-title-en", "Maintenance on Saturday")
        .await;
    console.fill("#announcement-severity", "maintenance").await;
    console.fill("#announcement-audience", "plans").await;
    console.fill("#announcement-plans", "pro").await;
    console
        .fill(
            "#announcement-body-pt",
            "O painel fica **fora do ar** por uma hora.",
        )
        .await;
    console.click("#announcement-published").await;
    console.screenshot("admin-announcement-form").await;
    console
        .click("#announcement-form button[type=submit]")
        .await;
    console.wait_for("main .success").await;
    assert!(console
        .text("main table")
        .await
        .contains("Manutenção no sábado"));
    console.screenshot("admin-announcements").await;
    sign_out(&console).await;

    console.sign_in(&pro.owner).await;
    let banner = console.wait_for(".banners .banner.maintenance").await;
    let text = banner.inner_text().await.unwrap().unwrap_or_default();
    assert!(text.contains("Manutenção no sábado"), "{text}");
    assert!(text.contains("fora do ar"), "{text}");
    console
        .wait_until(
            "the body's Markdown is rendered",
            "document.querySelector('.banner .md strong')?.textContent === 'fora do ar'",
        )
        .await;
    console.screenshot("announcement-banner").await;
    console.assert_axe_clean("the banner").await;
    console.click(".banner .dismiss").await;
    console
        .wait_until(
            "the banner closes",
            "document.querySelectorAll('.banners .banner').length === 0",
        )
        .await;
    console.page.reload().await.unwrap();
    console.wait_for(".inbox").await;
    announcements_fetched(&console, 1).await;
    assert_eq!(
        banners(&console).await,
        0,
        "closed stays closed after a reload"
    );
    // Still listed among the tenant's announcements.
    console.open("/announcements").await;
    console.wait_for(".announcement-list li").await;
    assert!(console
        .text(".announcement-list")
        .await
        .contains("Manutenção no sábado"));
    console.screenshot("announcements-list").await;
    sign_out(&console).await;

    console.sign_in(&basic.owner).await;
    announcements_fetched(&console, 1).await;
    assert_eq!(
        banners(&console).await,
        0,
        "another plan's tenant sees no banner"
    );
    console.assert_no_js_errors().await;
}

/// Writes a tutorial through the admin page.
async fn write_tutorial(console: &Console, slug: &str, category: &str, title: &str, body: &str) {
    console.open("/admin/tutorials").await;
    console.click("#new-tutorial").await;
    console.fill("#tutorial-title-pt", title).await;
    console.fill("#tutorial-slug", slug).await;
    console.fill("#tutorial-category", category).await;
    console
        .fill(
            "#tutorial-video",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        )
        .await;
    console.fill("#tutorial-body-pt", body).await;
    console.click("#tutorial-published").await;
    console.click("#tutorial-form button[type=submit]").await;
    console.wait_for("main .success").await;
}

#[tokio::test]
async fn a_tutorial_shows_its_markdown_and_runs_none_of_the_html_written_in_it() {
    let console = Console::start().await;
    let (admin, _) = console.app.signed_in(Role::Admin).await;
    let tenant = console.tenant("Barbearia Navalha").await;
    console.sign_in(&admin).await;
    write_tutorial(
        &console,
        "conectar-whatsapp",
        "whatsapp",
        "Conectar WhatsApp",
        "## Passo a passo\n\nAbra o **WhatsApp** e leia o *QR code*.\n\n\
         <img src=x onerror=\"window.__ran = 'img'\">\n\n\
         <script>window.__ran = 'script'</script>\n\n\
         [Central de ajuda](https://ajuda.example/whatsapp)",
    )
    .await;
    write_tutorial(
        &console,
        "base-de-conhecimento",
        "conhecimento",
        "Escrever a base de conhecimento",
        "Escreva **perguntas e respostas**.",
    )
    .await;
    console.screenshot("admin-tutorials").await;
    sign_out(&console).await;

    console.sign_in(&tenant.owner).await;
    // The page it explains links to it.
    console.open("/whatsapp").await;
    console.click(".tutorial-link a").await;
    console.wait_for("#tutorial-body h2").await;
    assert_eq!(console.text("#page-title").await, "Conectar WhatsApp");
    assert_eq!(console.text("#tutorial-body strong").await, "WhatsApp");
    let dangerous: Value = console
        .eval(
            "({img: document.querySelectorAll('#tutorial-body img').length,
               script: document.querySelectorAll('main script').length,
               ran: window.__ran ?? null,
               target: document.querySelector('#tutorial-body a').target,
               rel: document.querySelector('#tutorial-body a').rel,
               video: document.querySelector('.video-link a').href})",
        )
        .await;
    assert_eq!(
        dangerous,
        json!({"img": 0, "script": 0, "ran": null, "target": "_blank",
               "rel": "noopener noreferrer nofollow",
               "video": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"})
    );
    console.screenshot("tutorial").await;

    // Search and categories.
    console.open("/tutorials").await;
    console.wait_for(".tutorial-list li").await;
    console.fill("#tutorial-search", "perguntas").await;
    console
        .wait_until(
            "the search narrows the list",
            "document.querySelectorAll('.tutorial-list li').length === 1
               && document.querySelector('.tutorial-list').textContent.includes('base de conhecimento')",
        )
        .await;
    console.fill("#tutorial-search", "").await;
    console.fill("#tutorial-category", "whatsapp").await;
    console
        .wait_until(
            "the category narrows the list",
            "document.querySelectorAll('.tutorial-list li').length === 1
               && document.querySelector('.tutorial-list').textContent.includes('Conectar WhatsApp')",
        )
        .await;
    console.screenshot("tutorials").await;
    console.assert_no_js_errors().await;
}

#[tokio::test]
async fn an_admin_opens_my_workspace_and_answers_a_customer_there_as_themselves() {
    let console = Console::start().await;
    let (admin, admin_token) = console.app.signed_in(Role::Admin).await;
    console.sign_in(&admin).await;
    console.click("#main-nav a[href='/admin/workspace']").await;
    console.wait_for(".workspace-bar").await;
    console.wait_for(".inbox").await;
    let opened: Value = console
        .app
        .post_json("/api/v1/admin/workspace", &json!({}), Some(&admin_token))
        .await
        .json()
        .await
        .unwrap();
    let workspace: Uuid = opened["tenant_id"].as_str().unwrap().parse().unwrap();

    // A customer writes to the workspace's business and asks for a person.
    let contact = "5511977770000";
    let conversation = conversation_id(workspace, contact);
    let md = CommandMetadata::new(Actor::system("test"), Some(workspace));
    for command in [
        ConversationCommand::ReceiveMessage {
            tenant_id: workspace,
            contact_wa_id: Personal::from(contact),
            contact_name: Some(Personal::from("Carla Souza")),
            provider_message_id: "wamid.ws-1".into(),
            content: MessageContent::Text(Personal::from("Vocês abrem no domingo?")),
            sent_at: chrono::Utc::now(),
        },
        ConversationCommand::RequestHuman {
            question: Personal::from("falar com alguém"),
        },
    ] {
        console
            .app
            .app
            .bus
            .conversations
            .execute(&conversation.to_string(), command, &md)
            .await
            .unwrap();
    }
    // A reload keeps the admin in the workspace.
    console.page.reload().await.unwrap();
    console.wait_for(".workspace-bar").await;
    console.click("[data-conversation]").await;
    console.wait_for("#messages .msg.customer").await;
    console.click("#reply-text").await;
    console.type_text("Abrimos sim, das 9h às 13h.").await;
    console.click(".reply button[type=submit]").await;
    console.wait_for("#messages .msg.agent").await;
    console.screenshot("workspace-conversation").await;
    let actor: Option<String> = sqlx::query_scalar(
        "SELECT metadata->>'actor_id' FROM events
          WHERE aggregate_id = $1 AND event_type = 'HumanReplied'",
    )
    .bind(conversation.to_string())
    .fetch_optional(&console.app.db.pool)
    .await
    .unwrap();
    assert_eq!(actor, Some(admin.id.to_string()), "recorded as the admin");

    // Back to the admin console.
    console.click("#leave-workspace").await;
    console.wait_for("main.admin-support").await;
    let left: bool = console
        .eval("document.querySelector('.workspace-bar') === null")
        .await;
    assert!(left, "the workspace is left");
    assert!(console.text("#main-nav").await.contains("Meu espaço"));
    console.assert_no_js_errors().await;
}

#[tokio::test]
async fn every_content_page_is_clean_in_both_themes_and_fits_a_phone() {
    let console = Console::start().await;
    let (admin, admin_token) = console.app.signed_in(Role::Admin).await;
    let tenant: TestUser = console.tenant("Ótica Visão").await.owner;
    let post = |path: &'static str, body: Value| {
        let console = &console;
        let token = admin_token.clone();
        async move {
            let resp = console.app.post_json(path, &body, Some(&token)).await;
            assert_eq!(resp.status(), 201, "{path}");
        }
    };
    post(
        "/api/v1/admin/tutorials",
        json!({"slug": "primeiros-passos", "category": "geral", "position": 1,
               "title": {"pt-BR": "Primeiros passos", "en": "First steps"},
               "body": {"pt-BR": "1. Conecte o **WhatsApp**\n2. Escreva a base\n\n| a | b |\n|---|---|\n| 1 | 2 |",
                        "en": "1. Connect **WhatsApp**"},
               "video_url": "https://vimeo.com/76979871", "published": true}),
    )
    .await;
    post(
        "/api/v1/admin/announcements",
        json!({"title": {"pt-BR": "Novidade: relatórios", "en": "New: reports"},
               "body": {"pt-BR": "Veja a página de **métricas**.", "en": ""},
               "severity": "info", "audience": {"kind": "everyone"},
               "starts_at": chrono::Utc::now() - chrono::Duration::hours(1),
               "ends_at": chrono::Utc::now() + chrono::Duration::hours(5),
               "email_owners": false, "published": true}),
    )
    .await;

    console.sign_in(&tenant).await;
    let tenant_pages = [
        ("/tutorials", ".tutorial-list li", "tutorials"),
        (
            "/tutorials/primeiros-passos",
            "#tutorial-body",
            "tutorial-page",
        ),
        ("/announcements", ".announcement-list li", "announcements"),
    ];
    let admin_pages = [
        ("/admin/tutorials", "main table", "admin-tutorials"),
        ("/admin/announcements", "main table", "admin-announcements"),
    ];
    for (pages, user) in [(&tenant_pages[..], None), (&admin_pages[..], Some(&admin))] {
        if let Some(user) = user {
            sign_out(&console).await;
            console.sign_in(user).await;
        }
        for scheme in ["light", "dark"] {
            console.prefer_color_scheme(scheme).await;
            for (path, ready, name) in pages {
                console.viewport(1280, 860).await;
                console.open(path).await;
                console.wait_for(ready).await;
                console
                    .assert_axe_clean(&format!("{path} ({scheme})"))
                    .await;
                console.screenshot(&format!("{name}-{scheme}")).await;
            }
        }
        console.prefer_color_scheme("light").await;
        for (path, ready, name) in pages {
            console.viewport(360, 740).await;
            console.open(path).await;
            console.wait_for(ready).await;
            assert!(
                !console.scrolls_sideways().await,
                "{path} scrolls sideways at 360 px: {:?}",
                console.too_wide().await
            );
            console.assert_axe_clean(&format!("{path} (phone)")).await;
            console.screenshot(&format!("phone-{name}")).await;
        }
    }
    console.assert_no_js_errors().await;
}
