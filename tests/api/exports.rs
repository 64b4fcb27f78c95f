//! Reports export (F45): the admin tables as CSV and spreadsheets, read back with the `csv`
//! and `calamine` crates and held against the JSON lists with the same filters, and the
//! monthly overview as a PDF.

use crate::helpers::{spawn_app, TestApp};
use crate::pdf_text::pdf_text;
use crate::reports::{three_tenants, wait_for_payment};
use crate::tenants::{onboard, send};
use calamine::{Data, DataType, Reader, Xlsx};
use chrono::{Datelike, Utc};
use read_api::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use std::io::Cursor;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Every row of a JSON list, all pages.
async fn whole_list(app: &TestApp, path: &str, token: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut cursor = String::new();
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let resp = app
            .get_as(&format!("{path}{sep}limit=2{cursor}"), token)
            .await;
        assert_eq!(resp.status(), 200, "{path}");
        let page: Value = resp.json().await.unwrap();
        rows.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return rows,
        }
    }
}

/// A download: its content type, its `Content-Disposition` and its bytes.
async fn download(app: &TestApp, path: &str, token: &str) -> (String, String, Vec<u8>) {
    let resp = app.get_as(path, token).await;
    assert_eq!(resp.status(), 200, "{path}");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (kind, disposition) = (header("content-type"), header("content-disposition"));
    (kind, disposition, resp.bytes().await.unwrap().to_vec())
}

fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    // Spreadsheets read the accents right thanks to a byte order mark.
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let text = text.strip_prefix('\u{feff}').expect("a byte order mark");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn sheet(bytes: Vec<u8>, name: &str) -> calamine::Range<Data> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("a spreadsheet");
    book.worksheet_range(name).expect("the sheet")
}

/// Four tenants whose names hold what CSV must quote and escape, one suspended.
async fn awkward_tenants(app: &TestApp, admin: &str) -> Vec<String> {
    let names = [
        "Padaria São João, \"Filial\"\nCentro",
        "=HYPERLINK(\"http://x.example\")",
        "Açougue Ñandu",
        "Fechada Ltda",
    ];
    for name in names {
        onboard(app, admin, name).await;
    }
    let closed = whole_list(app, "/api/v1/admin/tenants?q=Fechada", admin).await;
    let id = closed[0]["tenant_id"].as_str().unwrap().to_owned();
    let resp = send(
        app,
        Method::POST,
        &format!("/api/v1/admin/tenants/{id}/suspend"),
        Some(&json!({"reason": "pediu"})),
        admin,
    )
    .await;
    assert!(resp.status().is_success());
    app.eventually("the directory shows the suspension", || async {
        whole_list(app, "/api/v1/admin/tenants?status=suspended", admin)
            .await
            .len()
            == 1
    })
    .await;
    names.iter().map(|n| n.to_string()).collect()
}

#[tokio::test]
async fn given_a_filtered_directory_when_an_admin_exports_it_as_csv_then_the_file_has_the_lists_rows_with_names_intact(
) {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let names = awkward_tenants(&app, &admin).await;
    let listed = whole_list(&app, "/api/v1/admin/tenants?status=active", &admin).await;
    assert_eq!(listed.len(), 3);

    // `limit` and `cursor` are the list's paging, not filters: the file holds every row.
    let (kind, disposition, bytes) = download(
        &app,
        "/api/v1/admin/reports/export/tenants?format=csv&status=active&limit=1",
        &admin,
    )
    .await;
    assert_eq!(kind, "text/csv; charset=utf-8");
    let today = Utc::now().date_naive();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"tenants-{today}.csv\"")
    );
    let (header, rows) = csv_rows(&bytes);
    assert_eq!(
        header,
        [
            "tenant_id",
            "name",
            "plan",
            "status",
            "phone_number_id",
            "registered_at",
            "updated_at"
        ]
    );
    assert_eq!(rows.len(), listed.len());
    for (row, item) in rows.iter().zip(&listed) {
        assert_eq!(row[0], item["tenant_id"].as_str().unwrap());
        let name = item["name"].as_str().unwrap();
        // A text a spreadsheet would run as a formula is defused with a leading `'`.
        let expected = if name.starts_with('=') {
            format!("'{name}")
        } else {
            name.to_owned()
        };
        assert_eq!(row[1], expected);
        assert_eq!(row[3], "active");
        let registered = chrono::DateTime::parse_from_rfc3339(&row[5]).unwrap();
        let listed_at =
            chrono::DateTime::parse_from_rfc3339(item["registered_at"].as_str().unwrap()).unwrap();
        assert_eq!(registered.timestamp(), listed_at.timestamp());
    }
    let exported: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert!(exported.contains(&names[0].as_str()), "{exported:?}");
    assert!(exported.contains(&"Açougue Ñandu"));
    assert!(exported.contains(&"'=HYPERLINK(\"http://x.example\")"));
    assert!(!exported.contains(&"Fechada Ltda"));
}

