use super::*;
use std::sync::{Arc, Mutex};
use stream::Runner;

/// Records the `synchronous_commit` setting its batches run under.
struct Probe {
    name: &'static str,
    tables: &'static [&'static str],
    seen: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl EventHandler for Probe {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn handle(&self, db: &mut PgConnection, _: &StoredEvent) -> Result<(), HandlerError> {
        let setting: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(db)
            .await?;
        self.seen.lock().unwrap().push(setting);
        Ok(())
    }

    fn tables(&self) -> &'static [&'static str] {
        self.tables
    }
}

async fn settings_seen_by(
    pool: &PgPool,
    name: &'static str,
    tables: &'static [&'static str],
) -> Vec<String> {
    let probe = Arc::new(Probe {
        name,
        tables,
        seen: Mutex::new(Vec::new()),
    });
    let runner = Runner::spawn_with(probe.clone(), tail(pool), fast());
    caught_up(pool, name).await;
    runner.stop().await;
    let seen = probe.seen.lock().unwrap().clone();
    seen
}

#[tokio::test]
async fn read_models_commit_without_waiting_for_the_flush_and_workers_wait_for_it() {
    let db = testkit::test_database().await.unwrap();
    // Test clusters turn flushing off for speed; this database gets the production default
    // back so the runner's own choice is what the probes see.
    sqlx::query(&format!(
        "ALTER DATABASE {} SET synchronous_commit = on",
        db.name
    ))
    .execute(&db.pool)
    .await
    .unwrap();
    let pool = PgPool::connect(&db.url).await.unwrap();
    append_many(&pool, 0, 3).await;

    let read_model = settings_seen_by(&pool, "probe_read_model", &["probe"]).await;
    let worker = settings_seen_by(&pool, "probe_worker", &[]).await;

    assert_eq!(read_model, vec!["off"; 3]);
    assert_eq!(worker, vec!["on"; 3]);
}
