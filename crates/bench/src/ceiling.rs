//! The broker's own limits, which Handoff's ingest and replay are measured
//! against: a minimal rdkafka producer sending records that are already
//! encoded, and a minimal consumer that counts records without decoding
//! them. Both use the same client settings as Handoff's own producer and
//! consumers (`KafkaConfig::producer`/`consumer`), so the ratio isolates
//! what Handoff adds: parsing, encoding, decoding, storing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use handoff_bus::KafkaConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};

use crate::BenchError;

/// One record as it lies on the log.
pub struct RawRecord {
    pub partition: i32,
    pub key: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
    pub timestamp: Option<i64>,
    pub headers: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Rate {
    pub records: u64,
    pub bytes: u64,
    pub seconds: f64,
}

impl Rate {
    pub fn per_second(&self) -> f64 {
        self.records as f64 / self.seconds.max(1e-9)
    }

    /// This run and `then`, one after the other, as one.
    pub fn and(self, then: Rate) -> Rate {
        Rate {
            records: self.records + then.records,
            bytes: self.bytes + then.bytes,
            seconds: self.seconds + then.seconds,
        }
    }
}

fn kafka_error(what: &str) -> impl Fn(KafkaError) -> BenchError + '_ {
    move |e| BenchError::Run(format!("{what}: {e}"))
}

/// Every partition of `topics` with its end offset now.
fn partitions(
    consumer: &BaseConsumer,
    topics: &[&str],
) -> Result<Vec<(String, i32, i64)>, BenchError> {
    let mut out = Vec::new();
    for topic in topics {
        let metadata = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .map_err(kafka_error("reading the topics' metadata"))?;
        for p in metadata.topics()[0].partitions() {
            let (_, high) = consumer
                .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
                .map_err(kafka_error("reading the watermarks"))?;
            out.push(((*topic).to_owned(), p.id(), high));
        }
    }
    Ok(out)
}

/// Reads `topics` from the beginning to their current ends, handing each
/// record to `each`. Blocking: run it on a blocking thread.
fn read_all(
    kafka: &KafkaConfig,
    topics: &[&str],
    mut each: impl FnMut(&rdkafka::message::BorrowedMessage<'_>),
) -> Result<Rate, BenchError> {
    let consumer: BaseConsumer = kafka
        .consumer(&format!("handoff-bench-raw-{}", std::process::id()))
        .create()
        .map_err(kafka_error("creating the raw consumer"))?;
    let parts = partitions(&consumer, topics)?;
    let mut list = TopicPartitionList::new();
    let mut remaining: HashMap<(String, i32), i64> = HashMap::new();
    for (topic, partition, end) in &parts {
        if *end > 0 {
            list.add_partition_offset(topic, *partition, Offset::Beginning)
                .map_err(kafka_error("assigning"))?;
            remaining.insert((topic.clone(), *partition), *end);
        }
    }
    consumer
        .assign(&list)
        .map_err(kafka_error("assigning the partitions"))?;
    let started = Instant::now();
    let mut rate = Rate::default();
    let mut idle_since = Instant::now();
    while !remaining.is_empty() {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(m)) => {
                idle_since = Instant::now();
                rate.records += 1;
                rate.bytes += m.payload().map_or(0, <[u8]>::len) as u64;
                each(&m);
                let key = (m.topic().to_owned(), m.partition());
                if remaining
                    .get(&key)
                    .is_some_and(|end| m.offset() + 1 >= *end)
                {
                    remaining.remove(&key);
                }
            }
            Some(Err(e)) => return Err(BenchError::Run(format!("raw consume: {e}"))),
            None if idle_since.elapsed() > Duration::from_secs(60) => {
                return Err(BenchError::Run(format!(
                    "raw consume: nothing for 60 s with {} partitions unfinished",
                    remaining.len()
                )))
            }
            None => {}
        }
    }
    rate.seconds = started.elapsed().as_secs_f64();
    Ok(rate)
}

/// The raw consume ceiling: every record of `topics`, counted, not decoded.
pub fn consume(kafka: &KafkaConfig, topics: &[&str]) -> Result<Rate, BenchError> {
    read_all(kafka, topics, |_| {})
}

