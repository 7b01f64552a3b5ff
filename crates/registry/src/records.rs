//! The records of the `_schemas` topic, keyed as Confluent Schema Registry
//! keys them, so the topic reads familiarly to anyone who knows Confluent.
//!
//! - SCHEMA `{"keytype":"SCHEMA","subject":s,"version":v,"magic":1}` ->
//!   `{"subject","version","id","schema","deleted"}`; a null value deletes
//!   the version permanently.
//! - CONFIG `{"keytype":"CONFIG","subject":s|null,"magic":0}` ->
//!   `{"compatibilityLevel":...}`; a null value removes a subject's level.

use serde::{Deserialize, Serialize};

use crate::compatibility::Level;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "keytype", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Key {
    Schema {
        subject: String,
        version: u32,
        magic: u8,
    },
    Config {
        subject: Option<String>,
        magic: u8,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaValue {
    pub subject: String,
    pub version: u32,
    pub id: u32,
    pub schema: String,
    #[serde(default)]
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigValue {
    #[serde(rename = "compatibilityLevel")]
    pub compatibility_level: Level,
}

/// One decoded record of the log: a key and its value, or a tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Schema(SchemaValue),
    SchemaTombstone {
        subject: String,
        version: u32,
    },
    Config {
        subject: Option<String>,
        level: Level,
    },
    ConfigTombstone {
        subject: Option<String>,
    },
}

impl Record {
    pub fn key(&self) -> Key {
        match self {
            Record::Schema(v) => Key::Schema {
                subject: v.subject.clone(),
                version: v.version,
                magic: 1,
            },
            Record::SchemaTombstone { subject, version } => Key::Schema {
                subject: subject.clone(),
                version: *version,
                magic: 1,
            },
            Record::Config { subject, .. } | Record::ConfigTombstone { subject } => Key::Config {
                subject: subject.clone(),
                magic: 0,
            },
        }
    }

    pub fn encode(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        let key = serde_json::to_vec(&self.key()).expect("keys serialise");
        let value = match self {
            Record::Schema(v) => Some(serde_json::to_vec(v).expect("values serialise")),
            Record::Config { level, .. } => Some(
                serde_json::to_vec(&ConfigValue {
                    compatibility_level: *level,
                })
                .expect("values serialise"),
            ),
            Record::SchemaTombstone { .. } | Record::ConfigTombstone { .. } => None,
        };
        (key, value)
    }

    /// Decodes a record; `None` for key types this registry does not use
    /// (Confluent writes NOOP and others), which are skipped.
    pub fn decode(key: &[u8], value: Option<&[u8]>) -> Result<Option<Record>, serde_json::Error> {
        let raw: serde_json::Value = serde_json::from_slice(key)?;
        let keytype = raw
            .get("keytype")
            .and_then(|k| k.as_str())
            .unwrap_or_default();
        if keytype != "SCHEMA" && keytype != "CONFIG" {
            return Ok(None);
        }
        let key: Key = serde_json::from_value(raw)?;
        Ok(Some(match (key, value) {
            (Key::Schema { .. }, Some(v)) => Record::Schema(serde_json::from_slice(v)?),
            (
                Key::Schema {
                    subject, version, ..
                },
                None,
            ) => Record::SchemaTombstone { subject, version },
            (Key::Config { subject, .. }, Some(v)) => {
                let config: ConfigValue = serde_json::from_slice(v)?;
                Record::Config {
                    subject,
                    level: config.compatibility_level,
                }
            }
            (Key::Config { subject, .. }, None) => Record::ConfigTombstone { subject },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_in_confluents_key_format() {
        let rec = Record::Schema(SchemaValue {
            subject: "s".into(),
            version: 2,
            id: 7,
            schema: "\"string\"".into(),
            deleted: false,
        });
        let (key, value) = rec.encode();
        assert_eq!(
            String::from_utf8(key.clone()).unwrap(),
            r#"{"keytype":"SCHEMA","subject":"s","version":2,"magic":1}"#
        );
        assert_eq!(Record::decode(&key, value.as_deref()).unwrap(), Some(rec));
        let cfg = Record::Config {
            subject: None,
            level: Level::Full,
        };
        let (key, value) = cfg.encode();
        assert_eq!(
            String::from_utf8(value.clone().unwrap()).unwrap(),
            r#"{"compatibilityLevel":"FULL"}"#
        );
        assert_eq!(Record::decode(&key, value.as_deref()).unwrap(), Some(cfg));
        assert_eq!(
            Record::decode(br#"{"keytype":"NOOP","magic":0}"#, None).unwrap(),
            None
        );
    }
}
