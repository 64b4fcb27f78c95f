//! JSON Schema files for every event type and version, generated from the Rust types.
//!
//! The relay publishes stored events to Kafka; consumers in other languages validate them
//! against the files checked in under `schemas/json/`: `stored_event.v1.json` for the
//! envelope and `<aggregate>/<EventType>.v<version>.json` for each payload. A test fails
//! when the files and the code drift apart; regenerate them with
//! `ATENDE_WRITE_SCHEMAS=1 cargo nextest run -p schemas schema_files`.

use crate::events::{
    AdminActionEvent, AiSpendEvent, ConversationEvent, PlanEvent, PlatformContentEvent,
    SubscriptionEvent, TenantEvent, TicketEvent,
};
use crate::{AggregateKind, StoredEvent, EVENT_VERSION};
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

#[cfg(test)]
mod tests;

/// The JSON Schema dialect of every file.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFile {
    /// Path relative to the schema directory, `/`-separated.
    pub path: String,
    /// The file's text (pretty JSON, ending with a newline).
    pub contents: String,
}

/// Every schema file: the envelope, then one per event type and version.
pub fn files() -> Vec<SchemaFile> {
    let mut out = vec![file(
        "stored_event.v1.json",
        "Stored event v1",
        schemars::schema_for!(StoredEvent).to_value(),
    )];
    out.extend(split::<TenantEvent>(AggregateKind::Tenant));
    out.extend(split::<SubscriptionEvent>(AggregateKind::Subscription));
    out.extend(split::<ConversationEvent>(AggregateKind::Conversation));
    out.extend(split::<TicketEvent>(AggregateKind::Ticket));
    out.extend(split::<PlatformContentEvent>(
        AggregateKind::PlatformContent,
    ));
    out.extend(split::<AdminActionEvent>(AggregateKind::AdminAction));
    // Plans managed by admins (issue 18).
    out.extend(split::<PlanEvent>(AggregateKind::Plan));
    // The usage monitor's AI spend thresholds (issue 18).
    out.extend(split::<AiSpendEvent>(AggregateKind::AiSpendThreshold));
    out
}

/// The path of an event type's schema file.
pub fn path_of(aggregate: &str, event_type: &str, version: &str) -> String {
    format!("{aggregate}/{event_type}.v{version}.json")
}

fn file(path: &str, title: &str, mut schema: Value) -> SchemaFile {
    if let Some(o) = schema.as_object_mut() {
        o.insert("$schema".into(), json!(DIALECT));
        o.insert(
            "$id".into(),
            json!(format!("https://atende.example/schemas/{path}")),
        );
        o.insert("title".into(), json!(title));
    }
    let mut contents = serde_json::to_string_pretty(&sorted(schema)).unwrap_or_default();
    contents.push('\n');
    SchemaFile {
        path: path.to_owned(),
        contents,
    }
}

/// An event enum's schema split into one file per variant: the payload as stored, an
/// object with the variant's name as its only key.
fn split<E: JsonSchema>(kind: AggregateKind) -> Vec<SchemaFile> {
    let root = schemars::schema_for!(E).to_value();
    let defs = root.get("$defs").cloned();
    let variants = root
        .get("oneOf")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for variant in variants {
        let names: Vec<String> = match variant.get("properties").and_then(Value::as_object) {
            Some(p) => p.keys().cloned().collect(),
            None => variant
                .get("enum")
                .and_then(Value::as_array)
                .map(|e| {
                    e.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .or_else(|| {
                    variant
                        .get("const")
                        .and_then(Value::as_str)
                        .map(|c| vec![c.to_owned()])
                })
                .unwrap_or_default(),
        };
        for name in names {
            let mut schema = if variant.get("properties").is_some() {
                variant.clone()
            } else {
                json!({ "const": name })
            };
            if let (Some(o), Some(defs)) = (schema.as_object_mut(), defs.clone()) {
                o.insert("$defs".into(), defs);
            }
            let path = path_of(kind.as_str(), &name, EVENT_VERSION);
            out.push(file(&path, &format!("{name} v{EVENT_VERSION}"), schema));
        }
    }
    out
}

/// Object keys sorted at every level, so the files are stable across runs.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(o) => {
            let mut keys: Vec<(String, Value)> = o.into_iter().collect();
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                keys.into_iter()
                    .map(|(k, v)| (k, sorted(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}
