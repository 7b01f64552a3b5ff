//! Avro binary datums through a writer and a reader built once per event
//! type. Building them resolves every named type of the schema, which cost
//! more than the encoding itself when it was done on every call; and
//! serde straight to and from the Rust types skips the intermediate
//! `Value` tree.

use std::collections::HashMap;
use std::fmt;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;

/// A writer and a reader for one schema.
pub struct Pair<'s> {
    pub writer: GenericDatumWriter<'s>,
    pub reader: GenericDatumReader<'s>,
}

self_cell::self_cell!(
    /// A schema with the writer and reader built on it.
    pub struct Built {
        owner: Schema,
        #[not_covariant]
        dependent: Pair,
    }
);

/// Writers and readers by record name (or why one could not be built).
#[derive(Default)]
pub struct Datums {
    by_name: HashMap<String, Result<Built, String>>,
}

impl fmt::Debug for Datums {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Datums")
            .field("types", &self.by_name.len())
            .finish()
    }
}

impl Datums {
    pub fn build<'a>(schemas: impl Iterator<Item = (&'a str, &'a Schema)>) -> Datums {
        let by_name = schemas
            .map(|(name, schema)| {
                let built = Built::try_new(schema.clone(), |schema| {
                    Ok::<_, apache_avro::Error>(Pair {
                        writer: GenericDatumWriter::builder(schema)
                            .human_readable(false)
                            .build()?,
                        reader: GenericDatumReader::builder(schema)
                            .human_readable(false)
                            .build()?,
                    })
                });
                (name.to_owned(), built.map_err(|e| e.to_string()))
            })
            .collect();
        Datums { by_name }
    }

    /// `None` for a name not in the catalogue; `Err` says why its
    /// writer and reader could not be built.
    pub fn get(&self, name: &str) -> Option<Result<&Built, &str>> {
        self.by_name
            .get(name)
            .map(|b| b.as_ref().map_err(String::as_str))
    }
}
