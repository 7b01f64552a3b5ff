//! Interop with a stock Confluent client: Python confluent-kafka 2.16 with
//! fastavro, in the test venv. Python's AvroSerializer writes an event
//! against our registry and Handoff decodes it; Handoff writes events and
//! Python's AvroDeserializer reads them back field for field.

use std::time::Duration;

use handoff_bus::EventProducer;
use handoff_e2e::{python_peer, Stack};
use handoff_events::{samples, topics, ANumber, Event};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_avro_serializer_to_handoff() {
    let stack = Stack::start().await;
    let codec = stack.codec();
    codec.register_catalogue().await.unwrap();
    let events = samples::one_of_each(ANumber::parse("A000000401").unwrap());
    // An event with nested records, unions, enums and logical types.
    let sent = events
        .iter()
        .find(|e| e.record_name() == "HearingScheduled")
        .unwrap()
        .clone();
    let schema = codec
        .catalogue()
        .get("HearingScheduled")
        .unwrap()
        .text
        .clone();
    let dir = stack.data_dir();
    std::fs::write(dir.join("schema.avsc"), &schema).unwrap();
    std::fs::write(dir.join("value.json"), sent.to_json().to_string()).unwrap();
    let out = python_peer(&[
        "produce",
        "--brokers",
        &stack.kafka.brokers,
        "--registry",
        stack.registry_url(),
        "--topic",
        topics::DOJ,
        "--schema",
        dir.join("schema.avsc").to_str().unwrap(),
        "--value",
        dir.join("value.json").to_str().unwrap(),
        "--key",
        "A000000401",
    ]);
    let schema_id: serde_json::Value = serde_json::from_str(out.trim()).unwrap();

    let consumer: StreamConsumer = stack.kafka.consumer("from-python").create().unwrap();
    consumer.subscribe(&[topics::DOJ]).unwrap();
    let m = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
        .await
        .expect("python's record arrives")
        .unwrap();
    let payload = m.payload().unwrap();
    assert_eq!(payload[0], 0, "Confluent magic byte");
    assert_eq!(
        u32::from_be_bytes(payload[1..5].try_into().unwrap()) as u64,
        schema_id["schema_id"].as_u64().unwrap(),
        "python used the id our registry gave"
    );
    let received = codec
        .decode(payload)
        .await
        .expect("handoff decodes python's bytes");
    assert_eq!(received, sent);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handoff_to_python_avro_deserializer() {
    let stack = Stack::start().await;
    let codec = stack.codec();
    codec.register_catalogue().await.unwrap();
    let producer = EventProducer::new(&stack.kafka, codec.clone()).unwrap();
    let events: Vec<Event> = samples::one_of_each(ANumber::parse("A000000402").unwrap())
        .into_iter()
        .filter(|e| e.topic() == topics::ICE)
        .collect();
    for e in &events {
        producer.publish(e, None).await.unwrap();
    }
    let out = python_peer(&[
        "consume",
        "--brokers",
        &stack.kafka.brokers,
        "--registry",
        stack.registry_url(),
        "--topic",
        topics::ICE,
        "--count",
        &events.len().to_string(),
    ]);
    let read: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(read.len(), events.len());
    for e in &events {
        let expected = e.to_json();
        assert!(
            read.contains(&expected),
            "python did not read {} field for field:\nexpected {expected}\nread {read:#?}",
            e.record_name()
        );
    }
    stack.stop().await;
}
