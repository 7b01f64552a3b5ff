//! Schema compatibility at Confluent's levels.
//!
//! The pairwise check is apache-avro's `SchemaCompatibility::can_read`,
//! with two corrections so that it answers as Confluent (Java Avro) does:
//! - a *partial* answer (a writer enum symbol or union branch the reader
//!   lacks) is incompatible: some data the writer may produce cannot be
//!   read, which is what the level forbids;
//! - named-type references are inlined first, so that a record defined at a
//!   different position in the new version still compares by content.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use apache_avro::schema::{Name, RecordField, RecordSchema, ResolvedSchema, UnionSchema};
use apache_avro::schema_compatibility::{Compatibility, SchemaCompatibility};
use apache_avro::Schema;
use serde::{Deserialize, Serialize};

/// Confluent's compatibility levels. The registry's default is
/// BACKWARD_TRANSITIVE: every new version can read everything ever written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    None,
    Backward,
    #[default]
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

impl Level {
    pub const ALL: [Level; 7] = [
        Level::None,
        Level::Backward,
        Level::BackwardTransitive,
        Level::Forward,
        Level::ForwardTransitive,
        Level::Full,
        Level::FullTransitive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "NONE",
            Level::Backward => "BACKWARD",
            Level::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Level::Forward => "FORWARD",
            Level::ForwardTransitive => "FORWARD_TRANSITIVE",
            Level::Full => "FULL",
            Level::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    fn transitive(self) -> bool {
        matches!(
            self,
            Level::BackwardTransitive | Level::ForwardTransitive | Level::FullTransitive
        )
    }

    fn backward(self) -> bool {
        matches!(
            self,
            Level::Backward | Level::BackwardTransitive | Level::Full | Level::FullTransitive
        )
    }

    fn forward(self) -> bool {
        matches!(
            self,
            Level::Forward | Level::ForwardTransitive | Level::Full | Level::FullTransitive
        )
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive (got `{s}`)"
                )
            })
    }
}

/// Checks `new` against the existing versions of a subject (oldest first).
/// Returns one message per violation; empty means compatible.
pub fn check(level: Level, new: &Schema, existing: &[Schema]) -> Vec<String> {
    let against: &[Schema] = if level.transitive() {
        existing
    } else {
        existing.last().map(std::slice::from_ref).unwrap_or(&[])
    };
    let new = inline_refs(new);
    let mut messages = Vec::new();
    let offset = existing.len() - against.len();
    for (i, old) in against.iter().enumerate() {
        let version = offset + i + 1;
        let old = inline_refs(old);
        if level.backward() {
            if let Err(why) = can_read(&old, &new) {
                messages.push(format!(
                    "the new schema cannot read data written with version {version}: {why}"
                ));
            }
        }
        if level.forward() {
            if let Err(why) = can_read(&new, &old) {
                messages.push(format!(
                    "version {version} cannot read data written with the new schema: {why}"
                ));
            }
        }
    }
    messages
}

/// Strict reader/writer check: partial compatibility is a failure.
pub fn can_read(writer: &Schema, reader: &Schema) -> Result<(), String> {
    match SchemaCompatibility::can_read(writer, reader) {
        Ok(Compatibility::Full) => Ok(()),
        Ok(Compatibility::Partial) => Err(
            "some values the writer can produce (an enum symbol or union branch) are missing from the reader; add them, or give the reader's enum a default".to_owned(),
        ),
        Err(e) => Err(e.to_string()),
    }
}

/// Replaces each reference to a named type by its definition, so position
/// of first definition does not matter. Recursive types keep their
/// self-reference (the checker guards recursion itself).
pub fn inline_refs(schema: &Schema) -> Schema {
    let names: HashMap<Name, Schema> = match ResolvedSchema::try_from(schema) {
        Ok(resolved) => resolved
            .get_names()
            .iter()
            .map(|(n, s)| (n.clone(), (*s).clone()))
            .collect(),
        Err(_) => return schema.clone(),
    };
    let mut stack = Vec::new();
    inline(schema, &names, &mut stack)
}

