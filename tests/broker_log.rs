//! The embedded broker's log engine under the failures it must survive: a
//! broker killed (SIGKILL) in the middle of a produce loop and restarted
//! on the same port while the idempotent producer keeps retrying, and a
//! segment whose tail a crash tore; and the answers a consumer relies on:
//! offsets by time, and a waiting fetch woken by the append.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use handoff_bus::embedded::EmbeddedBroker;
use handoff_e2e::ServiceProcess;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

const TOPIC: &str = "crash.v1";
const PARTITIONS: i32 = 3;

fn config(brokers: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers);
    c
}

async fn create_topic(brokers: &str) {
    let admin: AdminClient<DefaultClientContext> = config(brokers).create().unwrap();
    let made = admin
        .create_topics(
            &[NewTopic::new(TOPIC, PARTITIONS, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        )
        .await
        .unwrap();
    assert!(made.iter().all(Result::is_ok), "{made:?}");
}

/// Every record of every partition, by offset: (partition, offset) → value.
fn read_all(brokers: &str) -> BTreeMap<(i32, i64), String> {
    let consumer: BaseConsumer = config(brokers)
        .set("group.id", "crash-check")
        .set("enable.auto.commit", "false")
        .set("check.crcs", "true")
        .create()
        .unwrap();
    let mut out = BTreeMap::new();
    for partition in 0..PARTITIONS {
        let (low, high) = consumer
            .fetch_watermarks(TOPIC, partition, Duration::from_secs(10))
            .unwrap();
        assert_eq!(low, 0);
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(TOPIC, partition, Offset::Beginning)
            .unwrap();
        consumer.assign(&tpl).unwrap();
        let mut next = 0;
        while next < high {
            let m = consumer
                .poll(Duration::from_secs(10))
                .expect("a record within 10 s")
                .unwrap();
            assert_eq!(m.offset(), next, "partition {partition} has no gap");
            let value = String::from_utf8(m.payload().unwrap().to_vec()).unwrap();
            out.insert((partition, m.offset()), value);
            next += 1;
        }
    }
    out
}

/// A broker process on `dir`, on `port` (0: any), flushing every batch.
fn broker(dir: &std::path::Path, port: u16) -> ServiceProcess {
    ServiceProcess::start(
        &[
            "broker",
            "--data-dir",
            dir.to_str().unwrap(),
            "--port",
            &port.to_string(),
            "--broker-fsync",
            "always",
            "--broker-storage",
            "log",
        ],
        &[],
        "broker",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_killed_mid_produce_loses_no_acknowledged_record_and_writes_none_twice() {
    handoff_e2e::init_logging();
    let dir = tempfile::tempdir().unwrap();
    let mut first = broker(dir.path(), 0);
    let brokers = first.url.clone();
    let port: u16 = brokers.rsplit(':').next().unwrap().parse().unwrap();
    create_topic(&brokers).await;

    let producer: FutureProducer = config(&brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "2")
        .set("message.timeout.ms", "120000")
        .create()
        .unwrap();
    const RECORDS: usize = 20_000;
    let acked = Arc::new(AtomicUsize::new(0));
    let enqueued = Arc::new(AtomicUsize::new(0));
    // Kills the broker once a quarter of the records are acknowledged,
    // while the rest are still being sent, and brings it back on the same
    // port; answers how many were in flight at the kill.
    let killer = {
        let (acked, enqueued) = (acked.clone(), enqueued.clone());
        let dir = dir.path().to_owned();
        tokio::spawn(async move {
            while acked.load(Ordering::SeqCst) < RECORDS / 4 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            first.child.kill().unwrap();
            let in_flight = enqueued.load(Ordering::SeqCst) - acked.load(Ordering::SeqCst);
            first.child.wait().unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            (broker(&dir, port), in_flight)
        })
    };
    let mut sends = Vec::with_capacity(RECORDS);
    for i in 0..RECORDS {
        let value = format!("record-{i:05}");
        let producer = producer.clone();
        let acked = acked.clone();
        sends.push(tokio::spawn(async move {
            let key = format!("k{}", i % 97);
            let sent = producer
                .send(
                    FutureRecord::to(TOPIC).key(&key).payload(&value),
                    Duration::from_secs(120),
                )
                .await;
            acked.fetch_add(1, Ordering::SeqCst);
            (
                value,
                sent.map(|d| (d.partition, d.offset)).map_err(|(e, _)| e),
            )
        }));
        enqueued.fetch_add(1, Ordering::SeqCst);
        if i % 50 == 0 {
            // Spread the sends out, so the kill lands among them.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let (mut restarted, in_flight) = killer.await.unwrap();
    eprintln!("killed with {in_flight} sends unacknowledged");
    assert!(in_flight > 0, "the kill landed among unacknowledged sends");
    let mut acknowledged = HashMap::new();
    for send in sends {
        let (value, sent) = send.await.unwrap();
        let at = sent.unwrap_or_else(|e| panic!("{value} was not acknowledged: {e}"));
        acknowledged.insert(value, at);
    }
    producer.flush(Duration::from_secs(30)).unwrap();
    assert_eq!(acknowledged.len(), RECORDS);

    let brokers = restarted.url.clone();
    let log = tokio::task::spawn_blocking(move || read_all(&brokers))
        .await
        .unwrap();
    // Each acknowledged record is where its acknowledgement said, and no
    // record is there twice (the retries after the restart were answered
    // from the producer state the log rebuilt).
    assert_eq!(log.len(), RECORDS, "no record lost and none written twice");
    for (value, at) in &acknowledged {
        assert_eq!(log.get(at), Some(value), "{value} at {at:?}");
    }
    restarted.child.kill().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_segment_tail_is_cut_back_when_the_broker_starts() {
    handoff_e2e::init_logging();
    let dir = tempfile::tempdir().unwrap();
    let broker = EmbeddedBroker::start(dir.path(), 0).await.unwrap();
    create_topic(&broker.brokers).await;
    let producer: FutureProducer = config(&broker.brokers).create().unwrap();
    for i in 0..50 {
        producer
            .send(
                FutureRecord::to(TOPIC)
                    .partition(0)
                    .key("k")
                    .payload(&format!("before-{i}")),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }
    drop(producer);
    broker.stop().await;

    // Half a batch at the end, as a crash in the middle of a write leaves.
    let segment = dir
        .path()
        .join("broker/log/crash.v1-0/00000000000000000000.log");
    let whole = std::fs::read(&segment).unwrap();
    let torn = &whole[..whole.len().min(40)];
    std::fs::OpenOptions::new()
        .append(true)
        .open(&segment)
        .unwrap()
        .write_all(torn)
        .unwrap();

    let started = Instant::now();
    let broker = EmbeddedBroker::start(dir.path(), 0).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(
        std::fs::metadata(&segment).unwrap().len(),
        whole.len() as u64,
        "the torn tail is cut, the whole batches kept"
    );
    let producer: FutureProducer = config(&broker.brokers).create().unwrap();
    let after = producer
        .send(
            FutureRecord::to(TOPIC)
                .partition(0)
                .key("k")
                .payload("after"),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!((after.partition, after.offset), (0, 50));
    drop(producer);
    let brokers = broker.brokers.clone();
    let log = tokio::task::spawn_blocking(move || read_all(&brokers))
        .await
        .unwrap();
    assert_eq!(log.len(), 51);
    assert_eq!(log[&(0, 0)], "before-0");
    assert_eq!(log[&(0, 50)], "after");
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_by_time_are_the_first_at_or_after_it_in_every_partition() {
    handoff_e2e::init_logging();
    let dir = tempfile::tempdir().unwrap();
    let broker = EmbeddedBroker::start(dir.path(), 0).await.unwrap();
    create_topic(&broker.brokers).await;
    let producer: FutureProducer = config(&broker.brokers).create().unwrap();
    // Partition p gets records 0..30 stamped base + 10 * i + p, in order
    // but with one step back, as producers' clocks may.
    let base = 1_700_000_000_000i64;
    let stamp = |p: i32, i: i64| {
        let t = base + 10 * i + i64::from(p);
        if i == 20 {
            t - 25
        } else {
            t
        }
    };
    for i in 0..30 {
        for p in 0..PARTITIONS {
            producer
                .send(
                    FutureRecord::to(TOPIC)
                        .partition(p)
                        .key("k")
                        .payload("v")
                        .timestamp(stamp(p, i)),
                    Duration::from_secs(10),
                )
                .await
                .unwrap();
        }
    }
    drop(producer);
    let brokers = broker.brokers.clone();
    let answers = tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = config(&brokers)
            .set("group.id", "by-time")
            .create()
            .unwrap();
        let mut answers = Vec::new();
        for at in [base - 1, base + 55, base + 195, base + 291, base + 10_000] {
            let mut tpl = TopicPartitionList::new();
            for p in 0..PARTITIONS {
                tpl.add_partition_offset(TOPIC, p, Offset::Offset(at))
                    .unwrap();
            }
            let found = consumer
                .offsets_for_times(tpl, Duration::from_secs(10))
                .unwrap();
            for e in found.elements() {
                answers.push((at, e.partition(), e.offset()));
            }
        }
        answers
    })
    .await
    .unwrap();
    assert_eq!(answers.len(), 15);
    for (at, p, offset) in answers {
        // The first record, in offset order, whose stamp is at or after.
        let expected = (0..30).find(|i| stamp(p, *i) >= at);
        let expected = expected.map_or(Offset::End, Offset::Offset);
        assert_eq!(offset, expected, "partition {p} at {}", at - base);
    }
    broker.stop().await;
}

/// A consumer at the end of the log, in a fetch allowed to wait 20 s, gets
/// a new record when it is appended, not when its wait runs out: the
/// broker library's fetch alone would sleep out half the wait (10 s) after
/// finding nothing, and that is the notifier's latency (`long_poll`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_fetch_is_answered_by_the_append_not_by_its_deadline() {
    handoff_e2e::init_logging();
    let dir = tempfile::tempdir().unwrap();
    let broker = EmbeddedBroker::start(dir.path(), 0).await.unwrap();
    create_topic(&broker.brokers).await;
    let brokers = broker.brokers.clone();
    let (ready, ready_rx) = std::sync::mpsc::channel();
    let reader = tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = config(&brokers)
            .set("group.id", "long-poll")
            .set("fetch.wait.max.ms", "20000")
            .create()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(TOPIC, 1, Offset::Beginning)
            .unwrap();
        consumer.assign(&tpl).unwrap();
        // Polling an empty partition for 2 s: its fetch is waiting now.
        let idle = Instant::now();
        while idle.elapsed() < Duration::from_secs(2) {
            assert!(consumer.poll(Duration::from_millis(100)).is_none());
        }
        ready.send(()).unwrap();
        loop {
            if let Some(m) = consumer.poll(Duration::from_millis(100)) {
                let m = m.unwrap();
                return (Instant::now(), m.payload().map(<[u8]>::to_vec));
            }
        }
    });
    ready_rx.recv().unwrap();
    let producer: FutureProducer = config(&broker.brokers)
        .set("linger.ms", "0")
        .create()
        .unwrap();
    producer
        .send(
            FutureRecord::to(TOPIC)
                .partition(1)
                .key("k")
                .payload("wake"),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let acknowledged = Instant::now();
    let (received, payload) = reader.await.unwrap();
    assert_eq!(payload.as_deref(), Some(&b"wake"[..]));
    let waited = received.saturating_duration_since(acknowledged);
    assert!(
        waited < Duration::from_secs(5),
        "the record reached the waiting consumer {waited:?} after its acknowledgement; \
         a fetch that slept out half its 20 s wait takes 8 s or more"
    );
    broker.stop().await;
}
