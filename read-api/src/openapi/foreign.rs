//! Schemas of response types defined in crates that do not depend on utoipa (`projections`,
//! `commands`): each mirrors the real type's JSON, and a test checks the field names against
//! a serialized value, so the document cannot drift from what is sent.
#![allow(dead_code)] // Only their schemas are used.

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

/// Where a stream consumer has got to.
#[derive(ToSchema)]
#[schema(as = Checkpoint)]
pub struct CheckpointDoc {
    /// Transaction id (xid8 as a number) of the last event consumed.
    tx_id: i64,
    /// Global position of the last event consumed.
    position: i64,
}

/// An event a consumer could not apply and set aside.
#[derive(ToSchema)]
#[schema(as = ParkedEvent)]
pub struct ParkedEventDoc {
    /// The consumer that could not apply it.
    consumer: String,
    /// The event's global position.
    position: i64,
    /// The writing transaction's id.
    tx_id: i64,
    /// The event's type.
    event_type: String,
    /// Its aggregate's type.
    aggregate_type: String,
    /// Its aggregate's id.
    aggregate_id: String,
    /// The last error.
    error: String,
    /// How many times it was tried before being parked.
    attempts: i32,
    /// When it was parked.
    parked_at: DateTime<Utc>,
}

/// A finished replay.
#[derive(ToSchema)]
#[schema(as = ReplayReport)]
pub struct ReplayReportDoc {
    /// The projection rebuilt.
    projection: String,
    /// Events applied to the rebuilt tables.
    events: u64,
    /// The checkpoint the live consumer now has.
    checkpoint: CheckpointDoc,
    /// Wall-clock time, in milliseconds.
    elapsed_ms: u64,
    /// Time spent in the read model's transactions while catching up, in milliseconds.
    applying_ms: u64,
}

/// A projection's latest replay: running while `finished_at` is absent.
#[derive(ToSchema)]
#[schema(as = ReplayProgress)]
pub struct ReplayProgressDoc {
    /// The projection.
    projection: String,
    /// When it started.
    started_at: DateTime<Utc>,
    /// The log's head when it started: reaching it is (about) done.
    target_position: i64,
    /// The last position read so far.
    position: i64,
    /// Events read so far.
    events: i64,
    /// When it ended (swapped in, or failed).
    finished_at: Option<DateTime<Utc>>,
    /// Why it failed.
    error: Option<String>,
}

/// The event chain's verification (F47).
#[derive(ToSchema)]
#[schema(as = VerifyReport)]
pub struct VerifyReportDoc {
    /// No break found: every sealed event is stored exactly as it was sealed.
    intact: bool,
    /// Links recomputed and found intact.
    checked: u64,
    /// The last link in `event_chain` (0 when nothing is sealed yet).
    head_link: i64,
    /// The position that link seals.
    head_position: i64,
    /// That link's stored hash, hex; keep a copy elsewhere to catch a rewrite of the chain.
    head_hash: String,
    /// Checkpoints compared with the recomputed chain.
    checkpoints_checked: u64,
    /// Events after the sealed head: written, not sealed yet.
    unsealed_tail: i64,
    /// The first place the chain breaks; null when intact.
    first_break: Option<BreakDoc>,
}

/// Where and how the chain first breaks.
#[derive(ToSchema)]
#[schema(as = Break)]
pub struct BreakDoc {
    /// The link that does not verify.
    link_no: i64,
    /// The event position concerned.
    position: i64,
    /// What is wrong.
    #[schema(inline)]
    reason: BreakReasonDoc,
    /// For `order_mismatch`: the link that sealed the event now stored at `position`.
    sealed_as_link: Option<i64>,
    /// A sentence for humans.
    detail: String,
}

/// The kinds of break.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum BreakReasonDoc {
    /// The event was edited.
    PayloadMismatch,
    /// The event is gone.
    MissingEvent,
    /// The event is intact but sealed at another link: rows were moved or swapped.
    OrderMismatch,
    /// A link is missing from the chain.
    MissingLink,
    /// The chain disagrees with a recorded checkpoint, or ends before it.
    CheckpointMismatch,
    /// An unsealed event lies before the sealed head: it was inserted afterwards.
    UnsealedGap,
}

