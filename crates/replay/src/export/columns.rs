//! One flat table per event type: the columns come from the event's Avro
//! schema, so a new field in a schema is a new column without code. The
//! envelope's fields (`meta`) and the case ids keep their own names
//! (`event_id`, `occurred_at`, `eoir_idncase`); any other nested record is
//! flattened with its field's name as a prefix (`address_city`,
//! `served_to_postal_code`). Timestamps stay timestamps and dates dates.

use std::collections::HashMap;

use apache_avro::schema::Name;
use apache_avro::Schema;
use handoff_events::Event;
use serde_json::Value as Json;

/// Records whose fields become columns without a prefix.
const UNPREFIXED: [&str; 2] = ["meta", "case_ids"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Bool,
    Int,
    Long,
    Double,
    /// Milliseconds since the epoch, UTC.
    Timestamp,
    /// Days since the epoch.
    Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// Where the value sits in the event's JSON.
    pub path: Vec<String>,
    pub kind: ColumnType,
    pub nullable: bool,
}

/// One cell of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Bool(bool),
    Int(i64),
    Double(f64),
    Timestamp(i64),
    Date(i32),
}

/// The columns of an event type's table.
pub fn columns_of(event_type: &str) -> Option<Vec<Column>> {
    let schema = Event::derived_schema(event_type)?;
    let mut walk = Walk::default();
    walk.record(&schema, &[], "", false);
    Some(walk.columns)
}

#[derive(Default)]
struct Walk {
    named: HashMap<Name, Schema>,
    columns: Vec<Column>,
}

impl Walk {
    fn record(&mut self, schema: &Schema, path: &[String], prefix: &str, nullable: bool) {
        let schema = self.resolve(schema);
        let Schema::Record(record) = &schema else {
            return;
        };
        for field in &record.fields {
            let mut here = path.to_vec();
            here.push(field.name.clone());
            let name = format!("{prefix}{}", field.name);
            self.field(&field.schema, here, name, nullable);
        }
    }

    fn field(&mut self, schema: &Schema, path: Vec<String>, name: String, nullable: bool) {
        let schema = self.resolve(schema);
        let kind = match &schema {
            Schema::Union(union) => {
                let inner = union.variants().iter().find(|v| **v != Schema::Null);
                if let Some(inner) = inner {
                    self.field(&inner.clone(), path, name, true);
                }
                return;
            }
            Schema::Record(_) => {
                let last = path.last().map(String::as_str).unwrap_or_default();
                let prefix = if UNPREFIXED.contains(&last) {
                    String::new()
                } else {
                    format!("{name}_")
                };
                self.record(&schema, &path, &prefix, nullable);
                return;
            }
            Schema::Boolean => ColumnType::Bool,
            Schema::Int => ColumnType::Int,
            Schema::Long => ColumnType::Long,
            Schema::Float | Schema::Double => ColumnType::Double,
            Schema::TimestampMillis | Schema::TimestampMicros | Schema::LocalTimestampMillis => {
                ColumnType::Timestamp
            }
            Schema::Date => ColumnType::Date,
            _ => ColumnType::Text,
        };
        self.columns.push(Column {
            name,
            path,
            kind,
            nullable,
        });
    }

    /// Follows a reference to a record defined earlier in the schema.
    fn resolve(&mut self, schema: &Schema) -> Schema {
        match schema {
            Schema::Ref { name } => self.named.get(name).cloned().unwrap_or(Schema::Null),
            Schema::Record(r) => {
                self.named.insert(r.name.clone(), schema.clone());
                schema.clone()
            }
            other => other.clone(),
        }
    }
}

/// The event's row, one cell per column.
pub fn row_of(columns: &[Column], event: &Event) -> Vec<Cell> {
    let json = event.to_json();
    columns
        .iter()
        .map(|c| {
            let mut value = &json;
            for step in &c.path {
                value = value.get(step).unwrap_or(&Json::Null);
            }
            cell(c.kind, value)
        })
        .collect()
}

fn cell(kind: ColumnType, value: &Json) -> Cell {
    if value.is_null() {
        return Cell::Null;
    }
    match kind {
        ColumnType::Bool => value.as_bool().map_or(Cell::Null, Cell::Bool),
        ColumnType::Int | ColumnType::Long => value.as_i64().map_or(Cell::Null, Cell::Int),
        ColumnType::Double => value.as_f64().map_or(Cell::Null, Cell::Double),
        ColumnType::Timestamp => value.as_i64().map_or(Cell::Null, Cell::Timestamp),
        ColumnType::Date => value.as_i64().map_or(Cell::Null, |d| Cell::Date(d as i32)),
        ColumnType::Text => match value {
            Json::String(s) => Cell::Text(s.clone()),
            other => Cell::Text(other.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use handoff_events::samples;

    #[test]
    fn the_envelope_keeps_its_names_and_nested_records_get_a_prefix() {
        let columns = columns_of("ReleasedToSponsor").unwrap();
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        for expected in [
            "event_id",
            "occurred_at",
            "a_number",
            "eoir_idncase",
            "address_city",
            "address_blank",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        let unique: std::collections::HashSet<&&str> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "column names repeat: {names:?}");
        let occurred = columns.iter().find(|c| c.name == "occurred_at").unwrap();
        assert_eq!(occurred.kind, ColumnType::Timestamp);
        let city = columns.iter().find(|c| c.name == "address_city").unwrap();
        assert!(city.nullable);
    }

    #[test]
    fn every_event_type_has_a_table_whose_row_fits_it() {
        let a = handoff_events::ANumber::parse("A123456789").unwrap();
        for event in samples::one_of_each(a) {
            let columns = columns_of(event.record_name()).unwrap();
            let row = row_of(&columns, &event);
            assert_eq!(row.len(), columns.len());
            let id = columns.iter().position(|c| c.name == "event_id").unwrap();
            assert_eq!(row[id], Cell::Text(event.meta().event_id.clone()));
            let at = columns
                .iter()
                .position(|c| c.name == "recorded_at")
                .unwrap();
            assert_eq!(row[at], Cell::Timestamp(event.meta().recorded_at.0));
            for (c, v) in columns.iter().zip(&row) {
                assert!(
                    c.nullable || *v != Cell::Null,
                    "{}.{} is null",
                    event.record_name(),
                    c.name
                );
            }
        }
    }
}
