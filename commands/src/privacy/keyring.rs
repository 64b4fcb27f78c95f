//! Subject keys in `subject_keys`, wrapped by the master key, cached briefly in memory.

use super::subject::Subject;
use chrono::NaiveDate;
use quick_cache::sync::Cache;
use schemas::personal::{CryptoError, KeySet, MasterKey, SubjectKey};
use sqlx::PgPool;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long a key is used from memory. Destruction in this process evicts at once; this
/// bounds how long another process may still use a key destroyed elsewhere.
const KEY_TTL: Duration = Duration::from_secs(60);

const CHECK_VALUE: &[u8] = b"atende master key check v1";

/// Key management failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The database failed.
    #[error("the key store failed")]
    Database(#[from] sqlx::Error),
    /// The master key does not open what is stored.
    #[error("the master key does not match the one this database was set up with; refusing to write data no other process could read (check ATENDE_MASTER_KEY)")]
    WrongMasterKey,
    /// Another crypto failure.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// A subject key not stored yet: stored by the statement that appends the first events it
/// seals, or not at all when another writer stored the subject's key first.
pub struct PendingKey {
    /// The key.
    pub key: SubjectKey,
    pub(crate) row: NewKeyRow,
}

impl std::fmt::Debug for PendingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingKey")
            .field("key", &self.key)
            .field("subject", &self.row.subject)
            .finish_non_exhaustive()
    }
}

/// A `subject_keys` row to insert.
#[derive(Clone)]
pub(crate) struct NewKeyRow {
    pub key_id: Uuid,
    pub subject: String,
    pub period: NaiveDate,
    pub rotates: bool,
    pub tenant_id: Option<Uuid>,
    pub wrapped: Vec<u8>,
}

/// Creates, finds and destroys subject keys.
pub struct KeyRing {
    pool: PgPool,
    master: MasterKey,
    by_subject: Cache<(String, NaiveDate), (SubjectKey, Instant)>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Opens the ring, checking `master` against the database's check value (set on first use).
    pub async fn open(pool: PgPool, master: MasterKey) -> Result<Self, KeyError> {
        sqlx::query(
            "INSERT INTO master_key_check (id, wrapped) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        )
        .bind(master.wrap(CHECK_VALUE))
        .execute(&pool)
        .await?;
        let wrapped: Vec<u8> =
            sqlx::query_scalar("SELECT wrapped FROM master_key_check WHERE id = 1")
                .fetch_one(&pool)
                .await?;
        match master.unwrap_bytes(&wrapped) {
            Ok(v) if v == CHECK_VALUE => {}
            _ => return Err(KeyError::WrongMasterKey),
        }
        Ok(Self {
            pool,
            master,
            by_subject: Cache::new(10_000),
        })
    }

    /// The subject's key for `period` if this process used it within [`KEY_TTL`].
    fn cached(&self, subject: &Subject, period: NaiveDate) -> Option<SubjectKey> {
        self.by_subject
            .get(&(subject.id.clone(), period))
            .filter(|(_, at)| at.elapsed() < KEY_TTL)
            .map(|(key, _)| key)
    }

    /// A new key for a subject that has none in memory for `period`, to be stored in the
    /// statement that appends the first events it seals; `None` when one is in memory.
    pub fn pending_key(&self, subject: &Subject, period: NaiveDate) -> Option<PendingKey> {
        if self.cached(subject, period).is_some() {
            return None;
        }
        let (key, wrapped) = self.master.new_subject_key(Uuid::now_v7());
        Some(PendingKey {
            row: NewKeyRow {
                key_id: key.id(),
                subject: subject.id.clone(),
                period,
                rotates: subject.rotates,
                tenant_id: subject.tenant_id,
                wrapped,
            },
            key,
        })
    }

    /// Remembers a [`PendingKey`] its events' statement stored.
    pub fn remember(&self, pending: &PendingKey) {
        self.by_subject.insert(
            (pending.row.subject.clone(), pending.row.period),
            (pending.key.clone(), Instant::now()),
        );
    }

    /// The subject's key for `period`, created on first use.
    pub async fn key_for(
        &self,
        subject: &Subject,
        period: NaiveDate,
    ) -> Result<SubjectKey, KeyError> {
        if let Some(key) = self.cached(subject, period) {
            return Ok(key);
        }
        let cache_key = (subject.id.clone(), period);
        let (candidate, wrapped) = self.master.new_subject_key(Uuid::now_v7());
        // Concurrent first writers race on the unique (subject, period); all of them then use
        // whichever key won. A loser's INSERT waits for the winner's commit, but the statement's
        // snapshot predates that commit, so its SELECT may see no row: the next statement
        // (a new snapshot) does.
        let mut found = None;
        for _ in 0..3 {
            found = sqlx::query_as::<_, (Uuid, Vec<u8>)>(
                "WITH ins AS (
                    INSERT INTO subject_keys (key_id, subject, period, rotates, tenant_id, wrapped)
                    VALUES ($1, $2, $3, $4, $5, $6)
                    ON CONFLICT (subject, period) DO NOTHING
                    RETURNING key_id, wrapped)
                 SELECT key_id, wrapped FROM ins
                 UNION ALL
                 SELECT key_id, wrapped FROM subject_keys WHERE subject = $2 AND period = $3
                 LIMIT 1",
            )
            .bind(candidate.id())
            .bind(&subject.id)
            .bind(period)
            .bind(subject.rotates)
            .bind(subject.tenant_id)
            .bind(&wrapped)
            .fetch_optional(&self.pool)
            .await?;
            if found.is_some() {
                break;
            }
        }
        let (id, stored) = found.ok_or(sqlx::Error::RowNotFound)?;
        let key = if id == candidate.id() {
            candidate
        } else {
            self.master.open_subject_key(id, &stored)?
        };
        self.by_subject
            .insert(cache_key, (key.clone(), Instant::now()));
        Ok(key)
    }

    /// The keys with these ids that still exist, as an opener.
    pub async fn keys(&self, ids: &[Uuid]) -> Result<KeySet, KeyError> {
        let rows: Vec<(Uuid, Vec<u8>)> =
            sqlx::query_as("SELECT key_id, wrapped FROM subject_keys WHERE key_id = ANY($1)")
                .bind(ids)
                .fetch_all(&self.pool)
                .await?;
        let mut set = KeySet::default();
        for (id, wrapped) in rows {
            set.insert(self.master.open_subject_key(id, &wrapped)?);
        }
        Ok(set)
    }

    /// How many keys the subject has.
    pub async fn key_count(&self, subject: &str) -> Result<i64, KeyError> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM subject_keys WHERE subject = $1")
                .bind(subject)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Destroys every key of the subject; returns how many there were.
    pub async fn destroy_subject(&self, subject: &str) -> Result<u64, KeyError> {
        let n = sqlx::query("DELETE FROM subject_keys WHERE subject = $1")
            .bind(subject)
            .execute(&self.pool)
            .await?
            .rows_affected();
        self.by_subject.retain(|(s, _), _| s != subject);
        Ok(n)
    }

    /// Destroys rotating keys of periods before `today - retention_days`.
    pub async fn destroy_expired(
        &self,
        today: NaiveDate,
        retention_days: u32,
    ) -> Result<u64, KeyError> {
        let cutoff = today - chrono::Days::new(u64::from(retention_days));
        let n = sqlx::query("DELETE FROM subject_keys WHERE rotates AND period < $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await?
            .rows_affected();
        self.by_subject.retain(|(_, period), _| *period >= cutoff);
        Ok(n)
    }
}