/// A done erasure.
#[derive(ToSchema)]
#[schema(as = Erasure)]
pub struct ErasureDoc {
    /// The conversation whose contact was erased.
    conversation_id: Uuid,
    /// How many keys were destroyed.
    keys_destroyed: u64,
}

/// Everything held about a contact (LGPD access and portability).
#[derive(ToSchema)]
#[schema(as = SubjectExport)]
pub struct SubjectExportDoc {
    /// The tenant.
    tenant_id: Uuid,
    /// The conversation that holds the contact's data.
    conversation_id: Uuid,
    /// Its events, oldest first.
    events: Vec<ExportedEventDoc>,
}

/// One event as exported: personal fields in clear, or `[erased]`.
#[derive(ToSchema)]
#[schema(as = ExportedEvent)]
pub struct ExportedEventDoc {
    /// Global position.
    position: i64,
    /// Sequence within the conversation.
    sequence: i64,
    /// Event type.
    event_type: String,
    /// When it was recorded.
    recorded_at: DateTime<Utc>,
    /// The event, opened.
    #[schema(value_type = Object)]
    payload: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use projections::audit::{Break, BreakReason, VerifyReport};
    use serde::Serialize;
    use std::collections::BTreeSet;
    use stream::replay::ReplayReport;
    use stream::{Checkpoint, ParkedEvent};
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;

    fn schema_fields<T: ToSchema>() -> BTreeSet<String> {
        match T::schema() {
            RefOr::T(Schema::Object(o)) => o.properties.keys().cloned().collect(),
            _ => BTreeSet::new(),
        }
    }

    fn json_fields(value: impl Serialize) -> BTreeSet<String> {
        serde_json::to_value(value)
            .ok()
            .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
            .unwrap_or_default()
    }

    #[test]
    fn each_mirrored_schema_has_the_fields_its_type_sends() {
        let checkpoint = Checkpoint {
            tx_id: 1,
            position: 2,
        };
        assert_eq!(schema_fields::<CheckpointDoc>(), json_fields(checkpoint));
        let parked = ParkedEvent {
            consumer: "c".into(),
            position: 1,
            tx_id: 1,
            event_type: "E".into(),
            aggregate_type: "tenant".into(),
            aggregate_id: "a".into(),
            error: "boom".into(),
            attempts: 5,
            parked_at: Utc::now(),
        };
        assert_eq!(schema_fields::<ParkedEventDoc>(), json_fields(parked));
        let replay = ReplayReport {
            projection: "p".into(),
            events: 1,
            checkpoint,
            elapsed_ms: 1,
            applying_ms: 1,
        };
        assert_eq!(schema_fields::<ReplayReportDoc>(), json_fields(replay));
        let progress = stream::replay::progress::ReplayProgress {
            projection: "p".into(),
            started_at: Utc::now(),
            target_position: 2,
            position: 1,
            events: 1,
            finished_at: None,
            error: None,
        };
        assert_eq!(schema_fields::<ReplayProgressDoc>(), json_fields(progress));
        let broken = Break {
            link_no: 1,
            position: 1,
            reason: BreakReason::OrderMismatch,
            sealed_as_link: Some(2),
            detail: "moved".into(),
        };
        assert_eq!(schema_fields::<BreakDoc>(), json_fields(&broken));
        let report = VerifyReport {
            intact: false,
            checked: 1,
            head_link: 1,
            head_position: 1,
            head_hash: "00".into(),
            checkpoints_checked: 0,
            unsealed_tail: 0,
            first_break: Some(broken),
        };
        assert_eq!(schema_fields::<VerifyReportDoc>(), json_fields(report));
        let erasure = commands::privacy::Erasure {
            conversation_id: Uuid::nil(),
            keys_destroyed: 1,
        };
        assert_eq!(schema_fields::<ErasureDoc>(), json_fields(erasure));
        let event = commands::privacy::ExportedEvent {
            position: 1,
            sequence: 1,
            event_type: "E".into(),
            recorded_at: Utc::now(),
            payload: serde_json::json!({}),
        };
        assert_eq!(schema_fields::<ExportedEventDoc>(), json_fields(&event));
        let export = commands::privacy::SubjectExport {
            tenant_id: Uuid::nil(),
            conversation_id: Uuid::nil(),
            events: vec![event],
        };
        assert_eq!(schema_fields::<SubjectExportDoc>(), json_fields(export));
    }
}