#[tokio::test]
async fn given_a_filtered_directory_when_an_admin_exports_it_as_a_spreadsheet_then_its_cells_are_typed(
) {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    awkward_tenants(&app, &admin).await;
    let listed = whole_list(&app, "/api/v1/admin/tenants?q=a&status=active", &admin).await;

    let (kind, disposition, bytes) = download(
        &app,
        "/api/v1/admin/reports/export/tenants?format=xlsx&q=a&status=active",
        &admin,
    )
    .await;
    assert_eq!(kind, XLSX);
    assert!(disposition.starts_with("attachment; filename=\"tenants-"));
    assert!(disposition.ends_with(".xlsx\""));
    let range = sheet(bytes, "tenants");
    let rows: Vec<&[Data]> = range.rows().collect();
    assert_eq!(rows[0][1], Data::String("name".into()));
    assert_eq!(rows.len() - 1, listed.len());
    for (row, item) in rows[1..].iter().zip(&listed) {
        // Strings stay strings, even one that looks like a formula.
        assert_eq!(row[1], Data::String(item["name"].as_str().unwrap().into()));
        let listed_at: chrono::DateTime<Utc> =
            item["registered_at"].as_str().unwrap().parse().unwrap();
        let cell = row[5].as_datetime().expect("a date cell");
        assert!(matches!(row[5], Data::DateTime(_)), "{:?}", row[5]);
        assert!((cell - listed_at.naive_utc()).num_milliseconds().abs() < 1000);
        assert_eq!(row[4], Data::Empty, "no number linked yet");
    }
}

#[tokio::test]
async fn payments_export_money_in_major_units_beside_the_currency() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, _, paying) = three_tenants(&app, &admin).await;
    wait_for_payment(&app, &admin).await;
    let path = format!("/api/v1/admin/reports/export/payments?tenant={paying}");
    let list = format!("/api/v1/admin/payments?tenant={paying}");
    // The payments list is its own read model: the revenue report having the payment says
    // nothing of whether the list has caught up.
    app.eventually("the payments list has the payment", || async {
        whole_list(&app, &list, &admin).await.len() == 1
    })
    .await;
    let listed = whole_list(&app, &list, &admin).await;

    let (_, _, bytes) = download(&app, &format!("{path}&format=csv"), &admin).await;
    let (header, rows) = csv_rows(&bytes);
    let amount = header.iter().position(|h| h == "amount").unwrap();
    let currency = header.iter().position(|h| h == "currency").unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][amount], "399.00");
    assert_eq!(rows[0][currency], listed[0]["currency"].as_str().unwrap());

    let (_, _, bytes) = download(&app, &format!("{path}&format=xlsx"), &admin).await;
    let range = sheet(bytes, "payments");
    let rows: Vec<&[Data]> = range.rows().collect();
    assert_eq!(rows[1][amount], Data::Float(399.0));
    assert!(matches!(rows[1][0], Data::Float(_)), "position is a number");
}

#[tokio::test]
async fn every_admin_table_exports_as_csv_and_as_a_spreadsheet_with_the_same_columns() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    three_tenants(&app, &admin).await;
    wait_for_payment(&app, &admin).await;
    for (table, list) in [
        ("tenants", "/api/v1/admin/tenants"),
        ("subscriptions", "/api/v1/admin/subscriptions"),
        ("payments", "/api/v1/admin/payments"),
        ("usage", "/api/v1/admin/usage"),
        ("sign-in-attempts", "/api/v1/admin/sign-in-attempts"),
        ("notifications", "/api/v1/admin/notifications"),
    ] {
        let listed = whole_list(&app, list, &admin).await;
        let path = format!("/api/v1/admin/reports/export/{table}");
        let (_, _, bytes) = download(&app, &format!("{path}?format=csv"), &admin).await;
        let (header, rows) = csv_rows(&bytes);
        assert_eq!(rows.len(), listed.len(), "{table}");
        let (_, _, bytes) = download(&app, &format!("{path}?format=xlsx"), &admin).await;
        let range = sheet(bytes, table);
        let sheet_header: Vec<String> = range
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(sheet_header, header, "{table}");
        assert_eq!(range.rows().count() - 1, listed.len(), "{table}");
    }
    // IP blocks are one list, not pages.
    let (_, _, bytes) = download(
        &app,
        "/api/v1/admin/reports/export/ip-blocks?format=csv",
        &admin,
    )
    .await;
    assert_eq!(csv_rows(&bytes).0, ["ip", "blocked_until"]);
}

