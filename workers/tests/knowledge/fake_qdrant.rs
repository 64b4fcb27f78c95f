//! An in-test Qdrant: the Collections and Points gRPC services qdrant-client itself ships
//! (`qdrant_client::qdrant::{collections_server, points_server}`, generated from Qdrant's
//! protos), holding points in memory and evaluating the filters it receives, so the adapter's
//! requests are checked on the wire. Methods the adapter does not use answer UNIMPLEMENTED.
//!
//! Named dense and sparse vectors, the sparse IDF modifier (Qdrant's
//! `ln(1 + (N − n + 0.5) / (n + 0.5))` over the collection's points) and the Query API's
//! prefetches fused by reciprocal rank fusion (Qdrant's `1 / (k + rank)`, rank from 0,
//! `k = 2` by default) are evaluated as Qdrant documents them.

use qdrant_client::qdrant as q;
use qdrant_client::qdrant::collections_server::{Collections, CollectionsServer};
use qdrant_client::qdrant::points_server::{Points, PointsServer};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tonic::{Request, Response, Status};

type Rpc<T> = Result<Response<T>, Status>;

fn unimplemented<T>(name: &str) -> Rpc<T> {
    Err(Status::unimplemented(format!(
        "the test Qdrant does not implement {name}"
    )))
}

/// A stored point: its vectors by name and its payload.
#[derive(Debug, Clone, Default)]
pub struct Point {
    pub dense: HashMap<String, Vec<f32>>,
    pub sparse: HashMap<String, q::SparseVector>,
    pub payload: HashMap<String, q::Value>,
}

#[derive(Debug, Default)]
pub struct Collection {
    /// The dense vectors' parameters by name (`""` for an unnamed one).
    pub vectors: HashMap<String, q::VectorParams>,
    /// The sparse vectors' parameters by name.
    pub sparse_vectors: HashMap<String, q::SparseVectorParams>,
    pub indexed_fields: Vec<String>,
    pub points: BTreeMap<String, Point>,
}

/// What the server holds and every call it received, in order.
#[derive(Debug, Default)]
pub struct State {
    pub collections: HashMap<String, Collection>,
    pub calls: Vec<String>,
    /// The filter of every query, as received.
    pub query_filters: Vec<Option<q::Filter>>,
    /// Every query, as received.
    pub queries: Vec<q::QueryPoints>,
}

#[derive(Debug, Clone, Default)]
pub struct FakeQdrant {
    pub state: Arc<Mutex<State>>,
}

impl FakeQdrant {
    /// Serves both services on a random local port; returns the URL to give the client.
    pub async fn start() -> (Self, String) {
        let fake = Self::default();
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("an address");
        let incoming = tokio_stream_from(listener);
        let server = tonic::transport::Server::builder()
            .add_service(CollectionsServer::new(fake.clone()))
            .add_service(PointsServer::new(fake.clone()));
        tokio::spawn(async move {
            server
                .serve_with_incoming(incoming)
                .await
                .expect("the test Qdrant serves");
        });
        (fake, format!("http://{addr}"))
    }

    fn log(&self, call: &str) -> std::sync::MutexGuard<'_, State> {
        let mut state = self.state.lock().expect("the state");
        state.calls.push(call.to_owned());
        state
    }
}

/// The listener as the stream of connections tonic serves.
fn tokio_stream_from(
    listener: tokio::net::TcpListener,
) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    futures::stream::unfold(listener, |listener| async move {
        let conn = listener.accept().await.map(|(stream, _)| stream);
        Some((conn, listener))
    })
}

fn done() -> q::PointsOperationResponse {
    q::PointsOperationResponse {
        result: Some(q::UpdateResult {
            operation_id: Some(0),
            status: q::UpdateStatus::Completed as i32,
        }),
        ..Default::default()
    }
}