/// Every record of `topic`, held in memory for the raw producer.
pub fn load(kafka: &KafkaConfig, topic: &str) -> Result<Vec<RawRecord>, BenchError> {
    let mut records = Vec::new();
    read_all(kafka, &[topic], |m| {
        let headers = handoff_bus::headers::pairs(m.headers());
        records.push(RawRecord {
            partition: m.partition(),
            key: m.key().map(<[u8]>::to_vec),
            payload: m.payload().map(<[u8]>::to_vec),
            timestamp: m.timestamp().to_millis(),
            headers,
        });
    })?;
    Ok(records)
}

/// Counts acknowledgements and failures of the raw producer's sends.
#[derive(Default)]
struct Acks {
    delivered: std::sync::atomic::AtomicU64,
    failed: std::sync::atomic::AtomicU64,
}

impl ClientContext for Acks {}

impl ProducerContext for Acks {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        use std::sync::atomic::Ordering::Relaxed;
        match result {
            Ok(_) => self.delivered.fetch_add(1, Relaxed),
            Err(_) => self.failed.fetch_add(1, Relaxed),
        };
    }
}

/// The raw producer ceiling: `records` (already encoded) sent to a new
/// topic `to` with `partitions` partitions, each to the partition it came
/// from, and every one acknowledged. Blocking.
pub fn produce(
    kafka: &KafkaConfig,
    to: &str,
    partitions: i32,
    records: &[RawRecord],
) -> Result<Rate, BenchError> {
    create_topic(kafka, to, partitions)?;
    let producer: ThreadedProducer<Acks> = kafka
        .producer()
        .create_with_context(Acks::default())
        .map_err(kafka_error("creating the raw producer"))?;
    let started = Instant::now();
    let mut bytes = 0u64;
    for r in records {
        let mut headers = OwnedHeaders::new_with_capacity(r.headers.len());
        for (key, value) in &r.headers {
            headers = headers.insert(Header {
                key,
                value: Some(value),
            });
        }
        let mut record: BaseRecord<'_, [u8], [u8]> =
            BaseRecord::to(to).partition(r.partition).headers(headers);
        if let Some(key) = &r.key {
            record = record.key(key.as_slice());
        }
        if let Some(payload) = &r.payload {
            bytes += payload.len() as u64;
            record = record.payload(payload.as_slice());
        }
        if let Some(t) = r.timestamp {
            record = record.timestamp(t);
        }
        let mut record = record;
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err((e, _)) => return Err(BenchError::Run(format!("raw produce: {e}"))),
            }
        }
    }
    producer
        .flush(Duration::from_secs(300))
        .map_err(kafka_error("raw produce: flushing"))?;
    let seconds = started.elapsed().as_secs_f64();
    let acks = producer.context();
    let failed = acks.failed.load(std::sync::atomic::Ordering::Relaxed);
    let delivered = acks.delivered.load(std::sync::atomic::Ordering::Relaxed);
    if failed > 0 || delivered != records.len() as u64 {
        return Err(BenchError::Run(format!(
            "raw produce: {delivered} of {} acknowledged, {failed} failed",
            records.len()
        )));
    }
    Ok(Rate {
        records: delivered,
        bytes,
        seconds,
    })
}

fn create_topic(kafka: &KafkaConfig, name: &str, partitions: i32) -> Result<(), BenchError> {
    let admin: AdminClient<DefaultClientContext> = kafka
        .client()
        .create()
        .map_err(kafka_error("creating an admin client"))?;
    let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| BenchError::Run(format!("a runtime for the admin client: {e}")))?;
    let results = runtime
        .block_on(admin.create_topics([&topic], &AdminOptions::new()))
        .map_err(kafka_error("creating the raw producer's topic"))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(BenchError::Run(format!("creating topic {topic}: {code}")))
            }
        }
    }
    Ok(())
}

/// The number of partitions of `topic`.
pub fn partition_count(kafka: &KafkaConfig, topic: &str) -> Result<i32, BenchError> {
    let consumer: BaseConsumer = kafka
        .client()
        .create()
        .map_err(kafka_error("creating a metadata client"))?;
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(kafka_error("reading the topic's metadata"))?;
    Ok(metadata.topics()[0].partitions().len() as i32)
}
