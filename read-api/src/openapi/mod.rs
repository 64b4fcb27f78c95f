//! The OpenAPI 3.1 document (`GET /api/openapi.json`), generated from the handlers' own
//! `#[utoipa::path]` annotations.
//!
//! Every module's `routes()` is a [`OpenApiRouter`] built with `routes!(handler)`: one call
//! registers the handler with axum *and* describes it in the document, so a route cannot be
//! served without being documented. [`crate::http::router`] splits the assembled router into
//! the axum router and this document ([`OpenApiRouter::split_for_parts`]).
//!
//! Conventions every handler follows:
//! - one of the [`tags`] (`tenant` for routes scoped by the caller's tenant: the isolation
//!   test walks exactly those);
//! - `security(("bearer" = []))` on every route that needs a token;
//! - every error response has the [`ErrorBody`] schema (the reusable [`responses`] do it).
//!
//! [`OpenApiRouter`]: utoipa_axum::router::OpenApiRouter
//! [`OpenApiRouter::split_for_parts`]: utoipa_axum::router::OpenApiRouter::split_for_parts
//! [`ErrorBody`]: crate::error::ErrorBody

pub(crate) mod foreign;
pub mod responses;
pub mod tags;

use crate::error::ErrorBody;
use axum::{Extension, Json};
use std::sync::Arc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};

/// The name of the bearer security scheme handlers refer to in `security(...)`.
pub const BEARER: &str = "bearer";

/// The path the document is served at.
pub const PATH: &str = "/api/openapi.json";

/// The document's fixed parts: title, version, tags, the bearer scheme and the error schema.
/// The paths come from the routers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "atende API",
        description = "Multi-tenant WhatsApp AI attendant: tenant dashboards, admin operations \
                       and the auditors' log. Errors are `{code, message, details?}`; \
                       pagination is by cursor."
    ),
    modifiers(&BearerScheme),
    components(schemas(ErrorBody, crate::stream::TicketChangeEvent)),
    tags(
        (name = tags::TENANT, description = "A tenant's owner or agent; always scoped by the token's tenant"),
        (name = tags::ADMIN, description = "SaaS operators (admin, super admin)"),
        (name = tags::AUDITOR, description = "Auditors and admins: read-only evidence"),
        (name = tags::AUTH, description = "Signing in, tokens and the caller's own account"),
        (name = tags::SYSTEM, description = "Health and this document"),
        (name = tags::WEBHOOKS, description = "Provider webhooks: signed or secret-addressed, no token"),
    )
)]
struct Base;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "The access token from `POST /api/v1/auth/login` (15 minutes)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document with no paths yet: the routers add theirs.
pub fn base() -> Document {
    Base::openapi()
}

/// The served document, shared by every request.
#[derive(Clone)]
pub struct Served(pub Arc<Document>);

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served")
            .field("paths", &self.0.paths.paths.len())
            .finish()
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "openapi_document",
    tag = tags::SYSTEM,
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this API", body = Object),
    )
)]
pub async fn document(Extension(Served(doc)): Extension<Served>) -> Json<Arc<Document>> {
    Json(doc)
}

/// `(method, path)` of every operation tagged `tag` in `doc`, methods in upper case, paths
/// as templates (`/api/v1/users/{id}`).
pub fn operations_tagged(doc: &Document, tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in operations(item) {
            if op
                .tags
                .as_ref()
                .is_some_and(|tags| tags.iter().any(|t| t == tag))
            {
                out.push((method.to_owned(), path.clone()));
            }
        }
    }
    out
}

/// Every operation of a path item with its method name.
pub fn operations(
    item: &utoipa::openapi::PathItem,
) -> impl Iterator<Item = (&'static str, &utoipa::openapi::path::Operation)> {
    [
        ("GET", &item.get),
        ("PUT", &item.put),
        ("POST", &item.post),
        ("DELETE", &item.delete),
        ("OPTIONS", &item.options),
        ("HEAD", &item.head),
        ("PATCH", &item.patch),
        ("TRACE", &item.trace),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.as_ref().map(|op| (m, op)))
}