fn keyword(point: &Point, key: &str) -> Option<q::r#match::MatchValue> {
    match point.payload.get(key)?.kind.as_ref()? {
        q::value::Kind::StringValue(s) => Some(q::r#match::MatchValue::Keyword(s.clone())),
        q::value::Kind::IntegerValue(i) => Some(q::r#match::MatchValue::Integer(*i)),
        _ => None,
    }
}

fn condition_holds(point: &Point, c: &q::Condition) -> Result<bool, Status> {
    match &c.condition_one_of {
        Some(q::condition::ConditionOneOf::Field(f)) => {
            let wanted = f
                .r#match
                .as_ref()
                .and_then(|m| m.match_value.clone())
                .ok_or_else(|| Status::invalid_argument("only match conditions are supported"))?;
            Ok(keyword(point, &f.key) == Some(wanted))
        }
        Some(q::condition::ConditionOneOf::Filter(inner)) => matches(point, inner),
        _ => Err(Status::invalid_argument("unsupported condition")),
    }
}

/// Qdrant's semantics for `must`, `must_not` and `should`.
fn matches(point: &Point, f: &q::Filter) -> Result<bool, Status> {
    for c in &f.must {
        if !condition_holds(point, c)? {
            return Ok(false);
        }
    }
    for c in &f.must_not {
        if condition_holds(point, c)? {
            return Ok(false);
        }
    }
    if !f.should.is_empty() {
        let mut any = false;
        for c in &f.should {
            any |= condition_holds(point, c)?;
        }
        return Ok(any);
    }
    Ok(true)
}

#[allow(deprecated)] // clients before 1.16 send the vector in the deprecated `data`
fn dense(v: &q::Vector) -> Vec<f32> {
    match &v.vector {
        Some(q::vector::Vector::Dense(d)) => d.data.clone(),
        _ => v.data.clone(),
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// Qdrant's IDF of a sparse vector's index: over the collection's points having that
/// sparse vector, however filtered the query.
fn idf(c: &Collection, using: &str, index: u32) -> f32 {
    let with: Vec<&q::SparseVector> = c
        .points
        .values()
        .filter_map(|p| p.sparse.get(using))
        .collect();
    let n = with.len() as f32;
    let df = with.iter().filter(|s| s.indices.contains(&index)).count() as f32;
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// The ids of the points `query` (a nearest query on the vector `using`) ranks, best
/// first, filtered by `filter`, at most `limit`. A sparse query only finds points sharing
/// one of its indices.
fn rank(
    c: &Collection,
    query: Option<&q::Query>,
    using: Option<&str>,
    filter: Option<&q::Filter>,
    limit: u64,
) -> Result<Vec<(String, f32)>, Status> {
    let using = using.unwrap_or("");
    let input = match query.and_then(|q| q.variant.as_ref()) {
        Some(q::query::Variant::Nearest(q::VectorInput { variant: Some(v) })) => v,
        _ => return Err(Status::invalid_argument("a nearest query is expected")),
    };
    let mut found = Vec::new();
    for (id, p) in &c.points {
        if let Some(f) = filter {
            if !matches(p, f)? {
                continue;
            }
        }
        let score = match input {
            q::vector_input::Variant::Dense(d) => {
                if !c.vectors.contains_key(using) {
                    return Err(Status::invalid_argument(format!(
                        "Wrong input: Not existing vector name error: {using}"
                    )));
                }
                match p.dense.get(using) {
                    Some(v) => cosine(&d.data, v),
                    None => continue,
                }
            }
            q::vector_input::Variant::Sparse(s) => {
                let Some(params) = c.sparse_vectors.get(using) else {
                    return Err(Status::invalid_argument(format!(
                        "Wrong input: Not existing vector name error: {using}"
                    )));
                };
                let Some(v) = p.sparse.get(using) else {
                    continue;
                };
                let idf_modifier = params.modifier == Some(q::Modifier::Idf as i32);
                let mut score = 0.0;
                let mut shared = false;
                for (i, qv) in s.indices.iter().zip(&s.values) {
                    if let Some(at) = v.indices.iter().position(|x| x == i) {
                        shared = true;
                        let w = if idf_modifier { idf(c, using, *i) } else { 1.0 };
                        score += qv * v.values[at] * w;
                    }
                }
                if !shared {
                    continue;
                }
                score
            }
            _ => {
                return Err(Status::invalid_argument(
                    "a dense or sparse vector is expected",
                ))
            }
        };
        found.push((id.clone(), score));
    }
    found.sort_by(|a, b| b.1.total_cmp(&a.1));
    found.truncate(limit as usize);
    Ok(found)
}

fn point_id(id: Option<&q::PointId>) -> Result<String, Status> {
    match id.and_then(|i| i.point_id_options.as_ref()) {
        Some(q::point_id::PointIdOptions::Uuid(u)) => Ok(u.clone()),
        Some(q::point_id::PointIdOptions::Num(n)) => Ok(n.to_string()),
        None => Err(Status::invalid_argument("a point without an id")),
    }
}

fn collection<'a>(state: &'a mut State, name: &str) -> Result<&'a mut Collection, Status> {
    state
        .collections
        .get_mut(name)
        .ok_or_else(|| Status::not_found(format!("Collection `{name}` doesn't exist!")))
}

#[tonic::async_trait]
impl Collections for FakeQdrant {
    async fn collection_exists(
        &self,
        request: Request<q::CollectionExistsRequest>,
    ) -> Rpc<q::CollectionExistsResponse> {
        let state = self.log("collection_exists");
        let exists = state
            .collections
            .contains_key(&request.get_ref().collection_name);
        Ok(Response::new(q::CollectionExistsResponse {
            result: Some(q::CollectionExists { exists }),
            time: 0.0,
        }))
    }

    async fn create(
        &self,
        request: Request<q::CreateCollection>,
    ) -> Rpc<q::CollectionOperationResponse> {
        let mut state = self.log("create_collection");
        let r = request.into_inner();
        if state.collections.contains_key(&r.collection_name) {
            return Err(Status::already_exists("the collection exists"));
        }
        let vectors = match r.vectors_config.and_then(|c| c.config) {
            Some(q::vectors_config::Config::Params(params)) => {
                HashMap::from([(String::new(), params)])
            }
            Some(q::vectors_config::Config::ParamsMap(m)) => m.map,
            None => return Err(Status::invalid_argument("no vectors config")),
        };
        state.collections.insert(
            r.collection_name,
            Collection {
                vectors,
                sparse_vectors: r.sparse_vectors_config.map(|s| s.map).unwrap_or_default(),
                ..Default::default()
            },
        );
        Ok(Response::new(q::CollectionOperationResponse {
            result: true,
            time: 0.0,
        }))
    }

    async fn get(
        &self,
        request: Request<q::GetCollectionInfoRequest>,
    ) -> Rpc<q::GetCollectionInfoResponse> {
        let mut state = self.log("collection_info");
        let c = collection(&mut state, &request.get_ref().collection_name)?;
        let vectors_config = match c.vectors.get("") {
            Some(params) if c.vectors.len() == 1 => q::vectors_config::Config::Params(*params),
            _ => q::vectors_config::Config::ParamsMap(q::VectorParamsMap {
                map: c.vectors.clone(),
            }),
        };
        let params = q::CollectionParams {
            shard_number: 1,
            vectors_config: Some(q::VectorsConfig {
                config: Some(vectors_config),
            }),
            sparse_vectors_config: (!c.sparse_vectors.is_empty()).then(|| q::SparseVectorConfig {
                map: c.sparse_vectors.clone(),
            }),
            ..Default::default()
        };
        Ok(Response::new(q::GetCollectionInfoResponse {
            result: Some(q::CollectionInfo {
                status: q::CollectionStatus::Green as i32,
                points_count: Some(c.points.len() as u64),
                config: Some(q::CollectionConfig {
                    params: Some(params),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            time: 0.0,
        }))
    }
    async fn list(&self, _: Request<q::ListCollectionsRequest>) -> Rpc<q::ListCollectionsResponse> {
        unimplemented("list")
    }
    async fn update(&self, _: Request<q::UpdateCollection>) -> Rpc<q::CollectionOperationResponse> {
        unimplemented("update")
    }
    async fn delete(
        &self,
        request: Request<q::DeleteCollection>,
    ) -> Rpc<q::CollectionOperationResponse> {
        let mut state = self.log("delete_collection");
        let existed = state
            .collections
            .remove(&request.get_ref().collection_name)
            .is_some();
        Ok(Response::new(q::CollectionOperationResponse {
            result: existed,
            time: 0.0,
        }))
    }
    async fn update_aliases(
        &self,
        _: Request<q::ChangeAliases>,
    ) -> Rpc<q::CollectionOperationResponse> {
        unimplemented("update_aliases")
    }
    async fn list_collection_aliases(
        &self,
        _: Request<q::ListCollectionAliasesRequest>,
    ) -> Rpc<q::ListAliasesResponse> {
        unimplemented("list_collection_aliases")
    }
    async fn list_aliases(&self, _: Request<q::ListAliasesRequest>) -> Rpc<q::ListAliasesResponse> {
        unimplemented("list_aliases")
    }
    async fn collection_cluster_info(
        &self,
        _: Request<q::CollectionClusterInfoRequest>,
    ) -> Rpc<q::CollectionClusterInfoResponse> {
        unimplemented("collection_cluster_info")
    }
    async fn update_collection_cluster_setup(
        &self,
        _: Request<q::UpdateCollectionClusterSetupRequest>,
    ) -> Rpc<q::UpdateCollectionClusterSetupResponse> {
        unimplemented("update_collection_cluster_setup")
    }
    async fn create_shard_key(
        &self,
        _: Request<q::CreateShardKeyRequest>,
    ) -> Rpc<q::CreateShardKeyResponse> {
        unimplemented("create_shard_key")
    }
    async fn delete_shard_key(
        &self,
        _: Request<q::DeleteShardKeyRequest>,
    ) -> Rpc<q::DeleteShardKeyResponse> {
        unimplemented("delete_shard_key")
    }
    async fn list_shard_keys(
        &self,
        _: Request<q::ListShardKeysRequest>,
    ) -> Rpc<q::ListShardKeysResponse> {
        unimplemented("list_shard_keys")
    }
}

#[tonic::async_trait]
impl Points for FakeQdrant {
    async fn upsert(&self, request: Request<q::UpsertPoints>) -> Rpc<q::PointsOperationResponse> {
        let mut state = self.log("upsert");
        let r = request.into_inner();
        let c = collection(&mut state, &r.collection_name)?;
        for p in r.points {
            let id = point_id(p.id.as_ref())?;
            let named = match p.vectors.and_then(|v| v.vectors_options) {
                Some(q::vectors::VectorsOptions::Vector(v)) => HashMap::from([(String::new(), v)]),
                Some(q::vectors::VectorsOptions::Vectors(n)) => n.vectors,
                None => return Err(Status::invalid_argument("a point without vectors")),
            };
            let mut point = Point {
                payload: p.payload,
                ..Default::default()
            };
            for (name, v) in named {
                if let Some(params) = c.vectors.get(&name) {
                    let vector = dense(&v);
                    if vector.len() as u64 != params.size {
                        return Err(Status::invalid_argument(format!(
                            "Wrong input: Vector dimension error: expected dim: {}, got {}",
                            params.size,
                            vector.len()
                        )));
                    }
                    point.dense.insert(name, vector);
                } else if c.sparse_vectors.contains_key(&name) {
                    let Some(q::vector::Vector::Sparse(sparse)) = v.vector else {
                        return Err(Status::invalid_argument(format!(
                            "Wrong input: Conversion between sparse and regular vectors failed ({name})"
                        )));
                    };
                    if sparse.indices.len() != sparse.values.len() {
                        return Err(Status::invalid_argument(
                            "indices and values differ in length",
                        ));
                    }
                    point.sparse.insert(name, sparse);
                } else {
                    return Err(Status::invalid_argument(format!(
                        "Wrong input: Not existing vector name error: {name}"
                    )));
                }
            }
            c.points.insert(id, point);
        }
        Ok(Response::new(done()))
    }

    async fn delete(&self, request: Request<q::DeletePoints>) -> Rpc<q::PointsOperationResponse> {
        let mut state = self.log("delete");
        let r = request.into_inner();
        let c = collection(&mut state, &r.collection_name)?;
        match r.points.and_then(|p| p.points_selector_one_of) {
            Some(q::points_selector::PointsSelectorOneOf::Filter(f)) => {
                let mut doomed = Vec::new();
                for (id, p) in &c.points {
                    if matches(p, &f)? {
                        doomed.push(id.clone());
                    }
                }
                for id in doomed {
                    c.points.remove(&id);
                }
            }
            Some(q::points_selector::PointsSelectorOneOf::Points(ids)) => {
                for id in ids.ids {
                    c.points.remove(&point_id(Some(&id))?);
                }
            }
            None => return Err(Status::invalid_argument("no points selected")),
        }
        Ok(Response::new(done()))
    }

    async fn create_field_index(
        &self,
        request: Request<q::CreateFieldIndexCollection>,
    ) -> Rpc<q::PointsOperationResponse> {
        let mut state = self.log("create_field_index");
        let r = request.into_inner();
        collection(&mut state, &r.collection_name)?
            .indexed_fields
            .push(r.field_name);
        Ok(Response::new(done()))
    }

    async fn query(&self, request: Request<q::QueryPoints>) -> Rpc<q::QueryResponse> {
        let mut state = self.log("query");
        let r = request.into_inner();
        state.query_filters.push(r.filter.clone());
        state.queries.push(r.clone());
        let c = collection(&mut state, &r.collection_name)?;
        let ranked = if r.prefetch.is_empty() {
            rank(
                c,
                r.query.as_ref(),
                r.using.as_deref(),
                r.filter.as_ref(),
                r.limit.unwrap_or(10),
            )?
        } else {
            let mut lists = Vec::new();
            for p in &r.prefetch {
                if !p.prefetch.is_empty() {
                    return Err(Status::invalid_argument(
                        "nested prefetches are not supported",
                    ));
                }
                lists.push(rank(
                    c,
                    p.query.as_ref(),
                    p.using.as_deref(),
                    p.filter.as_ref(),
                    p.limit.unwrap_or(10),
                )?);
            }
            let k = match r.query.as_ref().and_then(|q| q.variant.as_ref()) {
                Some(q::query::Variant::Fusion(f)) if *f == q::Fusion::Rrf as i32 => 2.0,
                Some(q::query::Variant::Rrf(rrf)) => rrf.k.map_or(2.0, |k| k as f32),
                _ => {
                    return Err(Status::invalid_argument(
                        "only rrf fusion over prefetches is supported",
                    ))
                }
            };
            let mut fused: Vec<(String, f32)> = Vec::new();
            for list in &lists {
                for (rank, (id, _)) in list.iter().enumerate() {
                    let add = 1.0 / (k + rank as f32);
                    match fused.iter_mut().find(|(f, _)| f == id) {
                        Some((_, s)) => *s += add,
                        None => fused.push((id.clone(), add)),
                    }
                }
            }
            let mut kept = Vec::new();
            for (id, score) in fused {
                if let Some(f) = &r.filter {
                    if !matches(&c.points[&id], f)? {
                        continue;
                    }
                }
                kept.push((id, score));
            }
            kept.sort_by(|a, b| b.1.total_cmp(&a.1));
            kept.truncate(r.limit.unwrap_or(10) as usize);
            kept
        };
        let with_payload = r.with_payload.as_ref().is_some_and(|w| {
            matches!(
                w.selector_options,
                Some(q::with_payload_selector::SelectorOptions::Enable(true))
            )
        });
        let with_vectors: Vec<String> = match r.with_vectors.and_then(|w| w.selector_options) {
            Some(q::with_vectors_selector::SelectorOptions::Enable(true)) => {
                c.vectors.keys().cloned().collect()
            }
            Some(q::with_vectors_selector::SelectorOptions::Include(s)) => s.names,
            _ => Vec::new(),
        };
        let found = ranked
            .into_iter()
            .map(|(id, score)| {
                let p = &c.points[&id];
                let vectors = (!with_vectors.is_empty()).then(|| q::VectorsOutput {
                    vectors_options: Some(q::vectors_output::VectorsOptions::Vectors(
                        q::NamedVectorsOutput {
                            vectors: with_vectors
                                .iter()
                                .filter_map(|n| {
                                    let d = p.dense.get(n)?;
                                    Some((
                                        n.clone(),
                                        q::VectorOutput {
                                            vector: Some(q::vector_output::Vector::Dense(
                                                q::DenseVector { data: d.clone() },
                                            )),
                                            ..Default::default()
                                        },
                                    ))
                                })
                                .collect(),
                        },
                    )),
                });
                q::ScoredPoint {
                    id: Some(q::PointId::from(id)),
                    payload: if with_payload {
                        p.payload.clone()
                    } else {
                        HashMap::new()
                    },
                    score,
                    vectors,
                    ..Default::default()
                }
            })
            .collect();
        Ok(Response::new(q::QueryResponse {
            result: found,
            time: 0.0,
            usage: None,
        }))
    }

    async fn get(&self, _: Request<q::GetPoints>) -> Rpc<q::GetResponse> {
        unimplemented("get")
    }
    async fn update_vectors(
        &self,
        _: Request<q::UpdatePointVectors>,
    ) -> Rpc<q::PointsOperationResponse> {
        unimplemented("update_vectors")
    }
    async fn delete_vectors(
        &self,
        _: Request<q::DeletePointVectors>,
    ) -> Rpc<q::PointsOperationResponse> {
        unimplemented("delete_vectors")
    }
    async fn set_payload(
        &self,
        _: Request<q::SetPayloadPoints>,
    ) -> Rpc<q::PointsOperationResponse> {
        unimplemented("set_payload")
    }
    async fn overwrite_payload(
        &self,
        _: Request<q::SetPayloadPoints>,
    ) -> Rpc<q::PointsOperationResponse> {
        unimplemented("overwrite_payload")
    }
    async fn delete_payload(
        &self,
        _: Request<q::DeletePayloadPoints>,
    ) -> Rpc<q::PointsOperationResponse> {
        unimplemented("delete_payload")
    }
    async fn clear_payload(
        &self,
        _: Request<q::ClearPayloadPoints>,
    ) -> Rpc<q::PointsOperationResponse> {
        unimplemented("clear_payload")
    }
    async fn delete_field_index(
        &self,
        _: Request<q::DeleteFieldIndexCollection>,
    ) -> Rpc<q::PointsOperationResponse> {
        unimplemented("delete_field_index")
    }
    async fn create_vector_name(
        &self,
        _: Request<q::CreateVectorNameRequest>,
    ) -> Rpc<q::PointsOperationResponse> {
        unimplemented("create_vector_name")
    }
    async fn delete_vector_name(
        &self,
        _: Request<q::DeleteVectorNameRequest>,
    ) -> Rpc<q::PointsOperationResponse> {
        unimplemented("delete_vector_name")
    }
    async fn search(&self, _: Request<q::SearchPoints>) -> Rpc<q::SearchResponse> {
        unimplemented("search")
    }
    async fn search_batch(&self, _: Request<q::SearchBatchPoints>) -> Rpc<q::SearchBatchResponse> {
        unimplemented("search_batch")
    }
    async fn search_groups(
        &self,
        _: Request<q::SearchPointGroups>,
    ) -> Rpc<q::SearchGroupsResponse> {
        unimplemented("search_groups")
    }
    async fn scroll(&self, _: Request<q::ScrollPoints>) -> Rpc<q::ScrollResponse> {
        unimplemented("scroll")
    }
    async fn recommend(&self, _: Request<q::RecommendPoints>) -> Rpc<q::RecommendResponse> {
        unimplemented("recommend")
    }
    async fn recommend_batch(
        &self,
        _: Request<q::RecommendBatchPoints>,
    ) -> Rpc<q::RecommendBatchResponse> {
        unimplemented("recommend_batch")
    }
    async fn recommend_groups(
        &self,
        _: Request<q::RecommendPointGroups>,
    ) -> Rpc<q::RecommendGroupsResponse> {
        unimplemented("recommend_groups")
    }
    async fn discover(&self, _: Request<q::DiscoverPoints>) -> Rpc<q::DiscoverResponse> {
        unimplemented("discover")
    }
    async fn discover_batch(
        &self,
        _: Request<q::DiscoverBatchPoints>,
    ) -> Rpc<q::DiscoverBatchResponse> {
        unimplemented("discover_batch")
    }
    async fn count(&self, _: Request<q::CountPoints>) -> Rpc<q::CountResponse> {
        unimplemented("count")
    }
    async fn update_batch(&self, _: Request<q::UpdateBatchPoints>) -> Rpc<q::UpdateBatchResponse> {
        unimplemented("update_batch")
    }
    async fn query_batch(&self, _: Request<q::QueryBatchPoints>) -> Rpc<q::QueryBatchResponse> {
        unimplemented("query_batch")
    }
    async fn query_groups(&self, _: Request<q::QueryPointGroups>) -> Rpc<q::QueryGroupsResponse> {
        unimplemented("query_groups")
    }
    async fn facet(&self, _: Request<q::FacetCounts>) -> Rpc<q::FacetResponse> {
        unimplemented("facet")
    }
    async fn search_matrix_pairs(
        &self,
        _: Request<q::SearchMatrixPoints>,
    ) -> Rpc<q::SearchMatrixPairsResponse> {
        unimplemented("search_matrix_pairs")
    }
    async fn search_matrix_offsets(
        &self,
        _: Request<q::SearchMatrixPoints>,
    ) -> Rpc<q::SearchMatrixOffsetsResponse> {
        unimplemented("search_matrix_offsets")
    }
}
