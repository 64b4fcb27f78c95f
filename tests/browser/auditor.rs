//! The auditor's desk (issue 18), as an auditor uses it: sign in and land on the chain's
//! verification, verify, see an event edited in SQL show as a break at its position; filter
//! the event log (personal fields sealed) and download the selection as NDJSON; read the
//! audit log's actions and refusals with their actors. Every page clean in both themes and
//! at a phone's width; admins may open the desk, tenants may not.

use crate::harness::Console;
use aggregates::TenantCommand;
use chromiumoxide::cdp::browser_protocol::browser::{
    GrantPermissionsParams, PermissionType, SetDownloadBehaviorBehavior, SetDownloadBehaviorParams,
};
use read_api::auth::Role;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The auditor's pages, with a selector that shows once each has its data.
const PAGES: &[(&str, &str, &str)] = &[
    ("/audit", "#checkpoints", "audit-chain"),
    ("/audit/events", "#events .audit-item", "audit-events"),
    ("/audit/log", "#log .audit-item", "audit-log"),
];

/// The title of the page a role may not open.
const FORBIDDEN: &str = "Acesso restrito";

/// Signs an auditor in through the sign-in page and waits for the desk.
async fn sign_in(console: &Console, email: &str, password: &str) {
    console.open("/login").await;
    console.click("#email").await;
    console.type_text(email).await;
    console.click("#password").await;
    console.type_text(password).await;
    console.press("Enter").await;
    console.wait_for(".sidenav").await;
}

