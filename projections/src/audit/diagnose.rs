//! Telling kinds of break apart, and the events beyond the sealed head.

use super::link::{link_hash, LinkedEvent};
use super::verify::{Break, BreakReason};
use futures::TryStreamExt;
use sqlx::{PgPool, Row};

/// An event's hashed columns, kept past the row they were read from.
#[derive(Debug, Clone)]
pub(super) struct OwnedEvent {
    position: i64,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
}

impl From<&LinkedEvent<'_>> for OwnedEvent {
    fn from(e: &LinkedEvent<'_>) -> Self {
        Self {
            position: e.position,
            aggregate_type: e.aggregate_type.to_owned(),
            aggregate_id: e.aggregate_id.to_owned(),
            sequence: e.sequence,
            event_type: e.event_type.to_owned(),
            event_version: e.event_version.to_owned(),
            payload: e.payload.to_owned(),
            metadata: e.metadata.to_owned(),
        }
    }
}

impl OwnedEvent {
    /// The event as it would have been sealed at `position`.
    fn at(&self, position: i64) -> LinkedEvent<'_> {
        LinkedEvent {
            position,
            aggregate_type: &self.aggregate_type,
            aggregate_id: &self.aggregate_id,
            sequence: self.sequence,
            event_type: &self.event_type,
            event_version: &self.event_version,
            payload: &self.payload,
            metadata: &self.metadata,
        }
    }
}

/// The break at `link_no`, whose event no longer hashes to it: moved there from another link
/// (its columns, bar the position, are exactly what that link sealed) or edited.
///
/// Rows swapped or renumbered keep their content, so they hash to their original link once
/// given that link's position; an edited row hashes to no link. Only runs once a break is
/// found, so one pass over the link hashes is affordable.
#[tracing::instrument(
    name = "telling an edited event from a moved one",
    skip_all,
    fields(link_no)
)]
pub(super) async fn edited(
    pool: &PgPool,
    link_no: i64,
    event: &OwnedEvent,
    head_link: i64,
) -> Result<Break, sqlx::Error> {
    let mut links = sqlx::query(
        "SELECT link_no, position, hash FROM event_chain WHERE link_no <= $1 ORDER BY link_no",
    )
    .bind(head_link)
    .fetch(pool);
    let mut prev: Option<[u8; 32]> = None;
    let mut sealed_as = None;
    while let Some(row) = links.try_next().await? {
        let (other, position): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        let hash: &[u8] = row.try_get(2)?;
        if let Some(p) = prev.filter(|_| other != link_no) {
            if link_hash(&p, &event.at(position))[..] == *hash {
                sealed_as = Some(other);
                break;
            }
        }
        prev = hash.try_into().ok();
    }
    let position = event.position;
    Ok(match sealed_as {
        Some(other) => Break {
            link_no,
            position,
            reason: BreakReason::OrderMismatch,
            sealed_as_link: Some(other),
            detail: format!(
                "the event now stored at position {position} was sealed as link {other}, \
                 not as link {link_no}: rows were moved or swapped"
            ),
        },
        None => Break {
            link_no,
            position,
            reason: BreakReason::PayloadMismatch,
            sealed_as_link: None,
            detail: format!(
                "the event at position {position} no longer matches link {link_no}: \
                 it was edited after it was sealed"
            ),
        },
    })
}

/// Every event, and those after the sealed head in tail order (by position alone when the
/// head's own row is gone, which `verify` reports as a break anyway).
pub(super) async fn count_events(
    pool: &PgPool,
    head_position: i64,
    head_tx: Option<i64>,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*),
                count(*) FILTER (WHERE CASE WHEN $2::bigint IS NULL THEN position > $1
                     ELSE (tx_id, position) > ($2::bigint::text::xid8, $1) END)
           FROM events",
    )
    .bind(head_position)
    .bind(head_tx)
    .fetch_one(pool)
    .await
}

/// The first unsealed event before the sealed head, in tail order. Events are sealed in
/// that order without skipping, so such an event was inserted after its successors were
/// sealed.
#[tracing::instrument(name = "finding an unsealed event before the sealed head", skip(pool))]
pub(super) async fn first_stray(
    pool: &PgPool,
    head_tx: i64,
    head_position: i64,
) -> Result<Option<Break>, sqlx::Error> {
    let stray: Option<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT e.position,
                (SELECT min(c.link_no) FROM event_chain c JOIN events n ON n.position = c.position
                  WHERE (n.tx_id, n.position) > (e.tx_id, e.position))
           FROM events e
          WHERE (e.tx_id, e.position) < ($1::bigint::text::xid8, $2)
            AND NOT EXISTS (SELECT 1 FROM event_chain c WHERE c.position = e.position)
          ORDER BY e.tx_id, e.position
          LIMIT 1",
    )
    .bind(head_tx)
    .bind(head_position)
    .fetch_optional(pool)
    .await?;
    Ok(stray.map(|(position, next_link)| Break {
        link_no: next_link.unwrap_or(0),
        position,
        reason: BreakReason::UnsealedGap,
        sealed_as_link: None,
        detail: format!(
            "the event at position {position} is not sealed although later events are: \
             it was inserted afterwards"
        ),
    }))
}
