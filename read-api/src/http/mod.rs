//! The router, its middleware and the server loop.

mod hardening;
mod request_id;

pub use hardening::BODY_LIMIT_BYTES;

use crate::audit;
use crate::health::health;
use crate::state::AppState;
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use request_id::{request_id_of, MakeRequestUuidV7};

/// Every route, with request ids and request tracing.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/health", get(health))
        .merge(audit::routes())
        .merge(crate::privacy::routes())
        .merge(crate::auth::routes())
        .merge(crate::users::routes())
        .merge(crate::projections::routes())
        .merge(crate::tenants::routes())
        .merge(crate::settings::routes())
        .with_state(state);
    hardening::harden(routes)
        // Layers run bottom-up for requests: the id is set first, then the span is opened
        // with it, so every log line of the request carries it.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(request_id::make_span))
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
