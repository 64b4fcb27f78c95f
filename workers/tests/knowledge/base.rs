//! The knowledge base over the in-process index (vectors in PostgreSQL), fed by the indexer
//! worker as the stream runner feeds it.

use crate::support::{replaced, OFICINA, PADARIA};
use stream::EventHandler;
use uuid::Uuid;
use workers::knowledge::{KnowledgeBase, KnowledgeIndexer, Retriever};

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

#[tokio::test]
async fn a_search_never_returns_another_tenants_chunk() {
    let db = testkit::test_database().await.unwrap();
    let base = KnowledgeBase::local(db.pool.clone());
    let indexer = KnowledgeIndexer::new(base.clone());
    let (padaria, oficina) = (Uuid::now_v7(), Uuid::now_v7());
    deliver(&db.pool, &indexer, padaria, 1, PADARIA).await;
    deliver(&db.pool, &indexer, oficina, 1, OFICINA).await;

    // Both texts answer this question; each tenant must only see its own.
    let found = base
        .search(padaria, "qual o horário de funcionamento?", 10)
        .await
        .unwrap();
    assert!(!found.is_empty());
    for c in &found {
        assert!(
            c.chunk_id.starts_with(&padaria.to_string()),
            "{}",
            c.chunk_id
        );
        assert!(!c.text.contains("oficina"), "{}", c.text);
    }
    let found = base
        .search(oficina, "qual o horário de funcionamento?", 10)
        .await
        .unwrap();
    assert!(found
        .iter()
        .all(|c| c.chunk_id.starts_with(&oficina.to_string())));
    assert!(found[0].text.contains("oficina"));
    assert!(base
        .search(Uuid::now_v7(), "horário", 10)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_new_version_replaces_the_old_one_and_a_redelivered_old_one_changes_nothing() {
    let db = testkit::test_database().await.unwrap();
    let base = KnowledgeBase::local(db.pool.clone());
    let indexer = KnowledgeIndexer::new(base.clone());
    let tenant = Uuid::now_v7();
    deliver(&db.pool, &indexer, tenant, 1, PADARIA).await;
    let v1 = base.search(tenant, "entregas no bairro", 3).await.unwrap();
    assert_eq!(v1[0].knowledge_version, 1);
    assert!(v1[0].text.contains("Entregas"));

    deliver(
        &db.pool,
        &indexer,
        tenant,
        2,
        "Não fazemos entregas: retirada só na loja.",
    )
    .await;
    // The event again (a restart before the checkpoint), then the old one (a replay).
    deliver(
        &db.pool,
        &indexer,
        tenant,
        2,
        "Não fazemos entregas: retirada só na loja.",
    )
    .await;
    deliver(&db.pool, &indexer, tenant, 1, PADARIA).await;

    let found = base.search(tenant, "entregas no bairro", 3).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].knowledge_version, 2);
    assert_eq!(found[0].chunk_id, format!("{tenant}:2:0"));
    assert!(found[0].text.contains("retirada"));
    let rows: Vec<(i32,)> =
        sqlx::query_as("SELECT DISTINCT version FROM knowledge_chunks WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(rows, vec![(2,)]);
    assert_eq!(base.status(tenant).await.unwrap().unwrap().version, 2);
}

#[tokio::test]
async fn the_in_process_index_survives_a_restart() {
    let db = testkit::test_database().await.unwrap();
    let tenant = Uuid::now_v7();
    {
        let base = KnowledgeBase::local(db.pool.clone());
        deliver(&db.pool, &KnowledgeIndexer::new(base), tenant, 1, PADARIA).await;
    }
    // A new process: nothing in memory, everything from PostgreSQL.
    let base = KnowledgeBase::local(db.pool.clone());
    let found = base.search(tenant, "vocês aceitam pix?", 1).await.unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].text.contains("Pix"), "{}", found[0].text);
    assert!(found[0].score > 0.0 && found[0].score <= 1.0);
}

#[tokio::test]
async fn a_long_text_is_indexed_in_overlapping_chunks_and_the_right_one_is_found() {
    let db = testkit::test_database().await.unwrap();
    let base = KnowledgeBase::local(db.pool.clone());
    let tenant = Uuid::now_v7();
    let filler: String = (0..40)
        .map(|i| format!("O produto {i} é feito com farinha especial e fermentação natural. "))
        .collect();
    let text =
        format!("{filler}\nGarantia: consertamos defeitos de fabricação em até 90 dias.\n{filler}");
    deliver(
        &db.pool,
        &KnowledgeIndexer::new(base.clone()),
        tenant,
        1,
        &text,
    )
    .await;
    let status = base.status(tenant).await.unwrap().unwrap();
    assert!(status.chunk_count >= 6, "{}", status.chunk_count);
    let found = base.search(tenant, "qual a garantia?", 2).await.unwrap();
    assert!(found[0].text.contains("Garantia"), "{}", found[0].text);
}
