//! The schema catalogue: the `.avsc` files of `schemas/`, composed into the
//! self-contained schema texts the registry stores.
//!
//! Shared records (`EventMeta`, `Address`, `AgencyCaseIds`) live once in
//! `schemas/common/` and event files refer to them by full name. A registry
//! subject needs one self-contained text, so composition inlines each
//! shared record at its first use, keeping docs and defaults (the parsing
//! canonical form would drop defaults, and defaults decide compatibility).
//!
//! The folder of an event file says which topics carry it: `ice/`, `hhs/`,
//! `doj/`, and `shared/` for all three agency topics.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use apache_avro::Schema;
use serde_json::Value;

use crate::topics;

/// The namespace of every Handoff record.
pub const NAMESPACE: &str = "gov.handoff.v1";

/// A schema file as found in `schemas/` (relative path and text).
#[derive(Debug, Clone)]
pub struct SchemaFile {
    pub path: String,
    pub text: String,
}

/// The files compiled into the binary, so `handoff up` registers the
/// catalogue it was built with wherever it runs. `tests` checks this list
/// against the folder, so a new file cannot be forgotten here.
const EMBEDDED: &[(&str, &str)] = &[
    (
        "common/AgencyCaseIds.avsc",
        include_str!("../../../schemas/common/AgencyCaseIds.avsc"),
    ),
    (
        "common/Address.avsc",
        include_str!("../../../schemas/common/Address.avsc"),
    ),
    (
        "common/EventMeta.avsc",
        include_str!("../../../schemas/common/EventMeta.avsc"),
    ),
    (
        "notify/Notification.avsc",
        include_str!("../../../schemas/notify/Notification.avsc"),
    ),
    (
        "shared/AddressChanged.avsc",
        include_str!("../../../schemas/shared/AddressChanged.avsc"),
    ),
    (
        "ice/ChildEncountered.avsc",
        include_str!("../../../schemas/ice/ChildEncountered.avsc"),
    ),
    (
        "ice/TransferredToOrr.avsc",
        include_str!("../../../schemas/ice/TransferredToOrr.avsc"),
    ),
    (
        "ice/NoticeToAppearIssued.avsc",
        include_str!("../../../schemas/ice/NoticeToAppearIssued.avsc"),
    ),
    (
        "ice/NoticeToAppearServed.avsc",
        include_str!("../../../schemas/ice/NoticeToAppearServed.avsc"),
    ),
    (
        "ice/NoticeToAppearFiled.avsc",
        include_str!("../../../schemas/ice/NoticeToAppearFiled.avsc"),
    ),
    (
        "ice/FieldOfficeAssigned.avsc",
        include_str!("../../../schemas/ice/FieldOfficeAssigned.avsc"),
    ),
    (
        "ice/SafetyConcernRaised.avsc",
        include_str!("../../../schemas/ice/SafetyConcernRaised.avsc"),
    ),
    (
        "ice/FtaFollowUpRecorded.avsc",
        include_str!("../../../schemas/ice/FtaFollowUpRecorded.avsc"),
    ),
    (
        "ice/HearingOutcomeRecorded.avsc",
        include_str!("../../../schemas/ice/HearingOutcomeRecorded.avsc"),
    ),
    (
        "hhs/PlacedInOrrCare.avsc",
        include_str!("../../../schemas/hhs/PlacedInOrrCare.avsc"),
    ),
    (
        "hhs/ReleasedToSponsor.avsc",
        include_str!("../../../schemas/hhs/ReleasedToSponsor.avsc"),
    ),
    (
        "hhs/PostReleaseServicesStarted.avsc",
        include_str!("../../../schemas/hhs/PostReleaseServicesStarted.avsc"),
    ),
    (
        "hhs/PostReleaseServicesEnded.avsc",
        include_str!("../../../schemas/hhs/PostReleaseServicesEnded.avsc"),
    ),
    (
        "hhs/WellbeingCallCompleted.avsc",
        include_str!("../../../schemas/hhs/WellbeingCallCompleted.avsc"),
    ),
    (
        "hhs/LeftOrrCare.avsc",
        include_str!("../../../schemas/hhs/LeftOrrCare.avsc"),
    ),
    (
        "doj/CaseOpened.avsc",
        include_str!("../../../schemas/doj/CaseOpened.avsc"),
    ),
    (
        "doj/HearingScheduled.avsc",
        include_str!("../../../schemas/doj/HearingScheduled.avsc"),
    ),
    (
        "doj/HearingAdjourned.avsc",
        include_str!("../../../schemas/doj/HearingAdjourned.avsc"),
    ),
    (
        "doj/HearingAttended.avsc",
        include_str!("../../../schemas/doj/HearingAttended.avsc"),
    ),
    (
        "doj/FailedToAppear.avsc",
        include_str!("../../../schemas/doj/FailedToAppear.avsc"),
    ),
    (
        "doj/InAbsentiaOrderIssued.avsc",
        include_str!("../../../schemas/doj/InAbsentiaOrderIssued.avsc"),
    ),
    (
        "doj/CaseVenueChanged.avsc",
        include_str!("../../../schemas/doj/CaseVenueChanged.avsc"),
    ),
    (
        "doj/CaseCompleted.avsc",
        include_str!("../../../schemas/doj/CaseCompleted.avsc"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("cannot read schema folder {path}: {source}; pass the repository's schemas/ folder")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not valid JSON: {source}; fix the file's syntax")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("{path}: field `name` is missing or not a string; every schema file defines one named record")]
    NoName { path: String },
    #[error("{path}: the record is named `{found}` but the file is named `{expected}.avsc`; rename one so they agree")]
    NameMismatch {
        path: String,
        found: String,
        expected: String,
    },
    #[error("{path}: namespace is `{found}`; every Handoff schema uses `{NAMESPACE}`")]
    Namespace { path: String, found: String },
    #[error("{path}: is in folder `{folder}`, which is not one of common, shared, ice, hhs, doj, notify")]
    Folder { path: String, folder: String },
    #[error("{path}: not a valid Avro schema after composing shared records: {source}")]
    Avro {
        path: String,
        source: Box<apache_avro::Error>,
    },
}

/// One event type: its composed schema and the topics that carry it.
#[derive(Debug, Clone)]
pub struct EventSchema {
    /// Short record name, e.g. `FailedToAppear`.
    pub name: String,
    /// `gov.handoff.v1.FailedToAppear`.
    pub full_name: String,
    /// Path below `schemas/`.
    pub path: String,
    /// The self-contained schema text the registry stores.
    pub text: String,
    pub schema: Schema,
    pub topics: Vec<&'static str>,
}

impl EventSchema {
    /// Registry subjects under TopicRecordNameStrategy, one per topic.
    pub fn subjects(&self) -> Vec<String> {
        self.topics
            .iter()
            .map(|t| subject(t, &self.full_name))
            .collect()
    }
}

/// `<topic>-<record full name>`, Confluent's TopicRecordNameStrategy.
pub fn subject(topic: &str, full_name: &str) -> String {
    format!("{topic}-{full_name}")
}

/// All event schemas, keyed by short record name.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub events: BTreeMap<String, EventSchema>,
    /// Records Handoff itself publishes (`schemas/notify/`: the
    /// notifications topic), keyed by short name. Not agency events.
    pub records: BTreeMap<String, EventSchema>,
    /// Each event type's datum writer and reader, built on first use and
    /// shared by clones.
    datums: std::sync::Arc<std::sync::OnceLock<crate::datum::Datums>>,
}

impl Catalogue {
    /// The catalogue compiled into this binary.
    pub fn embedded() -> Self {
        let files = EMBEDDED
            .iter()
            .map(|(path, text)| SchemaFile {
                path: (*path).to_owned(),
                text: (*text).to_owned(),
            })
            .collect::<Vec<_>>();
        Self::from_files(&files).expect("the embedded catalogue is checked by tests")
    }

    /// The datum writer and reader of event type `name` (`None`: not an
    /// event type of this catalogue; `Err`: why they could not be built).
    pub fn datum(&self, name: &str) -> Option<Result<&crate::datum::Built, &str>> {
        self.datums
            .get_or_init(|| {
                crate::datum::Datums::build(
                    self.events.iter().map(|(n, e)| (n.as_str(), &e.schema)),
                )
            })
            .get(name)
    }

    /// The catalogue as it is on disk, for `handoff schemas check`.
    pub fn from_dir(dir: &Path) -> Result<Self, CatalogueError> {
        Self::from_files(&read_dir(dir)?)
    }

    pub fn from_files(files: &[SchemaFile]) -> Result<Self, CatalogueError> {
        let mut shared_defs = BTreeMap::new();
        let mut events = Vec::new();
        let mut own = Vec::new();
        for file in files {
            let json: Value =
                serde_json::from_str(&file.text).map_err(|source| CatalogueError::Json {
                    path: file.path.clone(),
                    source,
                })?;
            let name = json
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| CatalogueError::NoName {
                    path: file.path.clone(),
                })?
                .to_owned();
            let stem = Path::new(&file.path)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            if stem != name {
                return Err(CatalogueError::NameMismatch {
                    path: file.path.clone(),
                    found: name,
                    expected: stem,
                });
            }
            let namespace = json.get("namespace").and_then(Value::as_str).unwrap_or("");
            if namespace != NAMESPACE {
                return Err(CatalogueError::Namespace {
                    path: file.path.clone(),
                    found: namespace.to_owned(),
                });
            }
            let folder = file.path.split('/').next().unwrap_or_default().to_owned();
            match folder.as_str() {
                "common" => {
                    shared_defs.insert(format!("{NAMESPACE}.{name}"), json);
                }
                "shared" | "ice" | "hhs" | "doj" => {
                    events.push((file.path.clone(), folder, name, json))
                }
                "notify" => own.push((file.path.clone(), folder, name, json)),
                _ => {
                    return Err(CatalogueError::Folder {
                        path: file.path.clone(),
                        folder,
                    })
                }
            }
        }
        Ok(Catalogue {
            datums: Default::default(),
            events: compose_all(events, &shared_defs)?,
            records: compose_all(own, &shared_defs)?,
        })
    }

    pub fn get(&self, name: &str) -> Option<&EventSchema> {
        self.events.get(name)
    }

    /// Every (subject, schema text) pair the registry must hold.
    pub fn subjects(&self) -> Vec<(String, &EventSchema)> {
        let mut out = Vec::new();
        for event in self.events.values().chain(self.records.values()) {
            for subject in event.subjects() {
                out.push((subject, event));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// Composes each (path, folder, name, json) with the shared definitions
/// and parses it, keyed by name.
fn compose_all(
    files: Vec<(String, String, String, Value)>,
    shared_defs: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, EventSchema>, CatalogueError> {
    let mut out = BTreeMap::new();
    for (path, folder, name, json) in files {
        let mut defined = HashSet::new();
        let composed = compose(&json, shared_defs, &mut defined);
        let text = serde_json::to_string(&composed).expect("JSON values serialise");
        let schema = Schema::parse_str(&text).map_err(|source| CatalogueError::Avro {
            path: path.clone(),
            source: Box::new(source),
        })?;
        let topics = match folder.as_str() {
            "ice" => vec![topics::ICE],
            "hhs" => vec![topics::HHS],
            "doj" => vec![topics::DOJ],
            "notify" => vec![topics::NOTIFICATIONS],
            _ => topics::AGENCY.to_vec(),
        };
        out.insert(
            name.clone(),
            EventSchema {
                full_name: format!("{NAMESPACE}.{name}"),
                name,
                path,
                text,
                schema,
                topics,
            },
        );
    }
    Ok(out)
}

/// Reads every `.avsc` below `dir`, sorted by path so results are stable.
pub fn read_dir(dir: &Path) -> Result<Vec<SchemaFile>, CatalogueError> {
    let mut files = Vec::new();
    let folders = std::fs::read_dir(dir).map_err(|source| CatalogueError::ReadDir {
        path: dir.to_owned(),
        source,
    })?;
    for folder in folders {
        let folder = folder.map_err(|source| CatalogueError::ReadDir {
            path: dir.to_owned(),
            source,
        })?;
        if !folder.path().is_dir() {
            continue;
        }
        let entries =
            std::fs::read_dir(folder.path()).map_err(|source| CatalogueError::ReadDir {
                path: folder.path(),
                source,
            })?;
        for entry in entries {
            let path = entry
                .map_err(|source| CatalogueError::ReadDir {
                    path: folder.path(),
                    source,
                })?
                .path();
            if path.extension().and_then(|e| e.to_str()) != Some("avsc") {
                continue;
            }
            let text =
                std::fs::read_to_string(&path).map_err(|source| CatalogueError::ReadFile {
                    path: path.clone(),
                    source,
                })?;
            let relative = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            files.push(SchemaFile {
                path: relative,
                text,
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Inlines each shared record at its first reference and leaves later
/// references as names, as Avro requires.
fn compose(value: &Value, defs: &BTreeMap<String, Value>, defined: &mut HashSet<String>) -> Value {
    match value {
        Value::String(name) => {
            let full = if name.contains('.') {
                name.clone()
            } else {
                format!("{NAMESPACE}.{name}")
            };
            match defs.get(&full) {
                Some(def) if defined.insert(full) => compose(def, defs, defined),
                _ => value.clone(),
            }
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| compose(v, defs, defined)).collect())
        }
        Value::Object(map) => {
            if let (Some(Value::String(name)), Some(Value::String(kind))) =
                (map.get("name"), map.get("type"))
            {
                if matches!(kind.as_str(), "record" | "enum" | "fixed") {
                    defined.insert(format!("{NAMESPACE}.{name}"));
                }
            }
            let mut out = serde_json::Map::new();
            for (key, v) in map {
                let composed = match key.as_str() {
                    "type" | "items" | "values" | "fields" => compose(v, defs, defined),
                    _ => v.clone(),
                };
                out.insert(key.clone(), composed);
            }
            Value::Object(out)
        }
        _ => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
    }

    #[test]
    fn embedded_list_names_every_file_in_the_folder() {
        let on_disk: Vec<String> = read_dir(&schemas_dir())
            .unwrap()
            .into_iter()
            .map(|f| f.path)
            .collect();
        let mut embedded: Vec<String> = EMBEDDED.iter().map(|(p, _)| (*p).to_owned()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn composition_inlines_shared_records_once() {
        let cat = Catalogue::embedded();
        let served = &cat.get("NoticeToAppearServed").unwrap().text;
        assert_eq!(served.matches("\"name\":\"EventMeta\"").count(), 1);
        assert_eq!(served.matches("\"name\":\"Address\"").count(), 1);
        let changed = &cat.get("AddressChanged").unwrap();
        // The second Address use is a reference, not a second definition.
        assert_eq!(changed.text.matches("\"name\":\"Address\"").count(), 1);
        assert!(changed.text.contains("\"gov.handoff.v1.Address\""));
        assert_eq!(changed.topics, topics::AGENCY.to_vec());
    }

    #[test]
    fn every_subject_follows_topic_record_name_strategy() {
        let cat = Catalogue::embedded();
        let subjects: Vec<String> = cat.subjects().into_iter().map(|(s, _)| s).collect();
        assert!(subjects.contains(&"handoff.doj.v1-gov.handoff.v1.FailedToAppear".to_owned()));
        assert!(subjects.contains(&"handoff.hhs.v1-gov.handoff.v1.AddressChanged".to_owned()));
        assert_eq!(
            subjects.len(),
            cat.events.len() + 2 + cat.records.len(),
            "AddressChanged is on three topics"
        );
    }

    #[test]
    fn bad_files_are_refused_with_the_path_and_the_fix() {
        let bad = SchemaFile {
            path: "ice/Wrong.avsc".into(),
            text: r#"{"type":"record","name":"Other","namespace":"gov.handoff.v1","fields":[]}"#
                .into(),
        };
        let err = Catalogue::from_files(&[bad]).unwrap_err().to_string();
        assert!(
            err.contains("ice/Wrong.avsc") && err.contains("rename"),
            "{err}"
        );
        let bad = SchemaFile {
            path: "doj/X.avsc".into(),
            text: r#"{"type":"record","name":"X","namespace":"gov.handoff.v1","fields":[{"name":"a","type":"gov.handoff.v1.Nope"}]}"#.into(),
        };
        let err = Catalogue::from_files(&[bad]).unwrap_err().to_string();
        assert!(
            err.contains("doj/X.avsc") && err.contains("not a valid Avro schema"),
            "{err}"
        );
    }
}
