//! Kafka plumbing shared by every Handoff service: client configuration,
//! the producer, topic admin, the sink consumer loop that resumes from
//! offsets the sink stores itself, the dead-letter path, and (behind the
//! `embedded-broker` feature) the in-process Tansu broker.

pub mod config;

pub use config::KafkaConfig;
