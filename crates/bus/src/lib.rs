//! Kafka plumbing shared by every Handoff service: client configuration,
//! the producer, topic admin, the sink consumer loop that resumes from
//! offsets the sink stores itself, the dead-letter path, and (behind the
//! `embedded-broker` feature) the in-process Nisshi broker.

pub mod admin;
pub mod backlog;
pub mod config;
pub mod dlq;
#[cfg(feature = "embedded-broker")]
pub mod embedded;
pub mod headers;
pub mod producer;
pub mod settings;
pub mod sink;
pub mod watermarks;

pub use admin::{ensure_named_topics, ensure_topics, TopicsConfig};
pub use config::KafkaConfig;
pub use producer::{Delivery, EventProducer, PublishError};
pub use sink::{
    Delivered, Membership, OffsetAdvance, OffsetReader, Sink, SinkError, SinkRunError, SinkRunner,
    SinkRunnerConfig, SinkStats,
};
