//! Command-line arguments for reaching Kafka and the schema registry,
//! shared by every subcommand.

use anyhow::{bail, Result};
use clap::Args;
use handoff_bus::KafkaConfig;
use handoff_events::{Catalogue, Codec};

#[derive(Args, Debug, Clone)]
pub struct KafkaArgs {
    /// Kafka bootstrap servers (host:port,...). Without it, `up` starts the
    /// embedded broker.
    #[arg(long, env = "HANDOFF_BROKERS")]
    pub brokers: Option<String>,
    /// A librdkafka property for every client, e.g.
    /// `-X security.protocol=SASL_SSL`. Repeat as needed.
    #[arg(short = 'X', long = "kafka-property", value_name = "KEY=VALUE")]
    pub properties: Vec<String>,
}

impl KafkaArgs {
    /// The configuration for `brokers`, with the -X properties applied.
    pub fn config(&self, brokers: &str) -> Result<KafkaConfig> {
        let mut config = KafkaConfig::new(brokers);
        self.apply(&mut config)?;
        Ok(config)
    }

    pub fn apply(&self, config: &mut KafkaConfig) -> Result<()> {
        for property in &self.properties {
            let Some((key, value)) = property.split_once('=') else {
                bail!("-X {property}: write a librdkafka property as KEY=VALUE, e.g. -X security.protocol=SSL");
            };
            config
                .properties
                .insert(key.trim().to_owned(), value.trim().to_owned());
        }
        Ok(())
    }

    /// The configured cluster, or the local `handoff up` (127.0.0.1:9092).
    pub fn or_local(&self) -> Result<KafkaConfig> {
        self.config(self.brokers.as_deref().unwrap_or("127.0.0.1:9092"))
    }

    /// The configured cluster, or an error saying how to give one.
    pub fn required(&self) -> Result<KafkaConfig> {
        match &self.brokers {
            Some(brokers) => self.config(brokers),
            None => {
                bail!("no Kafka cluster given: pass --brokers host:port (or set HANDOFF_BROKERS)")
            }
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct RegistryArgs {
    /// The schema registry the events' schemas are in.
    #[arg(
        long,
        env = "HANDOFF_REGISTRY_URL",
        default_value = "http://127.0.0.1:8081"
    )]
    pub registry_url: String,
}

impl RegistryArgs {
    /// A codec on this registry with the catalogue built into the binary.
    pub fn codec(&self) -> Codec {
        Codec::new(
            &self.registry_url,
            std::sync::Arc::new(Catalogue::embedded()),
        )
    }
}
