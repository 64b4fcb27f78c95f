//! The router, its middleware and the server loop.

mod console;
mod cors;
mod hardening;

pub use cors::{CorsOrigins, InvalidOrigin};

pub use crate::request::BODY_LIMIT_BYTES;

use crate::audit;
use crate::openapi::{self, Served};
use crate::state::AppState;
use axum::extract::FromRef;
use axum::{Extension, Router};
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use crate::request::{request_id_of, MakeRequestUuidV7, RequestMeta};

/// Every route, each described in the OpenAPI document by the same `routes!` call that
/// serves it. Add a module's routes here.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(crate::health::health))
        .routes(routes!(crate::observability::metrics))
        .routes(routes!(openapi::document))
        .merge(audit::routes())
        .merge(crate::privacy::routes())
        .merge(crate::auth::routes())
        .merge(crate::users::routes())
        .merge(crate::projections::routes())
        .merge(crate::tenants::routes())
        .merge(crate::settings::routes())
        .merge(crate::conversations::routes())
        .merge(crate::stream::routes())
        .merge(crate::metrics::routes())
        .merge(crate::notifications::routes())
        .merge(crate::usage::routes())
        .merge(crate::reports::routes())
        // Reports export (issue 18, F45).
        .merge(crate::exports::routes())
        .merge(crate::billing::routes())
        .merge(crate::stripe_webhook::routes())
        .merge(crate::webhooks::routes())
        .merge(crate::outbox::routes())
        .merge(crate::knowledge::routes())
        .merge(crate::tickets::routes())
        .merge(crate::content::routes())
        .merge(crate::onboarding::routes())
        // Plans managed by admins (issue 18).
        .merge(crate::plans::routes())
}

/// The OpenAPI document of [`api`], as `GET /api/openapi.json` serves it.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    parts().1
}

/// [`api`]'s routes and document, the rate limits' 429s documented (issue 19).
fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut doc) = api().split_for_parts();
    crate::rate_limit::document(&mut doc);
    (routes, doc)
}

/// Every tenant route (owner or agent) as `(method, path)`: the operations the OpenAPI
/// document tags `tenant`. A route is served only through the `routes!` call that documents
/// it, so a new tenant route is here as soon as it exists, and the isolation test walks it.
pub fn tenant_routes() -> Vec<(String, String)> {
    openapi::operations_tagged(&openapi_document(), openapi::tags::TENANT)
}

/// Every route, with request ids and request tracing.
pub fn router(state: AppState) -> Router {
    crate::observability::recorder();
    let (routes, doc) = parts();
    let cors = cors::layer(&state.cors);
    let limits = crate::rate_limit::Guard {
        limiters: state.rate_limits.clone(),
        scopes: std::sync::Arc::new(crate::rate_limit::RouteScopes::of(&doc)),
        auth: state.auth.clone(),
    };
    let routes = routes
        .layer(Extension(Served(std::sync::Arc::new(doc))))
        // Inside the request-id layer (below), so each refusal is recorded with its id.
        .layer(axum::middleware::from_fn_with_state(
            audit::AuditState::from_ref(&state),
            audit::rejections::record,
        ))
        // Before anything else a route does (issue 19); its refusals are counted, not
        // recorded.
        .layer(axum::middleware::from_fn_with_state(
            limits,
            crate::rate_limit::limit,
        ))
        .with_state(state)
        .merge(console::routes());
    // Outside the routes so a preflight is answered for every path without reaching a
    // handler; `option_layer` leaves responses untouched when CORS is off.
    let routes = routes.layer(tower::util::option_layer(cors));
    hardening::harden(routes)
        // Inside the routing, where each request's route template is known (issue 19).
        .layer(axum::middleware::from_fn(
            crate::observability::track_requests,
        ))
        // Layers run bottom-up for requests: the id is set first, then the span is opened
        // with it, so every log line of the request carries it.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(crate::request::make_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuidV7))
}

/// `/health` and `/metrics` alone, as a worker process serves them (issue 19).
pub fn ops_router(state: crate::health::HealthState) -> Router {
    crate::observability::recorder();
    Router::new()
        .route("/health", axum::routing::get(crate::health::health))
        .route(
            "/metrics",
            axum::routing::get(crate::observability::metrics),
        )
        .with_state(state)
        .layer(axum::middleware::from_fn(
            crate::observability::track_requests,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(crate::request::make_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuidV7))
}

/// Serves `router` on `listener` until `shutdown` resolves. Handlers see the peer address
/// (`ConnectInfo<SocketAddr>`): login throttling blocks by it.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
