//! How Handoff reaches Kafka. The same struct serves the embedded broker
//! and a production cluster: `brokers` plus any librdkafka property
//! (security.protocol, sasl.*, ssl.*), passed through unchanged.

use std::collections::BTreeMap;

use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers, `host:port[,host:port]`.
    pub brokers: String,
    /// Extra librdkafka properties applied to every client, e.g.
    /// `security.protocol = "SASL_SSL"`. Empty by default.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// Properties for consumers only (librdkafka warns when a producer is
    /// given a consumer property). Empty by default.
    #[serde(default)]
    pub consumer_properties: BTreeMap<String, String>,
}

impl KafkaConfig {
    pub fn new(brokers: impl Into<String>) -> Self {
        KafkaConfig {
            brokers: brokers.into(),
            properties: BTreeMap::new(),
            consumer_properties: BTreeMap::new(),
        }
    }

    /// A client config with the brokers and the pass-through properties.
    pub fn client(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        config
    }

    /// Producer settings that make a send mean "durably on the log once":
    /// acks from all in-sync replicas and the idempotent producer, so a
    /// retry after a lost ack never writes a second copy.
    pub fn producer(&self) -> ClientConfig {
        let mut config = self.client();
        config
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", "60000")
            .set("linger.ms", "5")
            .set("compression.type", "none");
        // Properties the operator gave win over these defaults.
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        config
    }

    /// Consumer settings for sinks: no automatic commits, because a sink
    /// stores its own offsets with its state; Kafka-committed offsets are
    /// written afterwards only so lag can be monitored.
    pub fn consumer(&self, group_id: &str) -> ClientConfig {
        let mut config = self.client();
        config
            .set("group.id", group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false");
        // Properties the operator gave win over these defaults.
        for (key, value) in self.properties.iter().chain(&self.consumer_properties) {
            config.set(key, value);
        }
        config
    }
}
