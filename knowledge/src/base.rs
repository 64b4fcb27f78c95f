//! [`KnowledgeBase`]: the embedder and the index together, indexing versions and answering
//! searches.

use super::chunker::chunk;
use super::embed::Embedder;
use super::index::{chunk_id, EmbeddedChunk, VectorIndex};
use super::lexical::{reciprocal_rank_fusion, LexicalHit, LexicalIndex, Passage};
use super::{pg_int, KnowledgeError, RetrievedChunk, Retriever};
use chrono::{DateTime, Utc};
use quick_cache::sync::Cache;
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use uuid::Uuid;

/// Names the lexical index in `indexed_by`: a tenant indexed without it is re-indexed.
pub const LEXICAL: &str = "bm25-v1";
/// Tenants whose lexical index stays in memory at once.
const CACHED_LEXICAL: usize = 512;

/// The most chunks a search returns, whatever `k` asks.
pub const MAX_K: usize = 50;

/// What the indexer has finished for a tenant.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IndexStatus {
    /// The knowledge version searches read.
    pub version: u32,
    /// How many chunks it was cut into.
    pub chunk_count: u32,
    /// The index and embedding that hold it (`memory+local-hashed-v1/1024`).
    pub indexed_by: String,
    /// When it was indexed.
    pub indexed_at: DateTime<Utc>,
}

/// A tenant's knowledge, searchable: the embedder, the index, and the record of which
/// version of each tenant is indexed.
#[derive(Debug, Clone)]
pub struct KnowledgeBase {
    pool: PgPool,
    embedder: Arc<dyn Embedder>,
    index: Arc<dyn VectorIndex>,
    lexical: Arc<Cache<(Uuid, u32), Arc<LexicalIndex>>>,
}

fn db_error(e: sqlx::Error) -> KnowledgeError {
    KnowledgeError::Index(e.to_string())
}

impl KnowledgeBase {
    /// Knowledge embedded by `embedder` and kept in `index`; `pool` holds the index state.
    pub fn new(pool: PgPool, embedder: Arc<dyn Embedder>, index: Arc<dyn VectorIndex>) -> Self {
        Self {
            pool,
            embedder,
            index,
            lexical: Arc::new(Cache::new(CACHED_LEXICAL)),
        }
    }

    /// The embedded default: the local embedding over the in-process index.
    pub fn local(pool: PgPool) -> Self {
        let index = Arc::new(super::index::MemoryIndex::new(pool.clone()));
        Self::new(pool, Arc::new(super::embed::LocalEmbedder), index)
    }

    /// Which index and embedding are in use: vectors indexed under another pair are not
    /// searchable here and get re-indexed.
    pub fn describe(&self) -> String {
        format!("{}+{}+{LEXICAL}", self.index.layout(), self.embedder.id())
    }

    /// Whether the vector index's ranking (or, with Qdrant, its cosine) counts beside the
    /// lexical one: only with a real embedding (an embeddings endpoint). The local hashed
    /// embedding only adds noise to BM25, so it is left out.
    fn fuses_dense(&self) -> bool {
        !self.embedder.id().starts_with("local-")
    }

    /// The lexical index of `tenant_id`'s `version`, built from its text on first use;
    /// `None` when the text was not kept (indexed before the lexical index existed).
    async fn lexical(
        &self,
        tenant_id: Uuid,
        version: u32,
    ) -> Result<Option<Arc<LexicalIndex>>, KnowledgeError> {
        if let Some(hit) = self.lexical.get(&(tenant_id, version)) {
            return Ok(Some(hit));
        }
        let text: Option<String> = sqlx::query_scalar(
            "SELECT text FROM knowledge_index_texts WHERE tenant_id = $1 AND version = $2",
        )
        .bind(tenant_id)
        .bind(pg_int(version))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(text.map(|text| {
            let index = Arc::new(LexicalIndex::build(&text));
            self.lexical.insert((tenant_id, version), index.clone());
            index
        }))
    }

