//! The wire format: Confluent framing (magic byte 0, 4-byte big-endian
//! schema id, Avro binary) through `schema_registry_converter`, subjects by
//! TopicRecordNameStrategy. Stock Confluent clients in Java, Python or Go
//! read what this writes, and the reverse.

use std::sync::Arc;

use schema_registry_converter::async_impl::easy_avro::{EasyAvroDecoder, EasyAvroEncoder};
use schema_registry_converter::async_impl::schema_registry::{post_schema, SrSettings};
use schema_registry_converter::error::SRCError;
use schema_registry_converter::schema_registry_common::{
    SchemaType, SubjectNameStrategy, SuppliedSchema,
};

use crate::catalogue::Catalogue;
use crate::event::{Event, EventError};

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("schema registry at {url}: {message}; check that the registry runs and holds the schemas of schemas/ (handoff schemas check)")]
    Registry { url: String, message: String },
    #[error("event type `{0}` is not in this build's schema catalogue")]
    NotInCatalogue(String),
    #[error("payload is not Confluent-framed Avro: {0}")]
    Framing(String),
    #[error("a {record} written with another schema version cannot be read as this build's {record}: {message}")]
    Resolve { record: String, message: String },
    #[error("payload decoded to a non-record schema; every Handoff event is a named record")]
    NoRecordName,
    #[error(transparent)]
    Event(#[from] EventError),
}

/// Encodes and decodes events against one schema registry. Cheap to clone;
/// schema ids are cached by the converter after first use.
#[derive(Clone)]
pub struct Codec {
    url: String,
    encoder: EasyAvroEncoder,
    decoder: EasyAvroDecoder,
    catalogue: Arc<Catalogue>,
}

