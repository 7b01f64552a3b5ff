//! `handoff registry`: the schema registry as its own process, on any
//! Kafka cluster.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use handoff_bus::{ensure_named_topics, TopicsConfig};
use handoff_events::topics;
use handoff_registry::RegistryConfig;

use crate::kafka_args::KafkaArgs;
use crate::shutdown;

#[derive(Args, Debug)]
pub struct RegistryArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Where the REST API listens.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// Replication factor of the `_schemas` topic if it must be created.
    #[arg(long, default_value_t = 1)]
    pub replication_factor: i32,
}

pub async fn run(args: RegistryArgs) -> Result<ExitCode> {
    let kafka = args.kafka.required()?;
    let stop = shutdown::on_signal();
    let layout = TopicsConfig {
        replication_factor: args.replication_factor,
        ..TopicsConfig::default()
    };
    ensure_named_topics(&kafka, &layout, &[topics::SCHEMAS]).await?;
    let config = RegistryConfig {
        listen: args.listen,
        ..RegistryConfig::default()
    };
    let registry = handoff_registry::start(&kafka, &config, stop.clone()).await?;
    println!("registry  {}", registry.url);
    registry.task.await?;
    Ok(ExitCode::SUCCESS)
}
