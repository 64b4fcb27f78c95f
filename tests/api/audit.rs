use crate::helpers::{spawn_app, TestApp};
use projections::audit::{BreakReason, VerifyReport};
use read_api::auth::Role;

/// One real command (personal fields stored encrypted) and a few plain events, all sealed.
async fn sealed_log(app: &TestApp) -> i64 {
    app.register_tenant("Oficina Zé", "ze@oficina.example")
        .await;
    for sequence in 1..=4_i64 {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('ticket', 't-1', $1, 'TicketCommented', '1', jsonb_build_object('n', $1), '{}')",
        )
        .bind(sequence)
        .execute(&app.db.pool)
        .await
        .unwrap();
    }
    app.eventually("the sealer links every event", || async {
        let (links, events): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM event_chain), (SELECT count(*) FROM events)",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        links == 5 && events == 5
    })
    .await;
    5
}

#[tokio::test]
async fn the_audit_endpoint_reports_an_intact_chain() {
    let app = spawn_app().await;
    let n = sealed_log(&app).await;
    let (_, token) = app.signed_in(Role::Auditor).await;
    let resp = app.get_as("/api/v1/audit/verify", &token).await;
    assert_eq!(resp.status(), 200);
    let report: VerifyReport = resp.json().await.unwrap();
    assert!(report.intact, "{report:?}");
    assert_eq!((report.checked as i64, report.head_link), (n, n));
    assert_eq!(report.head_hash.len(), 64);
}

#[tokio::test]
async fn the_audit_endpoint_reports_the_first_break_with_200() {
    let app = spawn_app().await;
    sealed_log(&app).await;
    sqlx::query(
        "UPDATE events SET payload = '{\"n\": 99}' WHERE aggregate_id = 't-1' AND sequence = 2",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    let (_, token) = app.signed_in(Role::Auditor).await;
    let resp = app.get_as("/api/v1/audit/verify", &token).await;
    assert_eq!(resp.status(), 200);
    let report: VerifyReport = resp.json().await.unwrap();
    let b = report.first_break.unwrap();
    assert_eq!((b.link_no, b.reason), (3, BreakReason::PayloadMismatch));
    assert!(!report.intact);
}

#[tokio::test]
async fn atende_audit_verify_prints_the_report_and_exits_1_when_the_chain_is_broken() {
    let app = spawn_app().await;
    sealed_log(&app).await;
    sqlx::query("DELETE FROM events WHERE aggregate_id = 't-1' AND sequence = 3")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_atende"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: VerifyReport = serde_json::from_slice(&out.stdout).unwrap();
    let b = report.first_break.unwrap();
    assert_eq!((b.link_no, b.reason), (4, BreakReason::MissingEvent));
}

#[tokio::test]
async fn only_auditors_and_admins_may_verify_the_chain() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/v1/audit/verify").await.status(), 401);
    let (_, agent) = app.signed_in(Role::Agent).await;
    assert_eq!(
        app.get_as("/api/v1/audit/verify", &agent).await.status(),
        403
    );
    let (_, admin) = app.signed_in(Role::Admin).await;
    assert_eq!(
        app.get_as("/api/v1/audit/verify", &admin).await.status(),
        200
    );
}
