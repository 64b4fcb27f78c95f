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

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The conversation routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list::list))
        .routes(routes!(counts::counts))
        .routes(routes!(show::show))
        .routes(routes!(actions::reply))
        .routes(routes!(actions::assign))
        .routes(routes!(actions::resolve))
        .routes(routes!(actions::return_to_ai))
}
