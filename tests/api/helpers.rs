//! `spawn_app`: the whole application on a random port over a fresh database.

use aggregates::SystemClock;
use atende::serve::{App, ServeConfig};
use schemas::personal::MasterKey;
use std::sync::Arc;
use std::time::Duration;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: testkit::TestDatabase,
    pub app: App,
}

pub async fn spawn_app() -> TestApp {
    let db = testkit::test_database().await.expect("a test database");
    let config = ServeConfig {
        http_addr: "127.0.0.1:0".parse().unwrap(),
        tail_poll_ms: 20,
        snapshot_every: 50,
        retention_days: 30,
    };
    let app = App::start(
        db.pool.clone(),
        &config,
        Arc::new(SystemClock),
        MasterKey::generate(),
    )
    .await
    .expect("the app starts");
    TestApp {
        address: format!("http://{}", app.addr),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        db,
        app,
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path))
            .send()
            .await
            .expect("request sent")
    }

    /// Polls `check` until it holds or 10 s pass.
    pub async fn eventually<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        for _ in 0..500 {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("timed out waiting for: {what}");
    }
}
