//! `handoff topics`: create the Handoff topics on a cluster, for operators
//! who provision before starting services.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use handoff_bus::{ensure_topics, TopicsConfig};

use crate::kafka_args::KafkaArgs;

#[derive(Args, Debug)]
pub struct TopicsArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub layout: TopicLayoutArgs,
}

/// Partitions and replication of the topics Handoff creates.
#[derive(Args, Debug, Clone)]
pub struct TopicLayoutArgs {
    /// Partitions of each agency topic (the key is the A-number).
    #[arg(long, default_value_t = 6)]
    pub partitions: i32,
    /// Replication factor (3 on a production cluster).
    #[arg(long, default_value_t = 1)]
    pub replication_factor: i32,
    /// min.insync.replicas for every topic (2 on a production cluster).
    #[arg(long)]
    pub min_insync_replicas: Option<i32>,
}

impl TopicLayoutArgs {
    pub fn config(&self) -> TopicsConfig {
        TopicsConfig {
            agency_partitions: self.partitions,
            replication_factor: self.replication_factor,
            min_insync_replicas: self.min_insync_replicas,
            ..TopicsConfig::default()
        }
    }
}

pub async fn run(args: TopicsArgs) -> Result<ExitCode> {
    let kafka = args.kafka.required()?;
    let config = args.layout.config();
    let created = ensure_topics(&kafka, &config).await?;
    for spec in config.specs() {
        let state = if created.iter().any(|c| c == spec.name) {
            "created"
        } else {
            "exists"
        };
        println!(
            "{:<28} {:>3} partitions  {state}",
            spec.name, spec.partitions
        );
    }
    Ok(ExitCode::SUCCESS)
}
