//! A metadata round trip to the brokers, for `/health`.

use super::config::KafkaConfig;
use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::error::KafkaError;
use std::sync::Arc;
use std::time::Duration;

/// A client kept for the checks: one per process, not one per check (each client starts
/// librdkafka's threads and connections).
#[derive(Clone)]
pub struct BrokerProbe {
    client: Arc<AdminClient<DefaultClientContext>>,
}

impl std::fmt::Debug for BrokerProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerProbe").finish_non_exhaustive()
    }
}

impl BrokerProbe {
    /// A probe of the brokers of `config` (it connects when first asked).
    pub fn new(config: &KafkaConfig) -> Result<Self, KafkaError> {
        let client = config.with_options(&mut config.client()).create()?;
        Ok(Self {
            client: Arc::new(client),
        })
    }

    /// Asks the cluster for its metadata, waiting at most `timeout`; the number of brokers
    /// it knows.
    pub async fn check(&self, timeout: Duration) -> Result<usize, KafkaError> {
        let client = self.client.clone();
        // librdkafka's metadata call blocks its thread.
        tokio::task::spawn_blocking(move || {
            client
                .inner()
                .fetch_metadata(None, timeout)
                .map(|m| m.brokers().len())
        })
        .await
        .map_err(|_| KafkaError::Canceled)?
    }
}