#[tokio::test]
async fn the_monthly_overview_downloads_as_a_pdf_with_its_figures_in_the_chosen_language() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    three_tenants(&app, &admin).await;
    wait_for_payment(&app, &admin).await;
    let now = Utc::now().date_naive();
    let month = format!("{}-{:02}", now.year(), now.month());

    let (kind, disposition, bytes) = download(
        &app,
        &format!("/api/v1/admin/reports/export/overview?format=pdf&month={month}"),
        &admin,
    )
    .await;
    assert_eq!(kind, "application/pdf");
    assert_eq!(
        disposition,
        format!("attachment; filename=\"overview-{month}.pdf\"")
    );
    assert!(bytes.starts_with(b"%PDF-"));
    // Its fonts travel with it.
    let has = |what: &[u8]| bytes.windows(what.len()).any(|w| w == what);
    assert!(has(b"/FontFile2") && has(b"/Subtype /TrueType") && has(b"/DejaVuSans-Bold"));
    let text = pdf_text(&bytes);
    for figure in [
        "Relatório mensal",
        "Receita recebida (BRL)\nR$ 399,00\n",
        "Ticket médio (BRL)",
        "Clientes por situação",
        "suspenso",
        "Receita por mês (últimos 12 meses)",
    ] {
        assert!(text.contains(figure), "{figure:?} in {text}");
    }

    let (_, _, bytes) = download(
        &app,
        &format!("/api/v1/admin/reports/export/overview?format=pdf&month={month}&locale=en"),
        &admin,
    )
    .await;
    let text = pdf_text(&bytes);
    for figure in [
        "Monthly report",
        "R$ 399.00",
        "Tenants by status",
        "suspended",
    ] {
        assert!(text.contains(figure), "{figure:?} in {text}");
    }

    // A month without payments received none (the MRR is today's all the same).
    let (_, _, bytes) = download(
        &app,
        "/api/v1/admin/reports/export/overview?format=pdf&month=2020-01",
        &admin,
    )
    .await;
    let text = pdf_text(&bytes);
    assert!(text.contains("janeiro de 2020"), "{text}");
    assert!(text.contains("Receita recebida\nR$ 0,00\n"), "{text}");
    assert!(text.contains("MRR (BRL)\nR$ 399,00\n"), "{text}");
}

#[tokio::test]
async fn an_export_refuses_what_it_cannot_do_with_a_reason() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    for (path, status, code) in [
        ("events?format=csv", 404, "unknown_report"),
        ("tenants?format=pdf", 422, "unsupported_format"),
        ("overview?format=xlsx", 422, "unsupported_format"),
        ("tenants?format=csv&status=gone", 422, "invalid_status"),
        ("overview?format=pdf&month=2026-13", 422, "invalid_month"),
        ("overview?format=pdf&locale=fr", 422, "invalid_locale"),
        ("tenants", 400, "invalid_query"),
        ("tenants?format=doc", 400, "invalid_query"),
    ] {
        let resp = app
            .get_as(&format!("/api/v1/admin/reports/export/{path}"), &admin)
            .await;
        assert_eq!(resp.status(), status, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], code, "{path}");
    }
}

#[tokio::test]
async fn only_admins_export() {
    let app = spawn_app().await;
    for role in [Role::Owner, Role::Agent, Role::Auditor] {
        let (_, token) = app.signed_in(role).await;
        for path in [
            "tenants?format=csv",
            "payments?format=xlsx",
            "overview?format=pdf",
        ] {
            let resp = app
                .get_as(&format!("/api/v1/admin/reports/export/{path}"), &token)
                .await;
            assert_eq!(resp.status(), 403, "{role} {path}");
        }
    }
}

#[tokio::test]
async fn an_export_is_in_the_audit_log_with_its_admin_and_filters_but_no_personal_filter_value() {
    let app = spawn_app().await;
    let (admin_user, admin) = app.signed_in(Role::Admin).await;
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    download(
        &app,
        "/api/v1/admin/reports/export/sign-in-attempts?format=csv&email=ana%40x.example&outcome=failed",
        &admin,
    )
    .await;
    download(
        &app,
        "/api/v1/admin/reports/export/tenants?format=xlsx&status=active",
        &admin,
    )
    .await;
    let log: Value = app
        .get_as("/api/v1/audit/log?kind=action&limit=100", &auditor)
        .await
        .json()
        .await
        .unwrap();
    let exports: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "export_report")
        .collect();
    assert_eq!(exports.len(), 2, "{log:#}");
    let targets: Vec<&str> = exports
        .iter()
        .map(|e| e["target_id"].as_str().unwrap())
        .collect();
    assert!(
        targets.contains(&"sign-in-attempts?email=…&outcome=failed"),
        "{targets:?}"
    );
    assert!(targets.contains(&"tenants?status=active"), "{targets:?}");
    for e in exports {
        assert_eq!(e["actor_id"], admin_user.id.to_string());
        assert_eq!(e["outcome"], "done");
        assert_eq!(e["target_kind"], "report");
    }
    assert!(!log.to_string().contains("ana@x.example"));
}

