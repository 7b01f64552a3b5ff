//! `handoff topics`: create the Handoff topics on a cluster, for operators
//! who provision before starting services.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use handoff_bus::{ensure_topics, TopicsConfig};
use handoff_events::access;

use crate::kafka_args::KafkaArgs;

#[derive(Args, Debug)]
pub struct TopicsArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub layout: TopicLayoutArgs,
    /// Print the plan instead of creating anything (no broker needed): the
    /// topics with their partitions and retention, or the principals' ACLs a
    /// secured cluster needs. `deploy/` is checked against both.
    #[arg(long, value_enum)]
    pub print: Option<Plan>,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum Plan {
    /// topic, partitions, retention.ms (-1: forever), min.insync.replicas
    Topics,
    /// principal, operation, resource type, resource name
    Acls,
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
    let config = args.layout.config();
    if let Some(plan) = args.print {
        print_plan(plan, &config);
        return Ok(ExitCode::SUCCESS);
    }
    let kafka = args.kafka.required()?;
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

/// Tab-separated with a header line, for people and for scripts alike.
fn print_plan(plan: Plan, config: &TopicsConfig) {
    match plan {
        Plan::Topics => {
            println!("topic\tpartitions\tretention.ms\tmin.insync.replicas");
            let min_insync = config
                .min_insync_replicas
                .map_or("-".to_owned(), |m| m.to_string());
            for spec in config.specs() {
                println!(
                    "{}\t{}\t{}\t{min_insync}",
                    spec.name, spec.partitions, spec.retention_ms
                );
            }
        }
        Plan::Acls => {
            println!("principal\toperation\tresource\tname");
            for acl in access::acls() {
                println!(
                    "{}\t{}\t{}\t{}",
                    acl.principal,
                    acl.operation.as_str(),
                    acl.resource,
                    acl.name
                );
            }
        }
    }
}
