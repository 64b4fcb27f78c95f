//! The Qdrant adapter on the wire: a real Qdrant when `QDRANT_URL` is set, else the in-test
//! gRPC server built from qdrant-client's own service definitions.

use crate::fake_qdrant::FakeQdrant;
use crate::support::{replaced, OFICINA, PADARIA};
use qdrant_client::qdrant as q;
use std::sync::Arc;
use stream::EventHandler;
use uuid::Uuid;
use workers::knowledge::embed::{Embedder, LocalEmbedder, LOCAL_DIMENSION};
use workers::knowledge::index::QdrantIndex;
use workers::knowledge::index::VectorIndex;
use workers::knowledge::{KnowledgeBase, KnowledgeIndexer, Retriever};

/// The Qdrant to test against, and the fake when it is the fake.
#[allow(clippy::print_stderr)] // the run must say which Qdrant it used
async fn qdrant() -> (Option<FakeQdrant>, String) {
    let (fake, url) = match std::env::var("QDRANT_URL") {
        Ok(url) if !url.is_empty() => (None, url),
        _ => {
            let (fake, url) = FakeQdrant::start().await;
            (Some(fake), url)
        }
    };
    match fake {
        Some(_) => eprintln!("Qdrant adapter test: in-test gRPC server (qdrant-client's Collections and Points services) at {url}"),
        None => eprintln!("Qdrant adapter test: real Qdrant at {url} (QDRANT_URL)"),
    }
    (fake, url)
}