#[tokio::test]
async fn an_auditor_exports_the_filtered_audit_log_and_a_tenant_may_not() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (auditor_user, auditor) = app.signed_in(Role::Auditor).await;
    three_tenants(&app, &admin).await;
    // Two traced actions to find: exports themselves.
    for _ in 0..2 {
        download(
            &app,
            "/api/v1/admin/reports/export/ip-blocks?format=csv",
            &admin,
        )
        .await;
    }
    let listed = whole_list(&app, "/api/v1/audit/log?kind=action", &auditor).await;
    assert!(listed.len() >= 3, "{listed:#?}");

    let (kind, disposition, bytes) = download(
        &app,
        "/api/v1/audit/log/export?format=csv&kind=action",
        &auditor,
    )
    .await;
    assert_eq!(kind, "text/csv; charset=utf-8");
    assert!(disposition.contains("audit-log-"), "{disposition}");
    let (header, rows) = csv_rows(&bytes);
    assert_eq!(header[..3], ["at", "kind", "action"]);
    // The trace is written once the rows are read, before they leave: not among them.
    assert_eq!(rows.len(), listed.len());
    for (row, item) in rows.iter().zip(&listed) {
        assert_eq!(row[1], "action");
        assert_eq!(row[2], item["action"].as_str().unwrap_or(""));
        assert_eq!(row[5], item["target_id"].as_str().unwrap_or(""));
    }
    let (_, _, bytes) = download(
        &app,
        "/api/v1/audit/log/export?format=xlsx&kind=action",
        &auditor,
    )
    .await;
    let range = sheet(bytes, "audit-log");
    assert!(matches!(range.rows().nth(1).unwrap()[0], Data::DateTime(_)));

    // Admins read the log too; tenants do not.
    let resp = app
        .get_as("/api/v1/audit/log/export?format=csv", &admin)
        .await;
    assert_eq!(resp.status(), 200);
    for role in [Role::Owner, Role::Agent] {
        let (_, token) = app.signed_in(role).await;
        let resp = app
            .get_as("/api/v1/audit/log/export?format=csv", &token)
            .await;
        assert_eq!(resp.status(), 403, "{role}");
    }
    // The auditor's export is in the log under their name.
    let log = whole_list(&app, "/api/v1/audit/log?kind=action", &auditor).await;
    assert!(log.iter().any(|e| e["action"] == "export_report"
        && e["target_id"] == "audit-log?kind=action"
        && e["actor_id"] == auditor_user.id.to_string()));
}

#[tokio::test]
async fn a_list_of_many_pages_exports_whole_in_its_own_order() {
    let app = spawn_app().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    // 450 failed attempts from one address: three of the export's pages of 200.
    sqlx::query(
        "INSERT INTO login_attempts (ip, email, success)
         SELECT '203.0.113.7'::inet, 'pessoa' || g || '@loja.example', false
           FROM generate_series(1, 450) g",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    let filter = "ip=203.0.113.7&outcome=failed";
    let listed = whole_list(
        &app,
        &format!("/api/v1/admin/sign-in-attempts?{filter}"),
        &admin,
    )
    .await;
    assert_eq!(listed.len(), 450);
    let ids: Vec<String> = listed.iter().map(|a| a["id"].to_string()).collect();

    let (_, _, bytes) = download(
        &app,
        &format!("/api/v1/admin/reports/export/sign-in-attempts?format=csv&{filter}"),
        &admin,
    )
    .await;
    let (_, rows) = csv_rows(&bytes);
    let exported: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    assert_eq!(exported, ids);

    let (_, _, bytes) = download(
        &app,
        &format!("/api/v1/admin/reports/export/sign-in-attempts?format=xlsx&{filter}"),
        &admin,
    )
    .await;
    let range = sheet(bytes, "sign-in-attempts");
    let exported: Vec<String> = range.rows().skip(1).map(|r| r[0].to_string()).collect();
    assert_eq!(exported, ids);
}
