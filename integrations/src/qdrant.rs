//! The Qdrant index (qdrant-client, gRPC): one collection, every point tagged with its
//! tenant and version, and every search filtered by both.
//!
//! Each point carries two named vectors: `dense`, the chunk's embedding (cosine), and
//! `lexical`, a sparse vector of the chunk's terms as the lexical index analyses them
//! (stems after folding and stop words, the lexicon's concepts), hashed to indices, with
//! their saturated frequencies as values; the collection declares it with Qdrant's IDF
//! modifier, so Qdrant weighs each term by its rarity in the collection. A search is one
//! Query API request: a dense and a sparse prefetch, fused by reciprocal rank fusion.
//! A collection made before the sparse vector existed is dropped and made again (every
//! tenant in it is re-indexed at start: its `indexed_by` names the older layout).
//!
//! Point ids are derived from `<tenant>:<version>:<position>`, so indexing a version again
//! (a restart before the checkpoint committed, a redelivery) overwrites the same points.

use knowledge::index::{chunk_id, EmbeddedChunk, VectorIndex};
use knowledge::lexical::SparseTerms;
use knowledge::{KnowledgeError, RetrievedChunk};
use qdrant_client::qdrant::value::Kind;
use qdrant_client::qdrant::{
    vector_output, vectors_config, vectors_output, with_vectors_selector, Condition,
    CreateCollectionBuilder, CreateFieldIndexCollectionBuilder, DeletePointsBuilder, Distance,
    FieldType, Filter, Fusion, Modifier, NamedVectors, PointId, PointStruct, PrefetchQueryBuilder,
    Query, QueryPointsBuilder, QueryResponse, SparseVectorParamsBuilder,
    SparseVectorsConfigBuilder, UpsertPointsBuilder, Value, Vector, VectorInput,
    VectorParamsBuilder, VectorsConfigBuilder, VectorsSelector,
};
use qdrant_client::Qdrant;
use sqlx::PgConnection;
use std::collections::HashMap;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// The collection used when none is configured.
pub const DEFAULT_COLLECTION: &str = "atende_knowledge";
/// The name of the chunks' embedding in a point.
pub const DENSE_VECTOR: &str = "dense";
/// The name of the chunks' terms (a sparse vector with the IDF modifier) in a point.
pub const LEXICAL_VECTOR: &str = "lexical";
/// How many chunks each prefetch of a hybrid search brings, at least, to the fusion.
const PREFETCH: usize = 20;
/// Namespace of the point ids (UUID v5 of the chunk id).
const POINT_NAMESPACE: Uuid = Uuid::from_u128(0x6b6e_6f77_6c65_6467_6520_6174_656e_6465);

/// The Qdrant index.
pub struct QdrantIndex {
    client: Qdrant,
    collection: String,
    ready: OnceCell<()>,
}

impl std::fmt::Debug for QdrantIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QdrantIndex")
            .field("collection", &self.collection)
            .finish_non_exhaustive()
    }
}

fn index_error(e: impl std::fmt::Display) -> KnowledgeError {
    KnowledgeError::Index(e.to_string())
}

fn tenant_and_version(tenant_id: Uuid, version: u32) -> Vec<Condition> {
    vec![
        Condition::matches("tenant_id", tenant_id.to_string()),
        Condition::matches("version", i64::from(version)),
    ]
}

impl QdrantIndex {
    /// A client of the Qdrant at `url` (its gRPC port, e.g. `http://localhost:6334`),
    /// keeping every tenant's chunks in `collection`.
    pub fn connect(
        url: &str,
        api_key: Option<String>,
        collection: &str,
    ) -> Result<Self, KnowledgeError> {
        let client = Qdrant::from_url(url)
            .api_key(api_key)
            // The check is a request at build time; an unreachable server must not stop
            // `serve` from starting (indexing retries until it is back).
            .skip_compatibility_check()
            .build()
            .map_err(index_error)?;
        Ok(Self {
            client,
            collection: collection.to_owned(),
            ready: OnceCell::new(),
        })
    }

    /// Whether Qdrant answers its health check (`/health`).
    pub async fn check(&self) -> Result<(), KnowledgeError> {
        self.client
            .health_check()
            .await
            .map(drop)
            .map_err(index_error)
    }

    /// Whether the existing collection has the dense and the sparse (IDF) vectors.
    async fn has_hybrid_layout(&self) -> Result<bool, KnowledgeError> {
        let info = self
            .client
            .collection_info(&self.collection)
            .await
            .map_err(index_error)?;
        let Some(params) = info.result.and_then(|i| i.config).and_then(|c| c.params) else {
            return Ok(false);
        };
        let dense = matches!(
            params.vectors_config.and_then(|v| v.config),
            Some(vectors_config::Config::ParamsMap(m)) if m.map.contains_key(DENSE_VECTOR)
        );
        let sparse = params
            .sparse_vectors_config
            .and_then(|s| s.map.get(LEXICAL_VECTOR).cloned())
            .is_some_and(|p| p.modifier == Some(Modifier::Idf as i32));
        Ok(dense && sparse)
    }

