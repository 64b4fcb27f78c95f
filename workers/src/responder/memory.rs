//! The conversation's last messages, opened for the model.

use commands::privacy::{KeyError, KeyRing};
use schemas::personal::{open_json, sealed_key_ids};
use sqlx::PgPool;

/// Who wrote a remembered message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The customer.
    Customer,
    /// The AI.
    Ai,
    /// A tenant user.
    Human,
}

/// One remembered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    /// Its event's position.
    pub position: i64,
    /// Who wrote it.
    pub role: Role,
    /// Its text; `None` for media without a caption or a text no longer readable.
    pub text: Option<String>,
}

/// Why the memory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// The database failed.
    #[error("reading the conversation's memory")]
    Database(#[from] sqlx::Error),
    /// The subject keys could not be read.
    #[error("opening the conversation's memory")]
    Keys(#[from] KeyError),
}

/// The remembered messages of `conversation_id`, oldest first, opened.
pub async fn load(
    pool: &PgPool,
    keys: &KeyRing,
    conversation_id: &str,
) -> Result<Vec<Remembered>, MemoryError> {
    let rows: Vec<(i64, String, Option<serde_json::Value>)> = sqlx::query_as(
        "SELECT position, role, text FROM ai_memory WHERE conversation_id = $1
          ORDER BY position",
    )
    .bind(conversation_id)
    .fetch_all(pool)
    .await?;
    let mut ids = Vec::new();
    for (_, _, text) in &rows {
        if let Some(t) = text {
            sealed_key_ids(t, &mut ids);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let opener = keys.keys(&ids).await?;
    Ok(rows
        .into_iter()
        .map(|(position, role, text)| {
            let text = text.and_then(|mut t| {
                open_json(&mut t, &opener);
                t.as_str()
                    .filter(|s| *s != schemas::personal::ERASED && !s.trim().is_empty())
                    .map(str::to_owned)
            });
            let role = match role.as_str() {
                "customer" => Role::Customer,
                "ai" => Role::Ai,
                _ => Role::Human,
            };
            Remembered {
                position,
                role,
                text,
            }
        })
        .collect())
}
