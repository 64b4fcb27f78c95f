//! Where the stream's topics live and how clients reach them.

use rdkafka::ClientConfig;
use schemas::AggregateKind;

/// The aggregate types, one topic each: every kind `schemas` knows, so a new aggregate's
/// events have a topic the relay can publish to and consumers can read.
pub const AGGREGATE_TYPES: [&str; AggregateKind::ALL.len()] = {
    let mut out = [""; AggregateKind::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = AggregateKind::ALL[i].as_str();
        i += 1;
    }
    out
};

/// Kafka settings shared by the relay and the consumers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaConfig {
    /// `host:port` list of bootstrap brokers.
    pub brokers: String,
    /// Topics are `<prefix>.<aggregate type>`.
    pub topic_prefix: String,
    /// Consumer groups are `<prefix>.<consumer name>`: each handler is its own group, so
    /// every handler sees every event and its instances share the partitions.
    pub group_prefix: String,
    /// Partitions of a topic the relay creates.
    pub partitions: i32,
    /// Replication factor of a topic the relay creates.
    pub replication_factor: i32,
    /// Most events a consumer applies in one transaction.
    pub batch_size: usize,
    /// librdkafka properties set on every client over ours (security, SASL, timeouts,
    /// fetch tuning): the operator's word wins.
    pub options: Vec<(String, String)>,
}

impl KafkaConfig {
    /// Settings for `brokers` with the default names and sizes.
    pub fn new(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            topic_prefix: "atende".to_owned(),
            group_prefix: "atende".to_owned(),
            partitions: 6,
            replication_factor: 1,
            batch_size: 500,
            options: Vec::new(),
        }
    }

    /// The topic of `aggregate_type`'s events.
    pub fn topic(&self, aggregate_type: &str) -> String {
        format!("{}.{}", self.topic_prefix, aggregate_type)
    }

    /// Every topic of the stream.
    pub fn topics(&self) -> Vec<String> {
        AGGREGATE_TYPES.iter().map(|t| self.topic(t)).collect()
    }

    /// The consumer group of the handler named `consumer`.
    pub fn group(&self, consumer: &str) -> String {
        format!("{}.{}", self.group_prefix, consumer)
    }

    /// A client configuration with the brokers set.
    pub fn client(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers)
            // Small clusters (and the test broker) answer metadata quickly; a new topic or
            // partition is noticed within seconds rather than the default five minutes.
            .set("topic.metadata.refresh.interval.ms", "5000");
        c
    }

    /// Sets the operator's [`options`](Self::options) on `c`, over whatever the caller set.
    pub fn with_options<'a>(&self, c: &'a mut ClientConfig) -> &'a mut ClientConfig {
        for (key, value) in &self.options {
            c.set(key, value);
        }
        c
    }

    /// Parses `key=value` pairs separated by commas (`security.protocol=SASL_SSL,
    /// sasl.mechanism=PLAIN`); a value may contain `=`, not a comma.
    pub fn parse_options(text: &str) -> Result<Vec<(String, String)>, String> {
        text.split(',')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    Ok((k.trim().to_owned(), v.trim().to_owned()))
                }
                _ => Err(format!("{pair:?} is not key=value")),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_aggregate_the_log_holds_has_a_topic() {
        for kind in AggregateKind::ALL {
            assert!(AGGREGATE_TYPES.contains(&kind.as_str()), "{kind:?}");
        }
        assert!(AGGREGATE_TYPES.contains(&"platform_content"));
        assert!(AGGREGATE_TYPES.contains(&"admin_action"));
    }
}
