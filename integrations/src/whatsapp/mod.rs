//! WhatsApp's two providers as atende speaks to them: the webhook payloads they post
//! ([`cloud`] for Meta's Cloud API, [`evolution`] for the Evolution API), the signature
//! Meta puts on its webhooks ([`verify_signature`]), and the send endpoints of both
//! ([`graph`]).

pub mod cloud;
pub mod evolution;
pub mod graph;
mod signature;

pub use signature::{sign, verify_signature};

/// Meta's Graph API with the version atende is written against.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com/v21.0";
