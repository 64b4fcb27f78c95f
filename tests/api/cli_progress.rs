//! The long commands' progress (issue 19): a bar on a terminal, nothing but the JSON result
//! when piped.

use crate::helpers::{spawn_app, start_app, TestApp};
use projections::audit::VerifyReport;
use schemas::personal::MasterKey;
use std::process::{Output, Stdio};
use tokio::process::Command;

/// `atende <args>` with stdout and stderr piped, as a script runs it.
async fn piped(app: &TestApp, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atende"))
        .args(args)
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap()
}

/// `atende <args>` on a pseudo-terminal (util-linux `script`): what an operator sees, stdout
/// and stderr together.
async fn on_a_terminal(app: &TestApp, args: &[&str]) -> String {
    let line = std::iter::once(env!("CARGO_BIN_EXE_atende"))
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new("script")
        .args(["--quiet", "--return", "--command", &line, "/dev/null"])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Progress drawn on a terminal: cursor moves, carriage returns or the bar's own words.
fn has_progress(text: &str) -> bool {
    (text.contains('\r') && text.contains("\u{1b}[")) || text.contains(" left")
}

async fn a_few_events(app: &TestApp) {
    for n in 0..3 {
        app.register_tenant(&format!("Loja {n}"), &format!("dono{n}@loja.example"))
            .await;
    }
    app.eventually("the sealer links every event", || async {
        let (links, events): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM event_chain), (SELECT count(*) FROM events)",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        links > 0 && links == events
    })
    .await;
}

#[tokio::test]
async fn audit_verify_piped_prints_only_its_json_and_no_progress() {
    let app = spawn_app().await;
    a_few_events(&app).await;
    let out = piped(&app, &["audit", "verify"]).await;
    assert!(out.status.success(), "{out:?}");
    let report: VerifyReport = serde_json::from_slice(&out.stdout).expect("stdout is the JSON");
    assert!(report.intact);
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn replay_piped_prints_only_its_json_and_no_progress() {
    let master = MasterKey::generate();
    let db = testkit::test_database().await.unwrap();
    let app = start_app(db, master.clone(), |_| {}).await;
    a_few_events(&app).await;
    // Read models open sealed fields: the replay needs the server's master key.
    let out = Command::new(env!("CARGO_BIN_EXE_atende"))
        .args(["replay", "aggregate_index"])
        .env("DATABASE_URL", &app.db.url)
        .env("ATENDE_MASTER_KEY", master.to_base64())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is the JSON");
    assert_eq!(report["projection"], "aggregate_index");
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn audit_verify_on_a_terminal_draws_a_bar_of_the_links_checked() {
    let app = spawn_app().await;
    a_few_events(&app).await;
    let screen = on_a_terminal(&app, &["audit", "verify"]).await;
    assert!(
        screen.contains("verifying the event chain") && screen.contains("links"),
        "{screen}"
    );
    assert!(has_progress(&screen), "{screen}");
    assert!(screen.contains("\"intact\": true"), "{screen}");
}
