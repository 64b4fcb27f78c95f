//! The web console (F40): its embedded files under `/assets/`, and its page for every other
//! `GET` that is not the API's, so the browser's history routing (`/conversations/…`,
//! `/reset-password?token=…`) lands on the app. The console is a client of the API like any
//! other; nothing here reads data.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Paths that belong to the API and its webhooks: a miss there is a plain 404, never the
/// console's page.
const NOT_CONSOLE: [&str; 4] = ["/api/", "/webhooks/", "/health", "/assets/"];

/// `/assets/{*path}` and the history-routing fallback.
pub(super) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/assets/{*path}", get(asset))
        .fallback(page)
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match console::asset(&path) {
        Some(file) => respond(file, &headers),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn page(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let console_path = (method == Method::GET || method == Method::HEAD)
        && path != "/api"
        && path != "/webhooks"
        && !NOT_CONSOLE.iter().any(|p| path.starts_with(p));
    if !console_path {
        return StatusCode::NOT_FOUND.into_response();
    }
    respond(console::index(), &headers)
}

/// The file, or 304 when the browser's copy (`If-None-Match`) is current. `no-cache`: file
/// names carry no version, so the browser revalidates each time and the ETag makes that a
/// few bytes.
fn respond(file: console::Asset, request: &HeaderMap) -> Response {
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == file.etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = Response::new(Body::from(file.body.into_owned()));
        if let Ok(v) = HeaderValue::from_str(&file.content_type) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&file.etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(console::CONTENT_SECURITY_POLICY),
    );
    response
}