fn inline(schema: &Schema, names: &HashMap<Name, Schema>, stack: &mut Vec<Name>) -> Schema {
    match schema {
        Schema::Ref { name } => match names.get(name) {
            Some(def) if !stack.contains(name) => inline(def, names, stack),
            _ => schema.clone(),
        },
        Schema::Record(record) => {
            stack.push(record.name.clone());
            let fields = record
                .fields
                .iter()
                .map(|f| RecordField {
                    schema: inline(&f.schema, names, stack),
                    ..f.clone()
                })
                .collect::<Vec<_>>();
            stack.pop();
            Schema::Record(RecordSchema {
                fields,
                ..record.clone()
            })
        }
        Schema::Array(array) => {
            let mut array = array.clone();
            array.items = Box::new(inline(&array.items, names, stack));
            Schema::Array(array)
        }
        Schema::Map(map) => {
            let mut map = map.clone();
            map.types = Box::new(inline(&map.types, names, stack));
            Schema::Map(map)
        }
        Schema::Union(union) => {
            let branches = union
                .variants()
                .iter()
                .map(|s| inline(s, names, stack))
                .collect();
            UnionSchema::new(branches)
                .map(Schema::Union)
                .unwrap_or_else(|_| schema.clone())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(fields: &str) -> Schema {
        Schema::parse_str(&format!(
            r#"{{"type":"record","name":"R","namespace":"t","fields":[{fields}]}}"#
        ))
        .unwrap()
    }

    fn ok(level: Level, new: &Schema, old: &[&Schema]) -> bool {
        let old: Vec<Schema> = old.iter().map(|s| (*s).clone()).collect();
        check(level, new, &old).is_empty()
    }

    #[test]
    fn adding_a_field_needs_a_default_to_stay_backward() {
        let v1 = rec(r#"{"name":"a","type":"string"}"#);
        let with_default = rec(
            r#"{"name":"a","type":"string"},{"name":"b","type":["null","string"],"default":null}"#,
        );
        let without = rec(r#"{"name":"a","type":"string"},{"name":"b","type":"string"}"#);
        assert!(ok(Level::Backward, &with_default, &[&v1]));
        assert!(!ok(Level::Backward, &without, &[&v1]));
        // Forward: old readers ignore the new field, so both pass.
        assert!(ok(Level::Forward, &without, &[&v1]));
        assert!(ok(Level::None, &without, &[&v1]));
    }

    #[test]
    fn removing_a_field_without_default_breaks_forward_not_backward() {
        let v1 = rec(r#"{"name":"a","type":"string"},{"name":"b","type":"string"}"#);
        let v2 = rec(r#"{"name":"a","type":"string"}"#);
        assert!(ok(Level::Backward, &v2, &[&v1]));
        assert!(!ok(Level::Forward, &v2, &[&v1]));
        assert!(!ok(Level::Full, &v2, &[&v1]));
    }

    #[test]
    fn transitive_levels_check_every_version_plain_ones_only_the_latest() {
        let v1 = rec(r#"{"name":"a","type":"string"}"#);
        // v2 drops a; v3 adds a back as required int: readable from v2, not v1.
        let v2 = rec(r#"{"name":"z","type":"int","default":0}"#);
        let v3 =
            rec(r#"{"name":"z","type":"int","default":0},{"name":"a","type":"int","default":1}"#);
        assert!(ok(Level::Backward, &v3, &[&v1, &v2]));
        let msgs = check(Level::BackwardTransitive, &v3, &[v1, v2]);
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert!(msgs[0].contains("version 1"), "{msgs:?}");
    }

    #[test]
    fn promotions_follow_the_avro_spec_and_logical_types_their_base_type() {
        let int = rec(r#"{"name":"n","type":"int"}"#);
        let long = rec(r#"{"name":"n","type":"long"}"#);
        let ts = rec(r#"{"name":"n","type":{"type":"long","logicalType":"timestamp-millis"}}"#);
        let date = rec(r#"{"name":"n","type":{"type":"int","logicalType":"date"}}"#);
        assert!(ok(Level::Backward, &long, &[&int]), "int promotes to long");
        assert!(
            !ok(Level::Backward, &int, &[&long]),
            "long does not narrow to int"
        );
        assert!(ok(Level::Full, &ts, &[&long]), "timestamp-millis is a long");
        assert!(
            !ok(Level::Backward, &date, &[&ts]),
            "a long cannot be read as a date (int)"
        );
        assert!(ok(Level::Full, &date, &[&int]));
    }

    #[test]
    fn enums_and_unions_partial_answers_are_incompatible() {
        let e = |syms: &str, default: &str| {
            rec(&format!(
                r#"{{"name":"e","type":{{"type":"enum","name":"E","symbols":[{syms}]{default}}}}}"#
            ))
        };
        let ab = e(r#""A","B""#, "");
        let abc = e(r#""A","B","C""#, "");
        assert!(
            ok(Level::Backward, &abc, &[&ab]),
            "new reader knows every old symbol"
        );
        assert!(
            !ok(Level::Forward, &abc, &[&ab]),
            "old reader cannot read C"
        );
        let ab_default = e(r#""A","B""#, r#","default":"A""#);
        assert!(
            ok(Level::Forward, &abc, &[&ab_default]),
            "a reader default absorbs C"
        );

        let s = rec(r#"{"name":"u","type":["null","string"],"default":null}"#);
        let si = rec(r#"{"name":"u","type":["null","string","int"],"default":null}"#);
        assert!(ok(Level::Backward, &si, &[&s]));
        assert!(!ok(Level::Backward, &s, &[&si]), "int branch unreadable");
    }

    #[test]
    fn nested_records_compare_by_content_wherever_first_defined() {
        let a = Schema::parse_str(r#"{"type":"record","name":"R","namespace":"t","fields":[
            {"name":"x","type":{"type":"record","name":"Addr","fields":[{"name":"c","type":"string"}]}},
            {"name":"y","type":["null","Addr"],"default":null}]}"#).unwrap();
        let b = Schema::parse_str(r#"{"type":"record","name":"R","namespace":"t","fields":[
            {"name":"y","type":["null",{"type":"record","name":"Addr","fields":[{"name":"c","type":"string"}]}],"default":null},
            {"name":"x","type":"Addr"}]}"#).unwrap();
        assert!(ok(Level::Full, &b, &[&a]));
        let c = Schema::parse_str(r#"{"type":"record","name":"R","namespace":"t","fields":[
            {"name":"x","type":{"type":"record","name":"Addr","fields":[{"name":"c","type":"int"}]}},
            {"name":"y","type":["null","Addr"],"default":null}]}"#).unwrap();
        assert!(!ok(Level::Backward, &c, &[&a]), "nested field type changed");
    }

    #[test]
    fn a_renamed_record_is_incompatible() {
        let a = rec(r#"{"name":"a","type":"string"}"#);
        let b = Schema::parse_str(r#"{"type":"record","name":"S","namespace":"t","fields":[{"name":"a","type":"string"}]}"#).unwrap();
        assert!(!ok(Level::Backward, &b, &[&a]));
    }

    #[test]
    fn levels_parse_case_insensitively_and_reject_others() {
        assert_eq!(
            "full_transitive".parse::<Level>(),
            Ok(Level::FullTransitive)
        );
        assert!("sideways"
            .parse::<Level>()
            .unwrap_err()
            .contains("sideways"));
        assert_eq!(Level::default(), Level::BackwardTransitive);
    }
}