async fn deliver(
    pool: &sqlx::PgPool,
    indexer: &KnowledgeIndexer,
    tenant: Uuid,
    version: u32,
    text: &str,
) {
    let mut tx = pool.begin().await.unwrap();
    indexer
        .handle(&mut tx, &replaced(tenant, version, text))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

fn payload_str(p: &crate::fake_qdrant::Point, key: &str) -> String {
    match p.payload.get(key).and_then(|v| v.kind.clone()) {
        Some(q::value::Kind::StringValue(s)) => s,
        other => panic!("{key}: {other:?}"),
    }
}

#[tokio::test]
async fn the_qdrant_index_keeps_tenants_apart_and_replaces_versions() {
    let (fake, url) = qdrant().await;
    let db = testkit::test_database().await.unwrap();
    let collection = format!("atende_test_{}", Uuid::new_v4().simple());
    let index =
        QdrantIndex::connect(&url, std::env::var("QDRANT_API_KEY").ok(), &collection).unwrap();
    let base = KnowledgeBase::new(db.pool.clone(), Arc::new(LocalEmbedder), Arc::new(index));
    let indexer = KnowledgeIndexer::new(base.clone());
    let (padaria, oficina) = (Uuid::now_v7(), Uuid::now_v7());

    deliver(&db.pool, &indexer, padaria, 1, PADARIA).await;
    deliver(&db.pool, &indexer, oficina, 1, OFICINA).await;
    let found = base
        .search(padaria, "qual o horário de funcionamento?", 10)
        .await
        .unwrap();
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|c| c.chunk_id.starts_with(&padaria.to_string())),
        "{found:?}"
    );
    assert!(found[0].score > 0.0 && found[0].score <= 1.0);

    deliver(&db.pool, &indexer, padaria, 2, "Fechamos aos domingos.").await;
    let found = base
        .search(padaria, "vocês abrem domingo?", 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].knowledge_version, found[0].text.as_str()),
        (2, "Fechamos aos domingos.")
    );
    let other = base
        .search(oficina, "horário de funcionamento", 10)
        .await
        .unwrap();
    assert!(!other.is_empty() && other.iter().all(|c| c.text.contains("oficina")));

    let Some(fake) = fake else { return };
    let state = fake.state.lock().unwrap();
    let c = &state.collections[&collection];
    let dense = &c.vectors["dense"];
    assert_eq!(
        (c.vectors.len(), dense.size, dense.distance),
        (1, LOCAL_DIMENSION as u64, q::Distance::Cosine as i32)
    );
    assert_eq!(
        c.sparse_vectors["lexical"].modifier,
        Some(q::Modifier::Idf as i32)
    );
    assert!(c
        .points
        .values()
        .all(|p| !p.sparse["lexical"].indices.is_empty()));
    assert_eq!(c.indexed_fields, vec!["tenant_id".to_owned()]);
    // The padaria's version 1 is gone; the oficina's points were not touched.
    let mut left: Vec<(String, String)> = c
        .points
        .values()
        .map(|p| (payload_str(p, "tenant_id"), payload_str(p, "chunk_id")))
        .collect();
    left.sort();
    let mut expected = vec![
        (padaria.to_string(), format!("{padaria}:2:0")),
        (oficina.to_string(), format!("{oficina}:1:0")),
    ];
    expected.sort();
    assert_eq!(left, expected);
    // Every query carried the tenant's filter.
    assert_eq!(state.query_filters.len(), 3);
    for f in &state.query_filters {
        let keys: Vec<&str> = f
            .as_ref()
            .unwrap()
            .must
            .iter()
            .filter_map(|c| match &c.condition_one_of {
                Some(q::condition::ConditionOneOf::Field(f)) => Some(f.key.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(keys, vec!["tenant_id", "version"]);
    }
    assert_eq!(
        state
            .calls
            .iter()
            .filter(|c| *c == "create_collection")
            .count(),
        1
    );
}

#[tokio::test]
async fn indexing_the_same_version_twice_writes_the_same_points() {
    let (fake, url) = qdrant().await;
    let db = testkit::test_database().await.unwrap();
    let collection = format!("atende_test_{}", Uuid::new_v4().simple());
    let index = Arc::new(QdrantIndex::connect(&url, None, &collection).unwrap());
    let tenant = Uuid::now_v7();
    // Twice through the index directly (as after a crash between Qdrant and the checkpoint).
    let base = KnowledgeBase::new(db.pool.clone(), Arc::new(LocalEmbedder), index.clone());
    deliver(
        &db.pool,
        &KnowledgeIndexer::new(base.clone()),
        tenant,
        1,
        PADARIA,
    )
    .await;
    sqlx::query("DELETE FROM knowledge_index_state")
        .execute(&db.pool)
        .await
        .unwrap();
    deliver(
        &db.pool,
        &KnowledgeIndexer::new(base.clone()),
        tenant,
        1,
        PADARIA,
    )
    .await;
    let found = base.search(tenant, "pix", 10).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    if let Some(fake) = fake {
        assert_eq!(
            fake.state.lock().unwrap().collections[&collection]
                .points
                .len(),
            1
        );
    }
}

/// A business whose parking is one sentence in a long paragraph, among paragraphs that
/// talk about its customers over and over.
fn parking_buried_among_customers() -> String {
    let mut text = String::new();
    for i in 1..=30 {
        text.push_str(&format!(
            "Clientes da unidade {i}: clientes novos e clientes antigos, clientes do bairro e \
             clientes de fora, todos os clientes recebem atendimento; clientes fiéis ganham \
             brindes e clientes aniversariantes ganham desconto. Clientes, clientes, clientes.\n\n"
        ));
    }
    text.push_str(
        "Sobre a casa: fundada em 1987 por uma família de padeiros portugueses, a casa \
         mantém receitas tradicionais, fornos a lenha, massa de fermentação natural, doces \
         conventuais, pastéis de nata, broas de milho, bolos de laranja e de cenoura, tortas \
         salgadas, empadas, coxinhas e quibes feitos no dia. Temos estacionamento próprio \
         gratuito na rua de trás. Aceitamos encomendas para festas, casamentos, batizados e \
         eventos corporativos com uma semana de antecedência, e fazemos entregas no bairro.\n\n",
    );
    text
}

#[tokio::test]
async fn a_hybrid_query_finds_through_its_terms_a_passage_the_dense_vector_ranks_low() {
    let (_fake, url) = qdrant().await;
    let db = testkit::test_database().await.unwrap();
    let collection = format!("atende_test_{}", Uuid::new_v4().simple());
    let index = Arc::new(
        QdrantIndex::connect(&url, std::env::var("QDRANT_API_KEY").ok(), &collection).unwrap(),
    );
    let base = KnowledgeBase::new(db.pool.clone(), Arc::new(LocalEmbedder), index.clone());
    let tenant = Uuid::now_v7();
    let text = parking_buried_among_customers();
    deliver(
        &db.pool,
        &KnowledgeIndexer::new(base.clone()),
        tenant,
        1,
        &text,
    )
    .await;
    let question = "vocês têm estacionamento para os clientes?";

    // The dense vector alone: the chunks about customers crowd the parking out.
    let vector = LocalEmbedder
        .embed(&[question.to_owned()])
        .await
        .unwrap()
        .pop()
        .unwrap();
    // (Six: the chunks a search for three passages asks the index for.)
    let dense = index.search(tenant, 1, &vector, 6).await.unwrap();
    assert!(
        dense.iter().all(|c| !c.text.contains("estacionamento")),
        "{dense:?}"
    );
    // One hybrid query: the sparse side brings it in, and it is the answer.
    let found = base.search(tenant, question, 3).await.unwrap();
    assert!(found[0].text.contains("estacionamento"), "{found:?}");
    assert!(found[0].score >= 0.5, "{found:?}");

    // The in-process index decides the same, with the same confidence.
    let local = KnowledgeBase::local(db.pool.clone());
    let elsewhere = Uuid::now_v7();
    deliver(
        &db.pool,
        &KnowledgeIndexer::new(local.clone()),
        elsewhere,
        1,
        &text,
    )
    .await;
    let in_process = local.search(elsewhere, question, 3).await.unwrap();
    assert_eq!(
        (in_process[0].text.as_str(), in_process[0].score),
        (found[0].text.as_str(), found[0].score)
    );
}

/// The tenant of a field condition `tenant_id` in `filter`, if any.
fn filtered_tenant(filter: Option<&q::Filter>) -> Option<String> {
    filter?.must.iter().find_map(|c| match &c.condition_one_of {
        Some(q::condition::ConditionOneOf::Field(f)) if f.key == "tenant_id" => {
            match f.r#match.as_ref()?.match_value.as_ref()? {
                q::r#match::MatchValue::Keyword(k) => Some(k.clone()),
                _ => None,
            }
        }
        _ => None,
    })
}

#[tokio::test]
async fn a_hybrid_query_ranks_only_the_asking_tenants_chunks_on_both_sides() {
    let (fake, url) = qdrant().await;
    let db = testkit::test_database().await.unwrap();
    let collection = format!("atende_test_{}", Uuid::new_v4().simple());
    let index =
        QdrantIndex::connect(&url, std::env::var("QDRANT_API_KEY").ok(), &collection).unwrap();
    let base = KnowledgeBase::new(db.pool.clone(), Arc::new(LocalEmbedder), Arc::new(index));
    let indexer = KnowledgeIndexer::new(base.clone());
    let (parking, oficina, padaria) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    deliver(
        &db.pool,
        &indexer,
        parking,
        1,
        &parking_buried_among_customers(),
    )
    .await;
    deliver(&db.pool, &indexer, oficina, 1, OFICINA).await;
    deliver(&db.pool, &indexer, padaria, 1, PADARIA).await;

    // Other tenants' knowledge shares these terms (or matches them best); none of it
    // comes back.
    let found = base
        .search(
            padaria,
            "horário de funcionamento do estacionamento para clientes?",
            5,
        )
        .await
        .unwrap();
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|c| c.chunk_id.starts_with(&padaria.to_string())
                && !c.text.contains("oficina")
                && !c.text.contains("estacionamento")
                && !c.text.contains("Clientes")),
        "{found:?}"
    );

    let Some(fake) = fake else { return };
    let state = fake.state.lock().unwrap();
    let query = state.queries.last().unwrap();
    // One request: a dense and a sparse prefetch fused by RRF, each filtered by tenant.
    assert_eq!(
        query.query.as_ref().and_then(|q| q.variant.clone()),
        Some(q::query::Variant::Fusion(q::Fusion::Rrf as i32))
    );
    let using: Vec<Option<&str>> = query.prefetch.iter().map(|p| p.using.as_deref()).collect();
    assert_eq!(using, vec![Some("dense"), Some("lexical")]);
    let tenant = padaria.to_string();
    assert_eq!(filtered_tenant(query.filter.as_ref()), Some(tenant.clone()));
    for p in &query.prefetch {
        assert_eq!(filtered_tenant(p.filter.as_ref()), Some(tenant.clone()));
    }
    assert_eq!(
        state.calls.iter().filter(|c| *c == "query").count(),
        1,
        "{:?}",
        state.calls
    );
}

