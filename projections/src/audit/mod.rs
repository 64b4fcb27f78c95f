//! Tamper evidence for the event log (F47): a hash chain over every event, and its check.
//!
//! The [`EventChain`] consumer appends every event, in tail order, to `event_chain` as link
//! 1, 2, 3, … Link *n* is
//!
//! ```text
//! hash_n = SHA-256( f(hash_{n-1}) ‖ f(position) ‖ f(aggregate_type) ‖ f(aggregate_id)
//!                   ‖ f(sequence) ‖ f(event_type) ‖ f(event_version)
//!                   ‖ f(payload::text) ‖ f(metadata::text) )
//! f(x)   = length of x in bytes as a big-endian u64 ‖ x
//! ```
//!
//! with `hash_0` = 32 zero bytes, integers as 8-byte big-endian two's complement and texts as
//! UTF-8. The length prefixes keep field boundaries unambiguous (`"ab" ‖ "c"` never hashes
//! like `"a" ‖ "bc"`). Payload and metadata are hashed as PostgreSQL renders the stored jsonb
//! (`payload::text`), which is deterministic for a stored value, rather than as serde would
//! re-serialize it: an auditor can recompute the chain with `psql` and any SHA-256 tool.
//! Personal fields are stored encrypted, so the chain covers ciphertext and destroying a
//! subject's key (crypto-shredding) leaves it intact.
//!
//! Every `checkpoint_every` links, and at the end of the visible log when the newest
//! checkpoint is older than a minute, the head is copied to `event_chain_checkpoints`.
//! Someone who edits an event and recomputes every later link still disagrees with the
//! checkpoints recorded before the edit; copies of checkpoints kept outside the database
//! also catch a rewrite of the checkpoints themselves.
//!
//! [`verify`] recomputes the chain from `events` and reports the first link that breaks.

mod checkpoints;
mod diagnose;
mod head;
mod link;
mod sealer;
mod verify;

pub use checkpoints::{checkpoints, ChainCheckpoint};
pub use head::{chain_head, ChainHead};
pub use link::{link_hash, LinkedEvent, GENESIS};
pub use sealer::{seal_pending, EventChain, SealError, SEALER};
pub use verify::{verify, verify_watched, Break, BreakReason, VerifyError, VerifyReport};
