//! Support tickets (F50). Tenants open tickets, read their threads, reply, close them and
//! ask for a person; admins work the queue (filters, unread counts, oldest-waiting first),
//! reply or note internally, assign and move statuses, keep the platform knowledge the
//! support AI answers from, edit the category list and read the support metrics.
//!
//! Everything is recorded through the `Ticket` aggregate, which checks who may write what;
//! reads come from the `tickets` read model, whose texts stay sealed until opened here.
//! Attached files are checked from their bytes and stored outside the log
//! (`ticket_attachments`); the events only describe them.

mod admin;
mod attachments;
mod support;
mod tenant;
mod upload;
mod view;

pub use attachments::{MAX_ATTACHMENTS, MAX_ATTACHMENT_BYTES};
pub use support::{
    Categories, Category, CategoryMetrics, ReplaceCategoriesRequest, ReplaceSupportKnowledge,
    SupportKnowledge, SupportMetrics,
};
pub use view::{AttachmentView, TicketMessageView, TicketPage, TicketSummary, TicketThread};

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The part of the application state the support ticket routes use.
#[derive(Debug, Clone)]
pub struct TicketsState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// The write side: commands go through it.
    pub bus: std::sync::Arc<commands::CommandBus>,
    /// Data subjects' keys, to open sealed personal data.
    pub keys: std::sync::Arc<commands::privacy::KeyRing>,
    /// Tenants' knowledge: its index state and retrieval.
    pub knowledge: ::knowledge::KnowledgeBase,
}

/// The ticket routes, tenant and admin.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    TicketsState: axum::extract::FromRef<S>,
    crate::trail::TrailState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    // Up to five files of 5 MiB and the form's text fields; each file's own limit is
    // checked while it streams in.
    let uploads = OpenApiRouter::new()
        .routes(routes!(tenant::open, tenant::list))
        .routes(routes!(tenant::reply))
        .layer(DefaultBodyLimit::max(
            MAX_ATTACHMENTS * MAX_ATTACHMENT_BYTES + 256 * 1024,
        ));
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(support::categories))
        .routes(routes!(tenant::show))
        .routes(routes!(tenant::close))
        .routes(routes!(tenant::ask_for_human))
        .routes(routes!(attachments::download))
        .routes(routes!(admin::queue))
        .routes(routes!(support::metrics))
        .routes(routes!(admin::show))
        .routes(routes!(admin::reply))
        .routes(routes!(admin::assign))
        .routes(routes!(admin::change_status))
        .routes(routes!(support::show_knowledge, support::replace_knowledge))
        .routes(routes!(support::replace_categories))
}
