//! `tenant_metrics`: per tenant and UTC day, inbound messages, AI replies, hand-offs and
//! resolutions, plus every response-time sample so medians over any range are exact.
//!
//! Definitions (days are the UTC date of the event's `at`):
//! - **hand-off**: `ConfidenceLow` or `HumanRequested`;
//! - **resolved by AI**: a `ConversationResolved` with no hand-off and no human reply since
//!   the conversation opened (or reopened after its previous resolution); the AI
//!   resolution rate of a range is resolved-by-AI ÷ resolved, undefined when none;
//! - **first response**: from the customer message that opened a wait (the first one since
//!   the last reply) to the next reply, filed as an AI or a human first response by who
//!   answered; a resolution ends the wait unmeasured;
//! - **human response**: from a hand-off to the first human reply after it (a hand-off
//!   repeated before that reply keeps the first one; the AI resuming ends it unmeasured).
//!
//! Samples are filed under the day of the reply that ended them.

mod conversation;
mod projection;

pub use conversation::{MetricsState, Sample, SampleKind, Tally};
pub use projection::TenantMetrics;
#[cfg(test)]
mod replay_tests;
#[cfg(test)]
pub(crate) mod test_log;
#[cfg(test)]
mod tests;
