//! The Qdrant index (qdrant-client, gRPC): one collection, every point tagged with its
//! tenant and version, and every search filtered by both.
//!
//! Point ids are derived from `<tenant>:<version>:<position>`, so indexing a version again
//! (a restart before the checkpoint committed, a redelivery) overwrites the same points.

use super::{chunk_id, EmbeddedChunk, VectorIndex};
use crate::knowledge::{KnowledgeError, RetrievedChunk};
use qdrant_client::qdrant::value::Kind;
use qdrant_client::qdrant::{
    Condition, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder, DeletePointsBuilder,
    Distance, FieldType, Filter, PointId, PointStruct, QueryPointsBuilder, UpsertPointsBuilder,
    Value, VectorParamsBuilder,
};
use qdrant_client::Qdrant;
use sqlx::PgConnection;
use std::collections::HashMap;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// The collection used when none is configured.
pub const DEFAULT_COLLECTION: &str = "atende_knowledge";
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

    /// Creates the collection (cosine distance, `dimension`) and the tenant index once.
    async fn ensure_collection(&self, dimension: usize) -> Result<(), KnowledgeError> {
        self.ready
            .get_or_try_init(|| async {
                if !self
                    .client
                    .collection_exists(&self.collection)
                    .await
                    .map_err(index_error)?
                {
                    let size = u64::try_from(dimension).map_err(index_error)?;
                    self.client
                        .create_collection(
                            CreateCollectionBuilder::new(&self.collection)
                                .vectors_config(VectorParamsBuilder::new(size, Distance::Cosine)),
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
                }
                Ok::<(), KnowledgeError>(())
            })
            .await
            .map(|_| ())
    }
}

#[async_trait::async_trait]
impl VectorIndex for QdrantIndex {
    fn kind(&self) -> &'static str {
        "qdrant"
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
                    PointStruct::new(PointId::from(point.to_string()), c.vector.clone(), payload)
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
                    .filter(Filter::must(tenant_and_version(tenant_id, version)))
                    .limit(u64::try_from(k).unwrap_or(u64::MAX))
                    .with_payload(true),
            )
            .await
            .map_err(index_error)?;
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
            found.push(RetrievedChunk {
                chunk_id,
                knowledge_version: version,
                text,
                score: point.score.clamp(0.0, 1.0),
            });
        }
        Ok(found)
    }
}