    /// The `k` passages of `lexical` best matching `query`, fused with the vector index's
    /// chunks when the embedding is a real one. A passage's score is its calibrated
    /// lexical confidence; with fusion, the higher of that and its chunk's cosine mapped
    /// onto 0..=1 by `(cosine − 0.3) / 0.4` (not calibrated on data: no embeddings API
    /// took part in the measurements).
    async fn search_lexical(
        &self,
        tenant_id: Uuid,
        version: u32,
        lexical: &LexicalIndex,
        query: &str,
        k: usize,
    ) -> Result<Vec<RetrievedChunk>, KnowledgeError> {
        let passages = lexical.passages();
        let passage = |i: usize, score: f32| RetrievedChunk {
            chunk_id: chunk_id(tenant_id, version, u32::try_from(i).unwrap_or(u32::MAX)),
            knowledge_version: version,
            text: passages[i].text.clone(),
            score,
        };
        if self.index.ranks_terms() {
            return self
                .search_hybrid(tenant_id, version, lexical, query, k)
                .await;
        }
        if !self.fuses_dense() {
            return Ok(lexical
                .search(query, k)
                .into_iter()
                .map(|h| passage(h.passage, h.confidence))
                .collect());
        }
        let hits = lexical.search(query, super::MAX_K);
        let vector = self.embed_query(query).await?;
        let chunks = self
            .index
            .search(tenant_id, version, &vector, k * 2)
            .await?;
        // A passage's dense rank is that of the first chunk holding its first line.
        let dense = passages_of(passages, &chunks, &[]);
        let fused = reciprocal_rank_fusion(&[
            hits.iter().map(|h| h.passage).collect(),
            dense.iter().map(|(i, _)| *i).collect(),
        ]);
        Ok(fused
            .into_iter()
            .take(k)
            .map(|(i, _)| {
                let lexical = hits
                    .iter()
                    .find(|h| h.passage == i)
                    .map_or(0.0, |h| h.confidence);
                let cosine = dense.iter().find(|(j, _)| *j == i).map_or(0.0, |(_, s)| *s);
                passage(i, lexical.max(((cosine - 0.3) / 0.4).clamp(0.0, 1.0)))
            })
            .collect())
    }

