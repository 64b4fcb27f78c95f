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

// --- GET /api/v1/audit/checkpoints (F47) ---

#[tokio::test]
async fn an_auditor_pages_through_the_chains_checkpoints_newest_first() {
    let app = spawn_app().await;
    sealed_log(&app).await;
    app.eventually("the sealer records a checkpoint", || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM event_chain_checkpoints")
            .fetch_one(&app.db.pool)
            .await
            .unwrap()
            > 0
    })
    .await;
    let (_, token) = app.signed_in(Role::Auditor).await;
    let mut seen = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let path = match before {
            Some(b) => format!("/api/v1/audit/checkpoints?limit=1&before={b}"),
            None => "/api/v1/audit/checkpoints?limit=1".to_owned(),
        };
        let resp = app.get_as(&path, &token).await;
        assert_eq!(resp.status(), 200);
        let page: serde_json::Value = resp.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 1, "{page}");
        for c in items {
            seen.push((
                c["link_no"].as_i64().unwrap(),
                c["position"].as_i64().unwrap(),
                c["hash"].as_str().unwrap().to_owned(),
            ));
            assert!(c["recorded_at"].is_string());
        }
        match page["next_cursor"].as_i64() {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    let stored: Vec<(i64, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT link_no, position, hash FROM event_chain_checkpoints ORDER BY link_no DESC",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let stored: Vec<(i64, i64, String)> = stored
        .into_iter()
        .map(|(l, p, h)| (l, p, hex::encode(h)))
        .collect();
    assert_eq!(seen, stored);
}

#[tokio::test]
async fn the_checkpoints_are_for_auditors_and_admins_only_and_a_bad_limit_is_refused() {
    let app = spawn_app().await;
    let path = "/api/v1/audit/checkpoints";
    assert_eq!(app.get(path).await.status(), 401);
    for role in [Role::Owner, Role::Agent] {
        let (_, token) = app.signed_in(role).await;
        assert_eq!(app.get_as(path, &token).await.status(), 403, "{role}");
    }
    for role in [Role::Auditor, Role::Admin] {
        let (_, token) = app.signed_in(role).await;
        assert_eq!(app.get_as(path, &token).await.status(), 200, "{role}");
    }
    let (_, auditor) = app.signed_in(Role::Auditor).await;
    let resp = app.get_as(&format!("{path}?limit=0"), &auditor).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["code"],
        "invalid_limit"
    );
    let resp = app.get_as(&format!("{path}?before=latest"), &auditor).await;
    assert_eq!(resp.status(), 400);
    let doc = crate::openapi::document(&app).await;
    assert_eq!(doc["paths"][path]["get"]["tags"][0], "auditor");
}
