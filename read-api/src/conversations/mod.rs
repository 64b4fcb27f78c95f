//! A tenant's conversations (F4–F9), read from the `conversations` projection: the list with
//! filters and contact search, and one conversation with its messages and their delivery
//! state. Tenant users (owners and agents) only, always scoped by the token's tenant.
//!
//! Message texts are stored sealed and opened here with the subject keys, so an erased or
//! expired text reads as `[erased]` without the read model having to change.

mod actions;
mod counts;
mod cursor;
mod list;
pub(crate) mod open;
mod show;
mod view;

pub use actions::{AssignRequest, ConversationState, ReplyRequest};
pub use counts::ConversationCounts;
pub use list::ConversationQuery;
pub use show::MessageQuery;
pub use view::{
    Contact, ConversationDetail, ConversationPage, ConversationSummary, Delivery, LastMessage,
    Message,
};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The part of the application state the conversation routes use.
#[derive(Debug, Clone)]
pub struct ConversationsState {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// The write side: commands go through it.
    pub bus: std::sync::Arc<commands::CommandBus>,
    /// Data subjects' keys, to open sealed personal data.
    pub keys: std::sync::Arc<commands::privacy::KeyRing>,
}

/// The conversation routes.
pub fn routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    ConversationsState: axum::extract::FromRef<S>,
    crate::request::AuthConfig: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list::list))
        .routes(routes!(counts::counts))
        .routes(routes!(show::show))
        .routes(routes!(actions::reply))
        .routes(routes!(actions::assign))
        .routes(routes!(actions::resolve))
        .routes(routes!(actions::return_to_ai))
}