#[tokio::test]
async fn a_collection_without_the_sparse_vector_is_made_again_with_it() {
    let (fake, url) = qdrant().await;
    let db = testkit::test_database().await.unwrap();
    let collection = format!("atende_test_{}", Uuid::new_v4().simple());
    // As the adapter made it before sparse vectors: one unnamed dense vector.
    let client = qdrant_client::Qdrant::from_url(&url)
        .api_key(std::env::var("QDRANT_API_KEY").ok())
        .skip_compatibility_check()
        .build()
        .unwrap();
    client
        .create_collection(q::CreateCollectionBuilder::new(&collection).vectors_config(
            q::VectorParamsBuilder::new(LOCAL_DIMENSION as u64, q::Distance::Cosine),
        ))
        .await
        .unwrap();
    let index =
        QdrantIndex::connect(&url, std::env::var("QDRANT_API_KEY").ok(), &collection).unwrap();
    let base = KnowledgeBase::new(db.pool.clone(), Arc::new(LocalEmbedder), Arc::new(index));
    // `indexed_by` names the new layout, so tenants indexed under the old one are stale.
    assert!(
        base.describe().starts_with("qdrant-hybrid+"),
        "{}",
        base.describe()
    );

    let tenant = Uuid::now_v7();
    deliver(
        &db.pool,
        &KnowledgeIndexer::new(base.clone()),
        tenant,
        1,
        PADARIA,
    )
    .await;
    let found = base.search(tenant, "aceitam pix?", 3).await.unwrap();
    assert!(
        found[0].text.contains("Pix") && found[0].score >= 0.5,
        "{found:?}"
    );

    let info = client.collection_info(&collection).await.unwrap();
    let params = info.result.unwrap().config.unwrap().params.unwrap();
    assert_eq!(
        params.sparse_vectors_config.unwrap().map["lexical"].modifier,
        Some(q::Modifier::Idf as i32)
    );
    if let Some(fake) = fake {
        let calls = fake.state.lock().unwrap().calls.clone();
        let last = |c: &str| calls.iter().rposition(|x| x == c).unwrap();
        assert!(
            last("delete_collection") < last("create_collection"),
            "{calls:?}"
        );
    }
}