    /// The passages of the chunks an index ranking by terms too (Qdrant) returns for
    /// `query` in one hybrid query, scored as [`Self::search_lexical`] scores them: the
    /// index picks the candidates, the confidence comes from the same features here, so
    /// the same knowledge gets the same decision whichever index holds it. With the local
    /// embedding the order and scores are the lexical ones (its cosine is left out, as
    /// [`Self::fuses_dense`] leaves it out of the in-process index); with a real one, the
    /// passages are ordered by that score, then by the index's ranking.
    async fn search_hybrid(
        &self,
        tenant_id: Uuid,
        version: u32,
        lexical: &LexicalIndex,
        query: &str,
        k: usize,
    ) -> Result<Vec<RetrievedChunk>, KnowledgeError> {
        let passages = lexical.passages();
        let vector = self.embed_query(query).await?;
        let chunks = self
            .index
            .search_hybrid(
                tenant_id,
                version,
                &vector,
                &lexical.query_terms(query),
                k * 2,
            )
            .await?;
        let hits = lexical.search(query, super::MAX_K);
        let real_dense = self.fuses_dense();
        let mut found: Vec<(usize, Option<usize>, usize, f32)> =
            passages_of(passages, &chunks, &hits)
                .into_iter()
                .enumerate()
                .map(|(order, (i, cosine))| {
                    let rank = hits.iter().position(|h| h.passage == i);
                    let lexical = rank.map_or(0.0, |r| hits[r].confidence);
                    let dense = if real_dense {
                        ((cosine - 0.3) / 0.4).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    (order, rank, i, lexical.max(dense))
                })
                .collect();
        if real_dense {
            found.sort_by(|a, b| b.3.total_cmp(&a.3).then(a.0.cmp(&b.0)));
        } else {
            found.sort_by_key(|&(order, rank, _, _)| (rank.unwrap_or(usize::MAX), order));
        }
        Ok(found
            .into_iter()
            .take(k)
            .map(|(_, _, i, score)| RetrievedChunk {
                chunk_id: chunk_id(tenant_id, version, u32::try_from(i).unwrap_or(u32::MAX)),
                knowledge_version: version,
                text: passages[i].text.clone(),
                score,
            })
            .collect())
    }

    async fn embed_query(&self, query: &str) -> Result<Vec<f32>, KnowledgeError> {
        self.embedder
            .embed(&[query.to_owned()])
            .await?
            .pop()
            .ok_or_else(|| KnowledgeError::Embedding("no vector for the query".into()))
    }

    /// Indexes `tenant_id`'s knowledge `version` (`text`) in `db`, the caller's
    /// transaction, replacing its other versions. Does nothing, and says so with `false`,
    /// when this or a later version is already indexed by the same embedding: a redelivered
    /// or replayed event never goes back in time.
    #[tracing::instrument(name = "indexing a tenant's knowledge version", skip_all, fields(tenant = %tenant_id, version))]
    pub async fn index_version(
        &self,
        db: &mut PgConnection,
        tenant_id: Uuid,
        version: u32,
        text: &str,
    ) -> Result<bool, KnowledgeError> {
        let embedder = self.describe();
        // Locked, so two processes indexing the same tenant take turns.
        let current: Option<(i32, String)> = sqlx::query_as(
            "SELECT version, indexed_by FROM knowledge_index_state WHERE tenant_id = $1 FOR UPDATE",
        )
        .bind(tenant_id)
        .fetch_optional(&mut *db)
        .await
        .map_err(db_error)?;
        if let Some((indexed, by)) = current {
            if indexed > pg_int(version) || (indexed == pg_int(version) && by == embedder) {
                tracing::debug!(indexed, "already indexed");
                return Ok(false);
            }
        }
        let texts = chunk(text);
        let lexical = LexicalIndex::build(text);
        let vectors = if texts.is_empty() {
            Vec::new()
        } else {
            self.embedder.embed(&texts).await?
        };
        if vectors.len() != texts.len() {
            return Err(KnowledgeError::Embedding(format!(
                "{} vectors for {} chunks",
                vectors.len(),
                texts.len()
            )));
        }
        let chunks: Vec<EmbeddedChunk> = texts
            .into_iter()
            .zip(vectors)
            .zip(0u32..)
            .map(|((text, vector), position)| EmbeddedChunk {
                position,
                terms: lexical.document_terms(&text),
                text,
                vector,
            })
            .collect();
        self.index.replace(db, tenant_id, version, &chunks).await?;
        sqlx::query(
            "INSERT INTO knowledge_index_texts (tenant_id, version, text) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id) DO UPDATE SET version = EXCLUDED.version, text = EXCLUDED.text",
        )
        .bind(tenant_id)
        .bind(pg_int(version))
        .bind(text)
        .execute(&mut *db)
        .await
        .map_err(db_error)?;
        self.lexical.remove(&(tenant_id, version));
        sqlx::query(
            "INSERT INTO knowledge_index_state (tenant_id, version, chunk_count, indexed_by, indexed_at)
             VALUES ($1, $2, $3, $4, now())
             ON CONFLICT (tenant_id) DO UPDATE
                SET version = EXCLUDED.version, chunk_count = EXCLUDED.chunk_count,
                    indexed_by = EXCLUDED.indexed_by, indexed_at = EXCLUDED.indexed_at",
        )
        .bind(tenant_id)
        .bind(pg_int(version))
        .bind(i32::try_from(chunks.len()).unwrap_or(i32::MAX))
        .bind(&embedder)
        .execute(&mut *db)
        .await
        .map_err(db_error)?;
        tracing::info!(chunks = chunks.len(), indexed_by = %embedder, "knowledge indexed");
        Ok(true)
    }

    /// Re-indexes, from the `knowledge` read model, every tenant indexed under another index
    /// or embedding (the settings changed since): their searches fail until then, because
    /// the vectors are elsewhere or not comparable. Returns how many.
    #[tracing::instrument(name = "re-indexing knowledge made by another embedding", skip_all)]
    pub async fn reindex_stale(&self) -> Result<usize, KnowledgeError> {
        let stale: Vec<(Uuid, i32, String)> = sqlx::query_as(
            "SELECT d.tenant_id, d.version, d.text
               FROM knowledge_index_state s JOIN knowledge_documents d USING (tenant_id)
              WHERE s.indexed_by <> $1",
        )
        .bind(self.describe())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        for (tenant_id, version, text) in &stale {
            let mut tx = self.pool.begin().await.map_err(db_error)?;
            let version = u32::try_from(*version).unwrap_or(0);
            self.index_version(&mut tx, *tenant_id, version, text)
                .await?;
            tx.commit().await.map_err(db_error)?;
        }
        Ok(stale.len())
    }

    /// What is indexed for `tenant_id`, if anything.
    pub async fn status(&self, tenant_id: Uuid) -> Result<Option<IndexStatus>, KnowledgeError> {
        let row: Option<(i32, i32, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT version, chunk_count, indexed_by, indexed_at
               FROM knowledge_index_state WHERE tenant_id = $1",
        )
        .bind(tenant_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(
            |(version, chunk_count, indexed_by, indexed_at)| IndexStatus {
                version: u32::try_from(version).unwrap_or(0),
                chunk_count: u32::try_from(chunk_count).unwrap_or(0),
                indexed_by,
                indexed_at,
            },
        ))
    }
}

#[async_trait::async_trait]
impl Retriever for KnowledgeBase {
    #[tracing::instrument(name = "retrieving a tenant's knowledge for a query", skip_all, fields(tenant = %tenant_id, k))]
    async fn search(
        &self,
        tenant_id: Uuid,
        query: &str,
        k: usize,
    ) -> Result<Vec<RetrievedChunk>, KnowledgeError> {
        let k = k.min(MAX_K);
        if k == 0 || query.trim().is_empty() {
            return Ok(Vec::new());
        }
        let Some(status) = self.status(tenant_id).await? else {
            return Ok(Vec::new());
        };
        if status.indexed_by != self.describe() {
            return Err(KnowledgeError::Index(format!(
                "this tenant's knowledge was indexed by {} and is being re-indexed by {}",
                status.indexed_by,
                self.describe()
            )));
        }
        if status.chunk_count == 0 {
            return Ok(Vec::new());
        }
        if let Some(lexical) = self.lexical(tenant_id, status.version).await? {
            return self
                .search_lexical(tenant_id, status.version, &lexical, query, k)
                .await;
        }
        let vector = self.embed_query(query).await?;
        self.index
            .search(tenant_id, status.version, &vector, k)
            .await
    }
}

/// The passages held by `chunks` (a passage is in the chunk holding its first line), in
/// the chunks' order, each with its chunk's score; the passages of one chunk in the order
/// of `hits`, then of the knowledge.
fn passages_of(
    passages: &[Passage],
    chunks: &[RetrievedChunk],
    hits: &[LexicalHit],
) -> Vec<(usize, f32)> {
    let mut found: Vec<(usize, f32)> = Vec::new();
    for c in chunks {
        let mut inside: Vec<usize> = passages
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                let head = p.text.lines().next().unwrap_or_default();
                c.text.contains(head) && !found.iter().any(|(j, _)| j == i)
            })
            .map(|(i, _)| i)
            .collect();
        inside.sort_by_key(|i| {
            (
                hits.iter()
                    .position(|h| h.passage == *i)
                    .unwrap_or(usize::MAX),
                *i,
            )
        });
        found.extend(inside.into_iter().map(|i| (i, c.score)));
    }
    found
}
