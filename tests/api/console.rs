//! The web console (F40) is served by the same server: its page for every console path
//! (history routing), its embedded assets with caching headers, and a strict CSP.

use crate::helpers::spawn_app;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

#[tokio::test]
async fn the_root_and_every_console_route_answer_with_the_console_page_under_a_strict_csp() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/login",
        "/reset-password?token=abc",
        "/conversations/0190c5f0-0000-7000-8000-000000000000",
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 200, "{path}");
        let headers = resp.headers().clone();
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert_eq!(headers["content-security-policy"], CSP, "{path}");
        assert_eq!(headers["x-frame-options"], "DENY");
        let html = resp.text().await.unwrap();
        assert!(html.contains(r#"<script type="module" src="/assets/app/main.js">"#));
        assert!(!html.contains("style="), "no inline style on console pages");
    }
}

#[tokio::test]
async fn assets_have_their_content_type_and_an_etag_that_makes_a_revalidation_a_304() {
    let app = spawn_app().await;
    let resp = app.get("/assets/app/main.js").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(format!("{}/assets/app/main.js", app.address))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let css = app.get("/assets/css/app.css").await;
    assert!(css.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
}

#[tokio::test]
async fn api_webhook_and_missing_asset_paths_stay_404_and_never_get_the_console_page() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/nothing-here",
        "/webhooks/nothing",
        "/assets/app/missing.js",
        "/assets/../Cargo.toml",
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 404, "{path}");
        let text = resp.text().await.unwrap();
        assert!(!text.contains("<html"), "{path}");
    }
    // The API's own answers keep the API's locked-down policy.
    let health = app.get("/health").await;
    assert_eq!(
        health.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
}
