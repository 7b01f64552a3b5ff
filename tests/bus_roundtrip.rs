//! Events go through the real broker and registry and come back equal,
//! with their CloudEvents headers.

use std::time::Duration;

use handoff_bus::EventProducer;
use handoff_e2e::{engine, Stack};
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

/// The codec writes and reads Avro bodies with this build's datum writers
/// and readers (the fast path); the schema registry converter's generic
/// `Value` path is what stock Confluent clients agree with. Both must give
/// the same bytes, and each must read what the other wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fast_wire_path_writes_and_reads_what_the_converter_does() {
    use schema_registry_converter::async_impl::avro::{AvroDecoder, AvroEncoder};
    use schema_registry_converter::async_impl::schema_registry::SrSettings;
    use schema_registry_converter::schema_registry_common::{
        SchemaType, SubjectNameStrategy, SuppliedSchema,
    };

    let stack = Stack::start().await;
    let codec = stack.codec();
    codec.register_catalogue().await.unwrap();
    let settings = SrSettings::new(stack.registry.url.clone());
    let converter = AvroEncoder::new(settings.clone());
    let generic_decoder = AvroDecoder::new(settings);
    for event in samples::one_of_each("A000000777".parse().unwrap()) {
        let schema = codec.catalogue().get(event.record_name()).unwrap();
        let strategy = SubjectNameStrategy::TopicRecordNameStrategyWithSchema(
            event.topic().to_owned(),
            SuppliedSchema::new(
                Some(schema.full_name.clone()),
                SchemaType::Avro,
                schema.text.clone(),
            ),
        );
        let generic = converter
            .encode_value(event.to_avro_value(), &strategy)
            .await
            .unwrap();
        let fast = codec.encode(&event).await.unwrap();
        assert_eq!(fast, generic, "{} encodes differently", event.record_name());
        assert_eq!(codec.decode(&generic).await.unwrap(), event);
        let read = generic_decoder.decode(Some(&fast)).await.unwrap();
        assert_eq!(
            handoff_events::Event::from_avro_value(event.record_name(), &read.value).unwrap(),
            event,
            "the converter reads back what the fast path wrote"
        );
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_written_with_a_newer_compatible_schema_still_decodes() {
    use apache_avro::writer::datum::GenericDatumWriter;
    use apache_avro::Schema;

    let stack = Stack::start().await;
    let codec = stack.codec();
    codec.register_catalogue().await.unwrap();
    let event = samples::one_of_each("A000000501".parse().unwrap())
        .into_iter()
        .find(|e| e.record_name() == "HearingAttended")
        .unwrap();

    // Version 2 of the schema, as another agency's producer might have it:
    // one more optional field.
    let mut v2: serde_json::Value =
        serde_json::from_str(&codec.catalogue().get("HearingAttended").unwrap().text).unwrap();
    v2["fields"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "interpreter_language", "type": ["null", "string"], "default": null}));
    let v2_text = v2.to_string();
    let registered: serde_json::Value = handoff_e2e::http()
        .post(format!(
            "{}/subjects/handoff.doj.v1-gov.handoff.v1.HearingAttended/versions",
            stack.registry_url()
        ))
        .json(&serde_json::json!({"schema": v2_text}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = registered["id"]
        .as_u64()
        .expect("v2 is compatible and registers") as u32;

    let schema = Schema::parse_str(&v2_text).unwrap();
    let mut value = event.to_avro_value();
    if let apache_avro::types::Value::Record(fields) = &mut value {
        fields.push((
            "interpreter_language".into(),
            apache_avro::types::Value::Union(
                1,
                Box::new(apache_avro::types::Value::String("mam".into())),
            ),
        ));
    }
    let body = GenericDatumWriter::builder(&schema)
        .build()
        .unwrap()
        .write_value_to_vec(value)
        .unwrap();
    let mut framed = vec![0u8];
    framed.extend_from_slice(&id.to_be_bytes());
    framed.extend_from_slice(&body);

    let decoded = codec
        .decode(&framed)
        .await
        .expect("a newer compatible version decodes");
    assert_eq!(
        decoded, event,
        "the unknown field is dropped, the rest is equal"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_broker_restarts_on_its_data_directory_with_the_data() {
    use handoff_bus::embedded::EmbeddedBroker;
    use rdkafka::producer::{FutureProducer, FutureRecord};

    let dir = tempfile::tempdir().unwrap();
    let broker = EmbeddedBroker::start_with(dir.path(), 0, engine())
        .await
        .unwrap();
    let kafka = broker.kafka_config();
    handoff_bus::ensure_topics(&kafka, &handoff_bus::TopicsConfig::default())
        .await
        .unwrap();
    let producer: FutureProducer = kafka.producer().create().unwrap();
    for i in 0..5 {
        let payload = format!("before restart {i}");
        producer
            .send(
                FutureRecord::to(topics::DLQ).key("k").payload(&payload),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }
    drop(producer);
    let port = broker.addr.port();
    broker.stop().await;

    // Same directory, same port: the files were released and hold the records.
    let broker = EmbeddedBroker::start_with(dir.path(), port, engine())
        .await
        .expect("restarts on the same files");
    let kafka = broker.kafka_config();
    let consumer: StreamConsumer = kafka.consumer("after-restart").create().unwrap();
    consumer.subscribe(&[topics::DLQ]).unwrap();
    let mut got = Vec::new();
    while got.len() < 5 {
        let m = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .expect("records survive the restart")
            .unwrap();
        got.push(String::from_utf8(m.payload().unwrap().to_vec()).unwrap());
    }
    assert_eq!(
        got,
        (0..5)
            .map(|i| format!("before restart {i}"))
            .collect::<Vec<_>>()
    );
    broker.stop().await;
}
