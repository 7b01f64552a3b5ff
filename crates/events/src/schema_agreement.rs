//! Proves the Rust types agree with `schemas/` exactly: for every event
//! type, the schema derived from the Rust type equals the composed file
//! schema in names, namespaces, field order, types, logical types, enum
//! symbols and defaults. Only `doc` text is ignored.

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use serde_json::Value;

use crate::catalogue::Catalogue;
use crate::event::{Event, EVENT_TYPES};
use crate::samples;

fn without_docs(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| k != "doc")
                .map(|(k, v)| (k, without_docs(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_docs).collect()),
        other => other,
    }
}

fn shape(schema: &Schema) -> Value {
    without_docs(serde_json::to_value(schema).unwrap())
}

#[test]
fn every_rust_type_equals_its_schema_file() {
    let catalogue = Catalogue::embedded();
    assert_eq!(
        catalogue.events.len(),
        EVENT_TYPES.len(),
        "one Rust type per event file"
    );
    for name in EVENT_TYPES {
        let file = catalogue
            .get(name)
            .unwrap_or_else(|| panic!("no schemas/*/{name}.avsc"));
        let derived = Event::derived_schema(name).unwrap();
        assert_eq!(
            shape(&derived),
            shape(&file.schema),
            "{name}: the Rust type and {} disagree",
            file.path
        );
    }
}

#[test]
fn a_changed_type_would_be_caught() {
    // The comparison is strict enough to see a dropped default.
    let catalogue = Catalogue::embedded();
    let file = &catalogue.get("WellbeingCallCompleted").unwrap().schema;
    let edited = catalogue
        .get("WellbeingCallCompleted")
        .unwrap()
        .text
        .replace("\"default\":1", "\"default\":2");
    assert_ne!(shape(file), shape(&Schema::parse_str(&edited).unwrap()));
}

#[test]
fn every_event_round_trips_through_avro_binary_with_its_file_schema() {
    let catalogue = Catalogue::embedded();
    let events = samples::one_of_each("A012345678".parse().unwrap());
    let names: std::collections::BTreeSet<&str> = events.iter().map(|e| e.record_name()).collect();
    assert_eq!(names.len(), EVENT_TYPES.len(), "samples cover every type");
    for event in events {
        let schema = &catalogue.get(event.record_name()).unwrap().schema;
        let writer = GenericDatumWriter::builder(schema).build().unwrap();
        let bytes = writer.write_value_to_vec(event.to_avro_value()).unwrap();
        let reader = GenericDatumReader::builder(schema).build().unwrap();
        let value = reader.read_value(&mut bytes.as_slice()).unwrap();
        let back = Event::from_avro_value(event.record_name(), &value).unwrap();
        assert_eq!(back, event);
    }
}
