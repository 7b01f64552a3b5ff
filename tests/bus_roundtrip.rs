//! Events go through the real broker and registry and come back equal,
//! with their CloudEvents headers.

use std::time::Duration;

use handoff_bus::EventProducer;
use handoff_e2e::Stack;
use handoff_events::{samples, topics};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_type_round_trips_through_broker_and_registry() {
    let stack = Stack::start().await;
    let codec = stack.codec();
    codec
        .register_catalogue()
        .await
        .expect("catalogue registers");
    let producer = EventProducer::new(&stack.kafka, codec.clone()).unwrap();
    let events = samples::one_of_each("A-123-456-78".parse().unwrap());
    for event in &events {
        producer.publish(event, None).await.expect("published");
    }

    let consumer: StreamConsumer = stack.kafka.consumer("roundtrip-test").create().unwrap();
    consumer.subscribe(&topics::AGENCY).unwrap();
    let mut received = Vec::new();
    while received.len() < events.len() {
        let m = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .expect("events arrive")
            .unwrap();
        let headers = m.headers().expect("headers");
        let header = |name: &str| handoff_bus::headers::get(headers, name).map(str::to_owned);
        let event = codec.decode(m.payload().unwrap()).await.expect("decodes");
        assert_eq!(
            header("ce_id").as_deref(),
            Some(event.meta().event_id.as_str())
        );
        assert_eq!(header("ce_type"), Some(event.full_name()));
        assert_eq!(header("ce_specversion").as_deref(), Some("1.0"));
        assert_eq!(
            header("ce_time"),
            Some(event.meta().occurred_at.to_rfc3339())
        );
        assert!(header("ce_source").unwrap().starts_with("/handoff/"));
        assert!(handoff_events::cloudevents::is_valid_traceparent(
            &header("traceparent").unwrap()
        ));
        assert_eq!(
            m.key(),
            Some(b"A012345678".as_slice()),
            "keyed by normalised A-number"
        );
        assert_eq!(m.topic(), event.topic());
        received.push(event);
    }
    for event in &events {
        assert!(
            received.contains(event),
            "{} came back changed",
            event.record_name()
        );
    }
    stack.stop().await;
}