/// Waits until the sealer has linked every stored event.
async fn all_sealed(console: &Console) -> i64 {
    let pool = &console.app.db.pool;
    console
        .app
        .eventually("the sealer links every event", || async {
            let (links, events): (i64, i64) = sqlx::query_as(
                "SELECT (SELECT count(*) FROM event_chain), (SELECT count(*) FROM events)",
            )
            .fetch_one(pool)
            .await
            .unwrap();
            links == events && events > 0
        })
        .await;
    sqlx::query_scalar("SELECT count(*) FROM event_chain")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The positions of the events the event log shows.
async fn positions(console: &Console) -> Vec<i64> {
    console
        .eval("[...document.querySelectorAll('#events .audit-item')].map(e => Number(e.dataset.position))")
        .await
}

async fn api(console: &Console, token: &str, path: &str) -> Value {
    let resp = console.app.get_as(path, token).await;
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

/// The one file the browser saved into `dir`, once its download has finished.
async fn downloaded(dir: &Path) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        let done: Vec<&PathBuf> = files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "ndjson"))
            .collect();
        if let [file] = done.as_slice() {
            return (*file).clone();
        }
        assert!(
            Instant::now() < deadline,
            "no NDJSON download in {dir:?}: {files:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every page of the desk, in both themes and at a phone's width, clean.
async fn every_page_is_clean(console: &Console) {
    for scheme in ["light", "dark"] {
        console.prefer_color_scheme(scheme).await;
        for (page, ready, name) in PAGES {
            console.open(page).await;
            console.wait_for(ready).await;
            console
                .assert_axe_clean(&format!("{page} ({scheme})"))
                .await;
            console.screenshot(&format!("{name}-{scheme}")).await;
        }
    }
    console.prefer_color_scheme("light").await;
    for (page, ready, name) in PAGES {
        // A full-page screenshot resets the emulated viewport: set it for each page.
        console.viewport(360, 780).await;
        console.open(page).await;
        console.wait_for(ready).await;
        assert!(
            !console.scrolls_sideways().await,
            "{page} scrolls sideways at 360 px: {:?}",
            console.too_wide().await
        );
        console.assert_axe_clean(&format!("{page} (phone)")).await;
        console.screenshot(&format!("{name}-phone")).await;
    }
    console.viewport(1280, 860).await;
}

#[tokio::test]
async fn an_auditor_lands_on_the_desk_verifies_the_chain_and_sees_an_event_edited_in_sql_as_a_break_at_its_position(
) {
    let console = Console::start().await;
    let tenant = console.tenant("Oficina do Zé").await;
    for command in [
        TenantCommand::Suspend {
            reason: "unpaid".into(),
        },
        TenantCommand::Reactivate,
    ] {
        console.app.tenant_command(tenant.id, command).await;
    }
    let sealed = all_sealed(&console).await;
    let (auditor, token) = console.app.signed_in(Role::Auditor).await;

    sign_in(&console, &auditor.email, &auditor.password).await;
    assert_eq!(
        console.location().await,
        "/audit",
        "auditors land on the desk"
    );
    let nav = console.text("#main-nav").await;
    for page in [
        "Verificação da cadeia",
        "Log de eventos",
        "Log de auditoria",
    ] {
        assert!(nav.contains(page), "{page} in {nav}");
    }
    for tenant_page in ["Conversas", "Suporte", "Fila de suporte"] {
        assert!(!nav.contains(tenant_page), "{tenant_page} in {nav}");
    }
    assert!(
        !console
            .eval::<bool>("!!document.querySelector('.user-menu a[href=\"/profile\"]')")
            .await,
        "no link to a page auditors may not open"
    );
    console.wait_for("#not-verified").await;
    console.wait_for("#checkpoints tbody tr").await;

    console.click("#verify").await;
    let checked = console.text("#checked-count").await;
    assert_eq!(checked, sealed.to_string());
    assert!(console.text("#chain-status").await.contains("íntegra"));
    let report = api(&console, &token, "/api/v1/audit/verify").await;
    let head_hash = console.text("#head-hash").await;
    assert_eq!(head_hash.len(), 64);
    assert_eq!(head_hash, report["head_hash"].as_str().unwrap());

    // The copy button puts the hash on the clipboard.
    let origin = console.url("");
    console
        .page
        .execute(
            GrantPermissionsParams::builder()
                .permission(PermissionType::ClipboardReadWrite)
                .permission(PermissionType::ClipboardSanitizedWrite)
                .origin(origin.trim_end_matches('/'))
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    console.click("#copy-head-hash").await;
    console
        .wait_until(
            "the copy is confirmed",
            "document.querySelector('.copy-row [role=status]').textContent.includes('Copiado')",
        )
        .await;
    let copied: String = console.eval("navigator.clipboard.readText()").await;
    assert_eq!(copied, head_hash);
    console.assert_axe_clean("the intact chain").await;
    console.screenshot("audit-chain-intact").await;

    // Someone edits the payload of the second event in SQL.
    let (position, link): (i64, i64) = sqlx::query_as(
        "SELECT position, link_no FROM event_chain ORDER BY link_no OFFSET 1 LIMIT 1",
    )
    .fetch_one(&console.app.db.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE events SET payload = payload || '{\"edited\": true}' WHERE position = $1")
        .bind(position)
        .execute(&console.app.db.pool)
        .await
        .unwrap();

    console.click("#verify").await;
    let shown = console.text("#chain-break").await;
    assert!(
        shown.contains(&format!("Quebra no elo {link}, posição {position}")),
        "{shown}"
    );
    assert_eq!(
        console.text("#break-reason").await,
        "O evento foi editado depois de selado."
    );
    assert_eq!(console.text("#checked-count").await, (link - 1).to_string());
    assert!(console.text("#chain-status").await.contains("quebrada"));
    console.assert_axe_clean("the broken chain").await;
    console.screenshot("audit-chain-break").await;

    // The break links to the edited event in the event log.
    console.click("#chain-break a").await;
    let first = console.wait_for("#events .audit-item").await;
    assert_eq!(
        first.attribute("data-position").await.unwrap(),
        Some(position.to_string())
    );
    console.assert_no_js_errors().await;
}

#[tokio::test]
async fn an_auditor_filters_the_event_log_downloads_the_selection_as_ndjson_and_reads_the_audit_log(
) {
    let console = Console::start().await;
    let zé = console.tenant("Oficina do Zé").await;
    console.tenant("Padaria Pão Quente").await;
    console
        .app
        .tenant_command(
            zé.id,
            TenantCommand::Suspend {
                reason: "unpaid".into(),
            },
        )
        .await;
    // A refusal for the audit log: an agent tries an admin route.
    let (agent, agent_token) = console.app.signed_in(Role::Agent).await;
    let refused = console
        .app
        .get_as("/api/v1/admin/tenants", &agent_token)
        .await;
    assert_eq!(refused.status(), 403);
    all_sealed(&console).await;
    let (auditor, token) = console.app.signed_in(Role::Auditor).await;
    sign_in(&console, &auditor.email, &auditor.password).await;

    // The event log, filtered to one tenant's own aggregate.
    console.click("#main-nav a[href='/audit/events']").await;
    console.wait_for("#events .audit-item").await;
    console.fill("#f-tenant", &zé.id.to_string()).await;
    console.fill("#f-aggregate", "tenant").await;
    console.click("#apply-filters").await;
    console
        .wait_until(
            "the filters are in the address",
            &format!("location.search.includes('tenant_id={}')", zé.id),
        )
        .await;
    let expected = api(
        &console,
        &token,
        &format!(
            "/api/v1/audit/events?tenant_id={}&aggregate_type=tenant",
            zé.id
        ),
    )
    .await;
    let expected: Vec<i64> = expected["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert_eq!(expected.len(), 2, "registered and suspended");
    let js_expected = serde_json::to_string(&expected).unwrap();
    console
        .wait_until(
            "the list shows the selection",
            &format!(
                "JSON.stringify([...document.querySelectorAll('#events .audit-item')]
                   .map(e => Number(e.dataset.position))) === '{js_expected}'"
            ),
        )
        .await;
    // Personal fields show sealed, never in the clear.
    console.click("#events .audit-item details summary").await;
    let data = console.text("#events .audit-item .json").await;
    assert!(data.contains("\"owner_email\": selado"), "{data}");
    let page_text = console.text("main").await;
    assert!(!page_text.contains(&zé.owner.email), "{page_text}");
    assert!(!page_text.contains("$pii"));
    console.assert_axe_clean("the filtered event log").await;
    console.screenshot("audit-events-filtered").await;

    // The download is the API's NDJSON of the same selection.
    let downloads = std::env::temp_dir().join(format!("atende-downloads-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&downloads).unwrap();
    console
        .page
        .execute(
            SetDownloadBehaviorParams::builder()
                .behavior(SetDownloadBehaviorBehavior::Allow)
                .download_path(downloads.to_string_lossy())
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    console.click("#download-ndjson").await;
    let file = downloaded(&downloads).await;
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let positions: Vec<i64> = lines
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, expected);
    assert_eq!(lines[0]["event_type"], "TenantRegistered");
    assert_eq!(lines[1]["event_type"], "TenantSuspended");
    assert!(lines[0]["payload"]["TenantRegistered"]["owner_email"]["$pii"].is_string());
    assert!(!text.contains(&zé.owner.email));
    let _ = std::fs::remove_dir_all(&downloads);

    // The audit log: the admin's actions with their actor, the auditor's own download
    // (traced before its first line left), and the agent's refusal.
    console.click("#main-nav a[href='/audit/log']").await;
    console.wait_for("#log .audit-item").await;
    console.fill("#f-tenant", &zé.id.to_string()).await;
    console.fill("#f-kind", "action").await;
    console.click("#apply-filters").await;
    console
        .wait_until(
            "only the tenant's actions show",
            "location.search.includes('kind=action')
               && document.querySelectorAll('#log .audit-item').length === 3
               && [...document.querySelectorAll('#log .audit-item')].every(e => e.dataset.kind === 'action')",
        )
        .await;
    let action = console.text("#log .audit-item").await;
    assert!(action.contains("TenantRegistered"), "{action}");
    let actor = console.text("#log .audit-item .audit-actor").await;
    assert_eq!(actor, "Autor: administrador admin-1");
    let download = console.text("#log .audit-item:last-child").await;
    assert!(download.contains("Baixou o log de eventos"), "{download}");
    assert!(download.contains("feito"), "{download}");
    assert!(download.contains(&auditor.id.to_string()), "{download}");
    assert!(download.contains("Alvo: log de eventos"), "{download}");
    assert!(
        download.contains(&format!("Autor: auditor {}", auditor.email)),
        "the auditor's own download names them as auditor: {download}"
    );
    console.screenshot("audit-log-actions").await;

    console.click("#clear-filters").await;
    console
        .wait_until(
            "the filters are cleared",
            "location.search === '' && document.querySelector('#f-tenant').value === ''",
        )
        .await;
    console.fill("#f-actor", &agent.id.to_string()).await;
    console.fill("#f-kind", "rejected").await;
    console.click("#apply-filters").await;
    console
        .wait_until(
            "the agent's refusal shows",
            "location.search.includes('kind=rejected')
               && document.querySelectorAll('#log .audit-item[data-kind=rejected]').length === 1",
        )
        .await;
    let refusal = console.text("#log .audit-item").await;
    assert!(refusal.contains("GET /api/v1/admin/tenants"), "{refusal}");
    assert!(refusal.contains("403"), "{refusal}");
    assert!(
        refusal.contains(&format!("atendente {}", agent.id)),
        "{refusal}"
    );
    console.assert_axe_clean("the audit log's refusals").await;
    console.screenshot("audit-log-rejected").await;

    every_page_is_clean(&console).await;
    console.assert_no_js_errors().await;
}

#[tokio::test]
async fn an_admin_may_open_the_auditors_desk_and_page_through_the_event_log_and_a_tenants_owner_may_not(
) {
    let mut console = Console::start().await;
    let tenant = console.tenant("Doceria Flor de Lis").await;
    // More events than one page holds.
    for sequence in 1..=55_i64 {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('ticket', 't-1', $1, 'TicketCommented', '1', jsonb_build_object('n', $1), '{}')",
        )
        .bind(sequence)
        .execute(&console.app.db.pool)
        .await
        .unwrap();
    }
    all_sealed(&console).await;
    let (admin, _) = console.app.signed_in(Role::Admin).await;
    sign_in(&console, &admin.email, &admin.password).await;
    console
        .wait_until(
            "admins land on their overview",
            "location.pathname === '/admin/overview'",
        )
        .await;
    let nav = console.text("#main-nav").await;
    assert!(nav.contains("Verificação da cadeia"), "{nav}");
    console.click("#main-nav a[href='/audit']").await;
    console.click("#verify").await;
    console.wait_for("#checked-count").await;
    console.click("#main-nav a[href='/audit/events']").await;
    console.wait_for("#events .audit-item").await;
    let first = positions(&console).await;
    assert_eq!(first.len(), 50);
    console.click("#page-next").await;
    console
        .wait_until(
            "the second page shows",
            "document.querySelectorAll('#events .audit-item').length === 6",
        )
        .await;
    let second = positions(&console).await;
    assert!(second[0] > first[49], "{second:?} after {first:?}");
    assert!(console.text(".pager").await.contains("Página 2"));
    console.click("#page-previous").await;
    console
        .wait_until(
            "the first page shows again",
            "document.querySelectorAll('#events .audit-item').length === 50",
        )
        .await;
    assert_eq!(positions(&console).await, first);

    let owner_page = console.private_page().await;
    console.page = owner_page;
    sign_in(&console, &tenant.owner.email, &tenant.owner.password).await;
    let nav = console.text("#main-nav").await;
    assert!(!nav.contains("Verificação da cadeia"), "{nav}");
    console.open("/audit/events").await;
    assert_eq!(console.text("main h1").await, FORBIDDEN);
    console.assert_no_js_errors().await;
}
