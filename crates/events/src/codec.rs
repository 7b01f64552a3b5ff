//! The wire format: Confluent framing (magic byte 0, 4-byte big-endian
//! schema id, Avro binary) through `schema_registry_converter`, subjects by
//! TopicRecordNameStrategy. Stock Confluent clients in Java, Python or Go
//! read what this writes, and the reverse.
//!
//! The converter is asked only for schema ids and for the writer schema
//! behind an id, once each. The Avro body itself goes through this build's
//! datum writers and readers (built once per event type, serde straight to
//! and from the Rust types) whenever the writer schema has the same
//! layout as ours, which is every record Handoff itself wrote: the
//! converter's `Value` path, with a resolution to our schema on every
//! record, cost several times more than the rest of a replay's decoding.
//! A record written with another (compatible) schema version still takes
//! that path, so schema evolution keeps working.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use schema_registry_converter::async_impl::avro::{AvroDecoder, AvroEncoder};
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
    Registry {
        url: String,
        message: String,
        /// The registry could not be reached or answered 502/503: the same
        /// call may succeed later (the converter never caches these).
        retriable: bool,
    },
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

impl CodecError {
    /// True when the record itself is fine and only the registry was
    /// unreachable: a consumer should wait and try again, not set the
    /// record aside as undecodable.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CodecError::Registry {
                retriable: true,
                ..
            }
        )
    }
}

/// Encodes and decodes events against one schema registry. Cheap to clone;
/// schema ids and what each writer schema is are cached after first use.
#[derive(Clone)]
pub struct Codec {
    url: String,
    encoder: Arc<AvroEncoder>,
    decoder: Arc<AvroDecoder>,
    catalogue: Arc<Catalogue>,
    /// The registry's id of each (topic, record name) subject.
    ids: Arc<RwLock<HashMap<(&'static str, &'static str), u32>>>,
    /// What each writer schema id is, as seen from this build.
    writers: Arc<RwLock<HashMap<u32, Writer>>>,
}

/// A writer schema, as far as decoding is concerned.
#[derive(Debug, Clone)]
enum Writer {
    /// Laid out exactly as this build's schema of that event type (same
    /// parsing canonical form): the datum reader reads it directly.
    Ours(String),
    /// Another version, or not one of ours: read through the converter
    /// and resolved to this build's schema.
    Other,
}

impl Codec {
    pub fn new(registry_url: &str, catalogue: Arc<Catalogue>) -> Self {
        let settings = SrSettings::new(registry_url.to_owned());
        Codec {
            url: registry_url.to_owned(),
            encoder: Arc::new(AvroEncoder::new(settings.clone())),
            decoder: Arc::new(AvroDecoder::new(settings)),
            catalogue,
            ids: Arc::default(),
            writers: Arc::default(),
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
            retriable: err.retriable,
        }
    }

    /// Confluent-framed bytes of the event for its agency's topic.
    pub async fn encode(&self, event: &Event) -> Result<Vec<u8>, CodecError> {
        let id = self.subject_id(event.topic(), event.record_name()).await?;
        let body = to_datum(&self.catalogue, event)?;
        let mut framed = Vec::with_capacity(5 + body.len());
        framed.push(0);
        framed.extend_from_slice(&id.to_be_bytes());
        framed.extend_from_slice(&body);
        Ok(framed)
    }

    /// The registry's id of this build's schema under the subject
    /// `<topic>-<record full name>`, registering it on first use.
    async fn subject_id(
        &self,
        topic: &'static str,
        record: &'static str,
    ) -> Result<u32, CodecError> {
        if let Some(id) = self
            .ids
            .read()
            .expect("no panic holds the lock")
            .get(&(topic, record))
        {
            return Ok(*id);
        }
        let schema = self
            .catalogue
            .get(record)
            .ok_or_else(|| CodecError::NotInCatalogue(record.to_owned()))?;
        let strategy = SubjectNameStrategy::TopicRecordNameStrategyWithSchema(
            topic.to_owned(),
            SuppliedSchema::new(
                Some(schema.full_name.clone()),
                SchemaType::Avro,
                schema.text.clone(),
            ),
        );
        let subject = strategy.get_subject().map_err(|e| self.registry_error(e))?;
        let registered = self
            .encoder
            .get_schema_and_id(&subject, strategy)
            .await
            .map_err(|e| self.registry_error(e))?;
        self.ids
            .write()
            .expect("no panic holds the lock")
            .insert((topic, record), registered.id);
        Ok(registered.id)
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
        let id = u32::from_be_bytes([payload[1], payload[2], payload[3], payload[4]]);
        match self.writer(id).await? {
            Writer::Ours(record) => {
                let built = datum(&self.catalogue, &record)?;
                built
                    .with_dependent(|_, pair| {
                        Event::read_datum(&record, &pair.reader, &payload[5..])
                    })
                    .map_err(|e| {
                        CodecError::Framing(format!(
                            "a {record} body does not match schema id {id}: {e}"
                        ))
                    })
            }
            Writer::Other => self.decode_resolved(payload).await,
        }
    }

    /// What the writer schema `id` is, asking the registry the first time.
    async fn writer(&self, id: u32) -> Result<Writer, CodecError> {
        if let Some(known) = self
            .writers
            .read()
            .expect("no panic holds the lock")
            .get(&id)
        {
            return Ok(known.clone());
        }
        let registered = self
            .decoder
            .get_schema(id)
            .await
            .map_err(|e| self.registry_error(e))?;
        let writer = match &registered.parsed {
            apache_avro::Schema::Record(record) => match self.catalogue.get(record.name.name()) {
                Some(ours)
                    if ours.schema.canonical_form() == registered.parsed.canonical_form() =>
                {
                    Writer::Ours(record.name.name().to_owned())
                }
                _ => Writer::Other,
            },
            _ => Writer::Other,
        };
        self.writers
            .write()
            .expect("no panic holds the lock")
            .insert(id, writer.clone());
        Ok(writer)
    }

    /// The converter's generic path: the writer's value resolved to this
    /// build's schema, so an event written with an older (or newer,
    /// compatible) version gets defaults for fields it lacks and drops
    /// fields we do not know.
    async fn decode_resolved(&self, payload: &[u8]) -> Result<Event, CodecError> {
        let decoded = self
            .decoder
            .decode(Some(payload))
            .await
            .map_err(|e| self.registry_error(e))?;
        let name = decoded.name.ok_or(CodecError::NoRecordName)?;
        let record = name.name();
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
