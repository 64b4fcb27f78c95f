//! Reports export (issue 18, F45) as an admin uses it: filters the tenants, clicks XLSX and
//! gets a real spreadsheet of exactly the rows shown; downloads the month's overview as a
//! PDF; finds both exports in the audit log under their own name. Every page with the new
//! controls clean in both themes and at a phone's width.

use crate::harness::Console;
use crate::pdf_text::pdf_text;
use calamine::{Data, Reader, Xlsx};
use chrono::{Datelike, Utc};
use read_api::auth::Role;
use std::io::Cursor;
use std::path::Path;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The file `name` once the browser has finished saving it into `dir`.
async fn downloaded(dir: &Path, name: &str) -> Vec<u8> {
    let path = dir.join(name);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let partial = std::fs::read_dir(dir).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".crdownload")
        });
        if path.exists() && !partial {
            return std::fs::read(&path).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "{name} was never saved in {dir:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
async fn an_admin_downloads_the_filtered_tenants_as_a_spreadsheet_and_the_months_overview_as_a_pdf_and_finds_both_in_the_audit_log(
) {
    let console = Console::start().await;
    let (admin, _) = console.app.signed_in(Role::Admin).await;
    for name in ["Padaria Aurora", "Padaria São Jorge", "Mercado Central"] {
        console.tenant(name).await;
    }
    console
        .app
        .eventually("the directory lists the three tenants", || async {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM tenant_directory")
                .fetch_one(&console.app.db.pool)
                .await
                .unwrap();
            n == 3
        })
        .await;
    let dir = std::env::temp_dir().join(format!("atende-downloads-{}", Uuid::now_v7()));
    console.save_downloads_to(&dir).await;
    console.sign_in(&admin).await;

    // The admin narrows the list to the bakeries, then asks for the spreadsheet.
    console.open("/admin/tenants").await;
    console.wait_for("#tenants-table").await;
    console.fill("#tenant-search", "Padaria").await;
    console.click(".tenant-filters button[type=submit]").await;
    console
        .wait_until(
            "the list shows the two bakeries only",
            "document.querySelectorAll('#tenants-table tbody tr').length === 2",
        )
        .await;
    console.click("#export-tenants-xlsx").await;
    let today = Utc::now().date_naive();
    let bytes = downloaded(&dir, &format!("tenants-{today}.xlsx")).await;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("a spreadsheet");
    let range = book.worksheet_range("tenants").expect("the tenants sheet");
    let rows: Vec<&[Data]> = range.rows().collect();
    assert_eq!(rows[0][1], Data::String("name".into()));
    let mut names: Vec<String> = rows[1..].iter().map(|r| r[1].to_string()).collect();
    names.sort();
    assert_eq!(names, ["Padaria Aurora", "Padaria São Jorge"]);
    assert!(
        rows[1..].iter().all(|r| matches!(r[5], Data::DateTime(_))),
        "registered_at is a date: {rows:?}"
    );
    check(
        &console,
        "/admin/tenants?q=Padaria",
        "#export-tenants-csv",
        "exports-tenants",
    )
    .await;

    // The month's overview as a PDF.
    console.open("/admin/overview").await;
    console.wait_for("#overview-kpis").await;
    console.click("#overview-pdf").await;
    let month = format!("{}-{:02}", today.year(), today.month());
    let pdf = downloaded(&dir, &format!("overview-{month}.pdf")).await;
    assert!(pdf.starts_with(b"%PDF-"));
    // In pt-BR, the console's language.
    let text = pdf_text(&pdf);
    assert!(text.contains("Relatório mensal"), "{text}");
    check(
        &console,
        "/admin/overview",
        "#overview-kpis",
        "exports-overview",
    )
    .await;

    // The other tables with the control.
    for (path, ready, name) in [
        (
            "/admin/subscriptions",
            "#export-subscriptions-csv",
            "exports-subscriptions",
        ),
        (
            "/admin/security",
            "#export-sign-in-attempts-csv",
            "exports-security",
        ),
        (
            "/admin/notifications",
            "#export-notifications-csv",
            "exports-notifications",
        ),
    ] {
        check(&console, path, ready, name).await;
    }

    // Both exports are in the audit log, with the admin as their actor.
    console.open("/audit/log?kind=action").await;
    console
        .wait_until(
            "the log shows two exports by the admin",
            &format!(
                "[...document.querySelectorAll('#log li')].filter((li) =>
                   li.textContent.includes('Exportou um relatório')
                   && li.textContent.includes({admin})).length === 2",
                admin = serde_json::to_string(&admin.id.to_string()).unwrap()
            ),
        )
        .await;
    let log = console.text("#log").await;
    assert!(log.contains("tenants?q=Padaria"), "{log}");
    check(
        &console,
        "/audit/log?kind=action",
        "#export-audit-log-csv",
        "exports-audit-log",
    )
    .await;
    console.assert_no_js_errors().await;
    let _ = std::fs::remove_dir_all(&dir);
}