impl Codec {
    pub fn new(registry_url: &str, catalogue: Arc<Catalogue>) -> Self {
        let settings = SrSettings::new(registry_url.to_owned());
        Codec {
            url: registry_url.to_owned(),
            encoder: EasyAvroEncoder::new(settings.clone()),
            decoder: EasyAvroDecoder::new(settings),
            catalogue,
        }
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    pub fn registry_url(&self) -> &str {
        &self.url
    }

    fn registry_error(&self, err: SRCError) -> CodecError {
        CodecError::Registry {
            url: self.url.clone(),
            message: err.to_string(),
        }
    }

    /// Confluent-framed bytes of the event for its agency's topic.
    pub async fn encode(&self, event: &Event) -> Result<Vec<u8>, CodecError> {
        let schema = self
            .catalogue
            .get(event.record_name())
            .ok_or_else(|| CodecError::NotInCatalogue(event.record_name().to_owned()))?;
        let strategy = SubjectNameStrategy::TopicRecordNameStrategyWithSchema(
            event.topic().to_owned(),
            SuppliedSchema::new(
                Some(schema.full_name.clone()),
                SchemaType::Avro,
                schema.text.clone(),
            ),
        );
        self.encoder
            .encode_value(event.to_avro_value(), &strategy)
            .await
            .map_err(|e| self.registry_error(e))
    }

    /// Confluent-framed bytes of one of Handoff's own records (the
    /// catalogue's `records`, e.g. a Notification) for its topic.
    pub async fn encode_record(
        &self,
        name: &str,
        value: apache_avro::types::Value,
    ) -> Result<Vec<u8>, CodecError> {
        let schema = self
            .catalogue
            .records
            .get(name)
            .ok_or_else(|| CodecError::NotInCatalogue(name.to_owned()))?;
        let strategy = SubjectNameStrategy::TopicRecordNameStrategyWithSchema(
            schema.topics[0].to_owned(),
            SuppliedSchema::new(
                Some(schema.full_name.clone()),
                SchemaType::Avro,
                schema.text.clone(),
            ),
        );
        self.encoder
            .encode_value(value, &strategy)
            .await
            .map_err(|e| self.registry_error(e))
    }

    /// The event in Confluent-framed bytes, whatever registered schema
    /// version wrote it.
    pub async fn decode(&self, payload: &[u8]) -> Result<Event, CodecError> {
        if payload.len() < 5 || payload[0] != 0 {
            let first = payload
                .first()
                .map(|b| format!("{b:#04x}"))
                .unwrap_or("nothing".into());
            return Err(CodecError::Framing(format!(
                "{} bytes, first byte {first}; expected magic byte 0x00 and a 4-byte schema id",
                payload.len()
            )));
        }
        let decoded = self
            .decoder
            .decode(Some(payload))
            .await
            .map_err(|e| self.registry_error(e))?;
        let name = decoded.name.ok_or(CodecError::NoRecordName)?;
        let record = name.name();
        // Resolve the writer's value to this build's schema, so an event
        // written with an older (or newer, compatible) version of the schema
        // gets defaults for fields it lacks and drops fields we do not know.
        let reader = self
            .catalogue
            .get(record)
            .ok_or_else(|| CodecError::NotInCatalogue(record.to_owned()))?;
        let value = decoded
            .value
            .resolve(&reader.schema)
            .map_err(|e| CodecError::Resolve {
                record: record.to_owned(),
                message: e.to_string(),
            })?;
        Ok(Event::from_avro_value(record, &value)?)
    }

    /// Registers every subject of the catalogue (idempotent: the registry
    /// returns the existing id for a schema it holds). Returns (subject, id).
    pub async fn register_catalogue(&self) -> Result<Vec<(String, u32)>, CodecError> {
        let settings = SrSettings::new(self.url.clone());
        let mut ids = Vec::new();
        for (subject, schema) in self.catalogue.subjects() {
            let supplied = SuppliedSchema::new(
                Some(schema.full_name.clone()),
                SchemaType::Avro,
                schema.text.clone(),
            );
            let registered = post_schema(&settings, subject.clone(), supplied)
                .await
                .map_err(|e| self.registry_error(e))?;
            ids.push((subject, registered.id));
        }
        Ok(ids)
    }
}

/// Avro binary of one event without framing or registry, for stores that
/// keep events themselves (views re-fold a child's timeline from them).
/// Written and read with this build's schema from the catalogue.
pub fn to_datum(catalogue: &Catalogue, event: &Event) -> Result<Vec<u8>, CodecError> {
    let built = datum(catalogue, event.record_name())?;
    built
        .with_dependent(|_, pair| event.write_datum(&pair.writer))
        .map_err(|e| CodecError::Framing(format!("cannot write {}: {e}", event.record_name())))
}

fn datum<'c>(catalogue: &'c Catalogue, name: &str) -> Result<&'c crate::datum::Built, CodecError> {
    catalogue
        .datum(name)
        .ok_or_else(|| CodecError::NotInCatalogue(name.to_owned()))?
        .map_err(|e| CodecError::Framing(format!("no datum writer or reader for {name}: {e}")))
}

/// Reads what `to_datum` wrote.
pub fn from_datum(
    catalogue: &Catalogue,
    record_name: &str,
    bytes: &[u8],
) -> Result<Event, CodecError> {
    let built = datum(catalogue, record_name)?;
    built
        .with_dependent(|_, pair| Event::read_datum(record_name, &pair.reader, bytes))
        .map_err(|e| CodecError::Framing(format!("cannot read a stored {record_name}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_datums_read_back_equal() {
        let catalogue = Catalogue::embedded();
        for event in crate::samples::one_of_each("A000000888".parse().unwrap()) {
            let bytes = to_datum(&catalogue, &event).unwrap();
            assert_eq!(
                from_datum(&catalogue, event.record_name(), &bytes).unwrap(),
                event
            );
            // The same bytes as the generic `Value` path writes: stores
            // written before the datum writers read back unchanged.
            let schema = &catalogue.get(event.record_name()).unwrap().schema;
            let generic = apache_avro::writer::datum::GenericDatumWriter::builder(schema)
                .build()
                .unwrap()
                .write_value_to_vec(event.to_avro_value())
                .unwrap();
            assert_eq!(bytes, generic, "{}", event.record_name());
        }
    }
}
