//! `handoff export`: the history as one flat table per event type
//! (`columns`), in Parquet, CSV or JSON lines (`tables`), for DuckDB,
//! pandas, R or a spreadsheet. Read from the log like a replay (its own
//! identity, a window of record time), so an export never disturbs live
//! consumers.
//!
//! `--as-agency` applies the data-sharing policy: an agency gets the
//! event types behind the fields of the merged child record it may read,
//! the same rule that filters a child's timeline in the views API.

pub mod columns;
pub mod tables;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use handoff_bus::KafkaConfig;
use handoff_events::{topics, Agency, Codec, EVENT_TYPES};
use handoff_story::field_fed_by;
use handoff_views::policy::Policy;

use crate::history::{History, HistoryError};
use crate::rejects::{RejectsError, RejectsFile};
use crate::window::Window;
use columns::{columns_of, row_of};
use tables::{Format, TableWriter, WriteError};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("unknown event type `{0}` in --types; the types are: {types}", types = EVENT_TYPES.join(", "))]
    UnknownType(String),
    #[error("{agency} may not read {event_type} events under the policy, so --as-agency {agency} cannot export them; leave the type out")]
    Withheld { agency: String, event_type: String },
    #[error("cannot create the output directory {path}: {source}")]
    OutDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Rejects(#[from] RejectsError),
}

pub struct ExportConfig {
    pub kafka: KafkaConfig,
    pub window: Window,
    pub format: Format,
    pub out: PathBuf,
    /// Event types to export; empty: every type.
    pub types: Vec<String>,
    /// Export only what this agency may see under `policy`.
    pub as_agency: Option<(Agency, Policy)>,
}

/// `records = exported + not_selected + withheld + before + after + rejected`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ExportSummary {
    pub window: String,
    pub records: u64,
    pub exported: u64,
    pub not_selected: u64,
    pub withheld_by_policy: u64,
    pub before_window: u64,
    pub after_window: u64,
    pub rejected: u64,
    pub rejects_file: Option<PathBuf>,
    /// Rows per table, and where each table is.
    pub tables: BTreeMap<String, (u64, PathBuf)>,
}

pub async fn export(
    config: &ExportConfig,
    codec: Codec,
    mut progress: impl FnMut(u64, u64),
) -> Result<ExportSummary, ExportError> {
    let wanted = selected_types(config)?;
    std::fs::create_dir_all(&config.out).map_err(|source| ExportError::OutDir {
        path: config.out.clone(),
        source,
    })?;
    let mut writers: BTreeMap<&str, (Vec<columns::Column>, Box<dyn TableWriter>)> = BTreeMap::new();
    let mut summary = ExportSummary {
        window: config.window.describe(),
        ..ExportSummary::default()
    };
    for name in &wanted {
        let columns = columns_of(name).expect("selected types are event types");
        let writer = tables::create(config.format, &config.out, name, columns.clone())?;
        let path = config
            .out
            .join(format!("{name}.{}", config.format.extension()));
        summary.tables.insert((*name).to_owned(), (0, path));
        writers.insert(name, (columns, writer));
    }
    let agency_topics = [topics::ICE, topics::HHS, topics::DOJ];
    let mut history = History::open(&config.kafka, codec, &agency_topics, config.window).await?;
    let total = history.total();
    let mut rejects = RejectsFile::new(config.out.join("rejects.jsonl"));
    while let Some(chunk) = history.next().await {
        let chunk = chunk?;
        summary.records += chunk.read;
        summary.before_window += chunk.before;
        summary.after_window += chunk.after;
        summary.rejected += chunk.rejected.len() as u64;
        for r in &chunk.rejected {
            rejects.write(r)?;
        }
        for event in &chunk.events {
            let name = event.record_name();
            match writers.get_mut(name) {
                Some((columns, writer)) => {
                    writer.write(row_of(columns, event))?;
                    summary.exported += 1;
                    if let Some((rows, _)) = summary.tables.get_mut(name) {
                        *rows += 1;
                    }
                }
                None if visible(config, name) => summary.not_selected += 1,
                None => summary.withheld_by_policy += 1,
            }
        }
        progress(summary.records, total);
    }
    for (_, (_, writer)) in writers {
        writer.finish()?;
    }
    summary.rejects_file = rejects.finish()?;
    Ok(summary)
}

fn visible(config: &ExportConfig, event_type: &str) -> bool {
    config
        .as_agency
        .as_ref()
        .is_none_or(|(agency, policy)| policy.allows(*agency, "child", field_fed_by(event_type)))
}

/// The types asked for (all by default), checked against the catalogue
/// and the policy.
fn selected_types(config: &ExportConfig) -> Result<BTreeSet<&'static str>, ExportError> {
    let asked: Vec<&'static str> = if config.types.is_empty() {
        EVENT_TYPES
            .iter()
            .copied()
            .filter(|t| visible(config, t))
            .collect()
    } else {
        config
            .types
            .iter()
            .map(|t| {
                EVENT_TYPES
                    .iter()
                    .copied()
                    .find(|known| known == t)
                    .ok_or_else(|| ExportError::UnknownType(t.clone()))
            })
            .collect::<Result<_, _>>()?
    };
    if let Some((agency, _)) = &config.as_agency {
        if let Some(hidden) = asked.iter().find(|t| !visible(config, t)) {
            return Err(ExportError::Withheld {
                agency: agency.symbol().to_owned(),
                event_type: (*hidden).to_owned(),
            });
        }
    }
    Ok(asked.into_iter().collect())
}
