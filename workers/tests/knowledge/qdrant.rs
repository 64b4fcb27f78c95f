//! The Qdrant adapter on the wire: a real Qdrant when `QDRANT_URL` is set, else the in-test
//! gRPC server built from qdrant-client's own service definitions.

use crate::fake_qdrant::FakeQdrant;
use crate::support::{replaced, OFICINA, PADARIA};
use projections::EventHandler;
use qdrant_client::qdrant as q;
use std::sync::Arc;
use uuid::Uuid;
use workers::knowledge::embed::{LocalEmbedder, LOCAL_DIMENSION};
use workers::knowledge::index::QdrantIndex;
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

fn payload_str(p: &(Vec<f32>, std::collections::HashMap<String, q::Value>), key: &str) -> String {
    match p.1.get(key).and_then(|v| v.kind.clone()) {
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
    assert_eq!(
        (c.size, c.distance),
        (LOCAL_DIMENSION as u64, q::Distance::Cosine as i32)
    );
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