    /// Creates the collection (the dense vector with cosine distance and `dimension`, the
    /// sparse one with the IDF modifier) and the tenant index once; drops one of an older
    /// layout first.
    async fn ensure_collection(&self, dimension: usize) -> Result<(), KnowledgeError> {
        self.ready
            .get_or_try_init(|| async {
                if self
                    .client
                    .collection_exists(&self.collection)
                    .await
                    .map_err(index_error)?
                {
                    if self.has_hybrid_layout().await? {
                        return Ok(());
                    }
                    // Its tenants are re-indexed at start (`indexed_by` names the older
                    // layout), so nothing is lost but the time to index them again.
                    tracing::warn!(collection = %self.collection, "the Qdrant collection has no sparse vector; making it again");
                    self.client
                        .delete_collection(&self.collection)
                        .await
                        .map_err(index_error)?;
                }
                let size = u64::try_from(dimension).map_err(index_error)?;
                let mut dense = VectorsConfigBuilder::default();
                dense.add_named_vector_params(
                    DENSE_VECTOR,
                    VectorParamsBuilder::new(size, Distance::Cosine),
                );
                let mut sparse = SparseVectorsConfigBuilder::default();
                sparse.add_named_vector_params(
                    LEXICAL_VECTOR,
                    SparseVectorParamsBuilder::default().modifier(Modifier::Idf),
                );
                self.client
                    .create_collection(
                        CreateCollectionBuilder::new(&self.collection)
                            .vectors_config(dense)
                            .sparse_vectors_config(sparse),
                    )
                    .await
                    .map_err(index_error)?;
                self.client
                    .create_field_index(
                        CreateFieldIndexCollectionBuilder::new(
                            &self.collection,
                            "tenant_id",
                            FieldType::Keyword,
                        )
                        .wait(true),
                    )
                    .await
                    .map_err(index_error)?;
                Ok::<(), KnowledgeError>(())
            })
            .await
            .map(|_| ())
    }

    /// The chunks of `response`, each scored by `score` (given its dense vector, if
    /// returned, and Qdrant's score); another tenant's point is dropped.
    fn chunks(
        tenant_id: Uuid,
        version: u32,
        response: QueryResponse,
        score: impl Fn(Option<&[f32]>, f32) -> f32,
    ) -> Result<Vec<RetrievedChunk>, KnowledgeError> {
        let mut found = Vec::with_capacity(response.result.len());
        for point in response.result {
            let text = |key: &str| match point.payload.get(key).and_then(|v| v.kind.as_ref()) {
                Some(Kind::StringValue(s)) => Some(s.clone()),
                _ => None,
            };
            let (Some(owner), Some(chunk_id), Some(text)) =
                (text("tenant_id"), text("chunk_id"), text("text"))
            else {
                return Err(KnowledgeError::Index(
                    "a Qdrant point lacks tenant_id, chunk_id or text".into(),
                ));
            };
            // The filter already excludes them; a misbehaving server must not leak one.
            if owner != tenant_id.to_string() {
                tracing::error!(%owner, "Qdrant returned another tenant's chunk; dropped");
                continue;
            }
            let dense = match point
                .vectors
                .as_ref()
                .and_then(|v| v.vectors_options.as_ref())
            {
                Some(vectors_output::VectorsOptions::Vectors(named)) => named
                    .vectors
                    .get(DENSE_VECTOR)
                    .and_then(|v| match &v.vector {
                        Some(vector_output::Vector::Dense(d)) => Some(d.data.as_slice()),
                        _ => None,
                    }),
                _ => None,
            };
            found.push(RetrievedChunk {
                chunk_id,
                knowledge_version: version,
                text,
                score: score(dense, point.score).clamp(0.0, 1.0),
            });
        }
        Ok(found)
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norms =
        a.iter().map(|x| x * x).sum::<f32>().sqrt() * b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norms == 0.0 {
        0.0
    } else {
        dot / norms
    }
}

#[async_trait::async_trait]
impl VectorIndex for QdrantIndex {
    fn kind(&self) -> &'static str {
        "qdrant"
    }

