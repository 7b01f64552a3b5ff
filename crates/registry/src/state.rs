//! The registry's in-memory model, rebuilt from the `_schemas` log.
//!
//! Applying is deterministic and idempotent, so every instance that reads
//! the same log holds the same state, and a record delivered twice changes
//! nothing. When two instances race for one id or one version, the record
//! earlier in the log wins and the later one is ignored; its writer sees
//! that after reading back and retries.

use std::collections::{BTreeMap, HashMap};

use crate::compatibility::Level;
use crate::records::{Record, SchemaValue};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub id: u32,
    pub deleted: bool,
}

#[derive(Debug, Clone)]
pub struct StoredSchema {
    /// The text as first registered: what GET /schemas/ids/{id} returns.
    pub text: String,
    pub normalized: String,
}

#[derive(Debug, Default)]
pub struct State {
    pub subjects: BTreeMap<String, BTreeMap<u32, Version>>,
    pub schemas: BTreeMap<u32, StoredSchema>,
    by_normalized: HashMap<String, u32>,
    pub global_level: Option<Level>,
    pub subject_levels: HashMap<String, Level>,
    /// The offset of the last record applied; records at or below it were
    /// seen before and are skipped.
    pub applied_offset: Option<i64>,
}

/// Whitespace and key order do not make a new schema: the JSON is
/// re-serialised with sorted keys and no spaces.
pub fn normalize(text: &str) -> Result<String, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    serde_json::to_string(&value)
}

impl State {
    /// Applies the record at `offset`; false if it was skipped (already
    /// applied, or lost a race).
    pub fn apply(&mut self, offset: i64, record: &Record) -> bool {
        if self.applied_offset.is_some_and(|done| offset <= done) {
            return false;
        }
        self.applied_offset = Some(offset);
        match record {
            Record::Schema(v) => self.apply_schema(v),
            Record::SchemaTombstone { subject, version } => {
                let removed = self
                    .subjects
                    .get_mut(subject)
                    .and_then(|versions| versions.remove(version))
                    .is_some();
                if self.subjects.get(subject).is_some_and(|v| v.is_empty()) {
                    self.subjects.remove(subject);
                }
                removed
            }
            Record::Config {
                subject: None,
                level,
            } => {
                self.global_level = Some(*level);
                true
            }
            Record::Config {
                subject: Some(s),
                level,
            } => {
                self.subject_levels.insert(s.clone(), *level);
                true
            }
            Record::ConfigTombstone { subject: None } => {
                self.global_level = None;
                true
            }
            Record::ConfigTombstone { subject: Some(s) } => self.subject_levels.remove(s).is_some(),
        }
    }

    fn apply_schema(&mut self, v: &SchemaValue) -> bool {
        let Ok(normalized) = normalize(&v.schema) else {
            return false;
        };
        if let Some(existing) = self.schemas.get(&v.id) {
            if existing.normalized != normalized {
                return false; // another schema already holds this id
            }
        } else if self.by_normalized.contains_key(&normalized) {
            return false; // this schema already has another id
        }
        let versions = self.subjects.entry(v.subject.clone()).or_default();
        if let Some(existing) = versions.get(&v.version) {
            if existing.id != v.id {
                return false; // another schema already holds this version
            }
        }
        versions.insert(
            v.version,
            Version {
                id: v.id,
                deleted: v.deleted,
            },
        );
        self.by_normalized.insert(normalized.clone(), v.id);
        self.schemas.entry(v.id).or_insert(StoredSchema {
            text: v.schema.clone(),
            normalized,
        });
        true
    }

    pub fn id_of(&self, normalized: &str) -> Option<u32> {
        self.by_normalized.get(normalized).copied()
    }

    pub fn next_id(&self) -> u32 {
        self.schemas.keys().next_back().map_or(1, |max| max + 1)
    }

    /// Live (not soft-deleted) versions of a subject, oldest first.
    pub fn live_versions(&self, subject: &str) -> Vec<(u32, u32)> {
        self.subjects
            .get(subject)
            .map(|vs| {
                vs.iter()
                    .filter(|(_, v)| !v.deleted)
                    .map(|(n, v)| (*n, v.id))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn level_for(&self, subject: &str) -> Level {
        self.subject_levels
            .get(subject)
            .copied()
            .unwrap_or_else(|| self.global_level.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(subject: &str, version: u32, id: u32, text: &str) -> Record {
        Record::Schema(SchemaValue {
            subject: subject.into(),
            version,
            id,
            schema: text.into(),
            deleted: false,
        })
    }

    #[test]
    fn redelivered_records_change_nothing() {
        let mut s = State::default();
        assert!(s.apply(0, &schema("a", 1, 1, r#""string""#)));
        let soft = Record::Schema(SchemaValue {
            subject: "a".into(),
            version: 1,
            id: 1,
            schema: r#""string""#.into(),
            deleted: true,
        });
        assert!(s.apply(1, &soft));
        // Offset 0 again (a compacted topic may redeliver it): skipped, so
        // the soft delete stands.
        assert!(!s.apply(0, &schema("a", 1, 1, r#""string""#)));
        assert!(s.live_versions("a").is_empty());
    }

    #[test]
    fn the_earlier_record_wins_a_race_for_an_id_or_a_version() {
        let mut s = State::default();
        assert!(s.apply(0, &schema("a", 1, 1, r#""string""#)));
        assert!(!s.apply(1, &schema("b", 1, 1, r#""int""#)), "id 1 is taken");
        assert!(
            !s.apply(2, &schema("a", 1, 2, r#""long""#)),
            "a v1 is taken"
        );
        assert!(
            s.apply(3, &schema("b", 1, 1, r#" "string" "#)),
            "same schema, same id"
        );
        assert_eq!(s.next_id(), 2);
        assert_eq!(s.id_of(&normalize(r#""string""#).unwrap()), Some(1));
    }
}
