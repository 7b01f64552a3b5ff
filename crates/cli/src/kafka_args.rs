//! Command-line arguments for reaching Kafka and the schema registry,
//! shared by every subcommand.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use handoff_bus::settings as kafka_settings;
use handoff_bus::KafkaConfig;
use handoff_events::{Catalogue, Codec};

#[derive(Args, Debug, Clone)]
pub struct KafkaArgs {
    /// A config file (TOML) whose [kafka] table holds librdkafka settings
    /// for every client: TLS, SASL, timeouts. Its "bootstrap.servers"
    /// stands for --brokers. HANDOFF_KAFKA__* environment variables
    /// (HANDOFF_KAFKA__SASL_PASSWORD is sasl.password) override it, and -X
    /// overrides both.
    #[arg(long = "config", env = "HANDOFF_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Kafka bootstrap servers (host:port,...). Without it (or a
    /// bootstrap.servers setting), `up` starts the embedded broker.
    #[arg(long, env = "HANDOFF_BROKERS")]
    pub brokers: Option<String>,
    /// A librdkafka property for every client, e.g.
    /// `-X security.protocol=SASL_SSL`. Repeat as needed.
    #[arg(short = 'X', long = "kafka-property", value_name = "KEY=VALUE")]
    pub properties: Vec<String>,
}

impl KafkaArgs {
    /// Every librdkafka setting given: the config file's, then the
    /// environment's, then -X, later ones winning.
    fn settings(&self) -> Result<BTreeMap<String, String>> {
        let mut all = match &self.config {
            Some(path) => kafka_settings::from_file(path)?,
            None => BTreeMap::new(),
        };
        all.extend(kafka_settings::from_env(std::env::vars()));
        for property in &self.properties {
            let Some((key, value)) = property.split_once('=') else {
                bail!("-X {property}: write a librdkafka property as KEY=VALUE, e.g. -X security.protocol=SSL");
            };
            all.insert(key.trim().to_owned(), value.trim().to_owned());
        }
        Ok(all)
    }

    /// The cluster given by --brokers (or HANDOFF_BROKERS, or a
    /// bootstrap.servers setting) with every setting applied; `None` when
    /// none is given.
    pub fn cluster(&self) -> Result<Option<KafkaConfig>> {
        let mut settings = self.settings()?;
        let bootstrap = settings.remove("bootstrap.servers");
        let Some(brokers) = self.brokers.clone().or(bootstrap) else {
            return Ok(None);
        };
        let mut config = KafkaConfig::new(brokers);
        config.properties.extend(settings);
        Ok(Some(config))
    }

    /// Applies every setting (but the bootstrap servers) to the embedded
    /// broker's client configuration.
    pub fn apply(&self, config: &mut KafkaConfig) -> Result<()> {
        let mut settings = self.settings()?;
        settings.remove("bootstrap.servers");
        config.properties.extend(settings);
        Ok(())
    }

    /// The configured cluster, or the local `handoff up` (127.0.0.1:9092).
    pub fn or_local(&self) -> Result<KafkaConfig> {
        match self.cluster()? {
            Some(config) => Ok(config),
            None => {
                let mut config = KafkaConfig::new("127.0.0.1:9092");
                self.apply(&mut config)?;
                Ok(config)
            }
        }
    }

    /// The configured cluster, or an error saying how to give one.
    pub fn required(&self) -> Result<KafkaConfig> {
        match self.cluster()? {
            Some(config) => Ok(config),
            None => bail!(
                "no Kafka cluster given: pass --brokers host:port (or set HANDOFF_BROKERS, or \"bootstrap.servers\" in the [kafka] table of --config)"
            ),
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
