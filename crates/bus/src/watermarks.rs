//! Where topics end now: the notifier marks the history it must not
//! re-send on first start, and tests wait for sinks to reach the end.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;

use crate::sink::TopicPartition;
use crate::KafkaConfig;

/// The end (high watermark) of every partition of `topics`. Blocking:
/// call it from a blocking task.
pub fn topic_ends(
    kafka: &KafkaConfig,
    topics: &[&str],
) -> Result<HashMap<TopicPartition, i64>, KafkaError> {
    let consumer: BaseConsumer = kafka.consumer("handoff-watermarks").create()?;
    let mut out = HashMap::new();
    for topic in topics {
        let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
        for p in metadata.topics()[0].partitions() {
            let (_, high) = consumer.fetch_watermarks(topic, p.id(), Duration::from_secs(10))?;
            out.insert(((*topic).to_owned(), p.id()), high);
        }
    }
    Ok(out)
}
