//! Workers: reactions to stored events and schedules that reach outside the system (the AI
//! responder, the WhatsApp sender, the mailer, the 24 h timeout saga, the Stripe
//! provisioning saga, the Stripe usage reporter, the retention job). Event-driven ones consume the same stream runners as
//! projections do.

pub mod indexer;
pub mod jobs;
pub mod lifecycle;
pub mod mailer;
pub mod provisioning;
pub mod relay;
pub mod responder;
pub mod retention;
pub mod saga;
pub mod sender;
pub mod stripe;
pub mod support;