    fn layout(&self) -> &'static str {
        "qdrant-hybrid"
    }

    fn ranks_terms(&self) -> bool {
        true
    }

    #[tracing::instrument(name = "indexing a knowledge version in Qdrant", skip_all, fields(tenant = %tenant_id, version, chunks = chunks.len()))]
    async fn replace(
        &self,
        _db: &mut PgConnection,
        tenant_id: Uuid,
        version: u32,
        chunks: &[EmbeddedChunk],
    ) -> Result<(), KnowledgeError> {
        if let Some(first) = chunks.first() {
            self.ensure_collection(first.vector.len()).await?;
            let points: Vec<PointStruct> = chunks
                .iter()
                .map(|c| {
                    let id = chunk_id(tenant_id, version, c.position);
                    let payload: HashMap<&str, Value> = HashMap::from([
                        ("tenant_id", tenant_id.to_string().into()),
                        ("version", i64::from(version).into()),
                        ("position", i64::from(c.position).into()),
                        ("chunk_id", id.clone().into()),
                        ("text", c.text.clone().into()),
                    ]);
                    let point = Uuid::new_v5(&POINT_NAMESPACE, id.as_bytes());
                    let mut vectors = NamedVectors::default()
                        .add_vector(DENSE_VECTOR, Vector::new_dense(c.vector.clone()));
                    // Qdrant keeps no empty sparse vector; a chunk of stop words has none.
                    if !c.terms.is_empty() {
                        vectors = vectors.add_vector(
                            LEXICAL_VECTOR,
                            Vector::new_sparse(c.terms.indices.clone(), c.terms.values.clone()),
                        );
                    }
                    PointStruct::new(PointId::from(point.to_string()), vectors, payload)
                })
                .collect();
            self.client
                .upsert_points(UpsertPointsBuilder::new(&self.collection, points).wait(true))
                .await
                .map_err(index_error)?;
        } else if !self
            .client
            .collection_exists(&self.collection)
            .await
            .map_err(index_error)?
        {
            // Nothing to add and nothing that could hold an older version.
            return Ok(());
        }
        // Then drop every other version of this tenant (never another tenant's points).
        let others = Filter {
            must: vec![Condition::matches("tenant_id", tenant_id.to_string())],
            must_not: vec![Condition::matches("version", i64::from(version))],
            ..Default::default()
        };
        self.client
            .delete_points(
                DeletePointsBuilder::new(&self.collection)
                    .points(others)
                    .wait(true),
            )
            .await
            .map_err(index_error)?;
        Ok(())
    }

    #[tracing::instrument(name = "searching a tenant's knowledge in Qdrant", skip_all, fields(tenant = %tenant_id, version, k))]
    async fn search(
        &self,
        tenant_id: Uuid,
        version: u32,
        vector: &[f32],
        k: usize,
    ) -> Result<Vec<RetrievedChunk>, KnowledgeError> {
        let response = self
            .client
            .query(
                QueryPointsBuilder::new(&self.collection)
                    .query(vector.to_vec())
                    .using(DENSE_VECTOR)
                    .filter(Filter::must(tenant_and_version(tenant_id, version)))
                    .limit(u64::try_from(k).unwrap_or(u64::MAX))
                    .with_payload(true),
            )
            .await
            .map_err(index_error)?;
        Self::chunks(tenant_id, version, response, |_, score| score)
    }

    #[tracing::instrument(name = "searching a tenant's knowledge in Qdrant by vector and terms", skip_all, fields(tenant = %tenant_id, version, k, terms = terms.indices.len()))]
    async fn search_hybrid(
        &self,
        tenant_id: Uuid,
        version: u32,
        vector: &[f32],
        terms: &SparseTerms,
        k: usize,
    ) -> Result<Vec<RetrievedChunk>, KnowledgeError> {
        let tenant = || Filter::must(tenant_and_version(tenant_id, version));
        let prefetch = u64::try_from(k.max(PREFETCH)).unwrap_or(u64::MAX);
        // Every prefetch carries the tenant's filter: each ranks only this tenant's
        // chunks, whatever Qdrant does with the outer one.
        let mut request = QueryPointsBuilder::new(&self.collection).add_prefetch(
            PrefetchQueryBuilder::default()
                .using(DENSE_VECTOR)
                .query(Query::new_nearest(vector.to_vec()))
                .filter(tenant())
                .limit(prefetch),
        );
        if !terms.is_empty() {
            request = request.add_prefetch(
                PrefetchQueryBuilder::default()
                    .using(LEXICAL_VECTOR)
                    .query(Query::new_nearest(VectorInput::new_sparse(
                        terms.indices.clone(),
                        terms.values.clone(),
                    )))
                    .filter(tenant())
                    .limit(prefetch),
            );
        }
        let response = self
            .client
            .query(
                request
                    .query(Query::new_fusion(Fusion::Rrf))
                    .filter(tenant())
                    .limit(u64::try_from(k).unwrap_or(u64::MAX))
                    .with_payload(true)
                    .with_vectors(with_vectors_selector::SelectorOptions::Include(
                        VectorsSelector {
                            names: vec![DENSE_VECTOR.to_owned()],
                        },
                    )),
            )
            .await
            .map_err(index_error)?;
        // Fusion scores are ranks, not similarities: the cosine is computed here from the
        // dense vector returned, so callers weigh a chunk as the other indexes let them.
        Self::chunks(tenant_id, version, response, |dense, _| {
            dense.map_or(0.0, |d| cosine(vector, d))
        })
    }
}
