//! `handoff replay`: the views rebuilt from the log into a new store, as
//! they stood at a moment (`--as-of`) or over a window of record time.
//!
//! The read goes through `history` (its own identity, no consumer group),
//! the rows through the views' own `rebuild`, so a replayed store answers
//! every query of the views API. Nothing is published and no notifier is
//! involved: a replay never fires a notification.
//!
//! A replay of the whole log also stores where each partition ended, so
//! `handoff views --store <it>` carries on live from there: that is how a
//! new view or a fixed bug reaches old data. A replay of a window stores
//! no offsets (it skipped events on purpose) but records its window in
//! `replay_window`, which the reports read as their date.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use handoff_bus::KafkaConfig;
use handoff_events::{topics, Codec, Timestamp};
use handoff_store::{Store, StoreError, StoreLocation};
use handoff_views::rebuild::{Rebuild, RebuildError};

use crate::history::{History, HistoryError};
use crate::rejects::{RejectsError, RejectsFile};
use crate::window::Window;

/// What a replay records about itself in the store it built.
pub const REPLAY_TABLES: &str = "
CREATE TABLE IF NOT EXISTS replay_window (
    id INTEGER PRIMARY KEY,
    window_from INTEGER,
    window_to INTEGER,
    replayed_at INTEGER NOT NULL,
    records INTEGER NOT NULL,
    applied INTEGER NOT NULL,
    rejected INTEGER NOT NULL
);
";

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Rebuild(#[from] RebuildError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Rejects(#[from] RejectsError),
}

pub struct ReplayConfig {
    pub kafka: KafkaConfig,
    pub into: StoreLocation,
    pub window: Window,
    /// Where records that are not readable events go (created only if any).
    pub rejects: PathBuf,
}

/// Told how far the replay has got, for a progress bar.
pub trait Progress {
    /// Reading the log: records read of `total`.
    fn reading(&self, read: u64, total: u64);
    /// Folding children once every event is stored.
    fn folding(&self, children: u64);
}

/// The account a replay gives: `records = applied + before + after + rejected`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReplaySummary {
    pub window: String,
    pub records: u64,
    pub applied: u64,
    pub before_window: u64,
    pub after_window: u64,
    pub rejected: u64,
    pub rejects_file: Option<PathBuf>,
    pub children: u64,
    pub partitions: usize,
    pub offsets_stored: bool,
    pub read_seconds: f64,
    pub fold_seconds: f64,
}

impl ReplaySummary {
    pub fn events_per_second(&self) -> f64 {
        let seconds = self.read_seconds + self.fold_seconds;
        if seconds > 0.0 {
            self.records as f64 / seconds
        } else {
            0.0
        }
    }
}

pub async fn replay(
    config: &ReplayConfig,
    codec: Codec,
    progress: &dyn Progress,
) -> Result<ReplaySummary, ReplayError> {
    let rebuild = Rebuild::open_empty(&config.into, Arc::new(codec.catalogue().clone())).await?;
    let agency_topics = [topics::ICE, topics::HHS, topics::DOJ];
    let mut history = History::open(&config.kafka, codec, &agency_topics, config.window).await?;
    let total = history.total();
    let mut summary = ReplaySummary {
        window: config.window.describe(),
        partitions: history.spans().len(),
        ..ReplaySummary::default()
    };
    let mut rejects = RejectsFile::new(config.rejects.clone());
    let started = Instant::now();
    progress.reading(0, total);
    while let Some(chunk) = history.next().await {
        let chunk = chunk?;
        rebuild.store_events(&chunk.events).await?;
        summary.records += chunk.read;
        summary.applied += chunk.events.len() as u64;
        summary.before_window += chunk.before;
        summary.after_window += chunk.after;
        summary.rejected += chunk.rejected.len() as u64;
        for r in &chunk.rejected {
            rejects.write(r)?;
        }
        progress.reading(summary.records, total);
    }
    summary.rejects_file = rejects.finish()?;
    summary.read_seconds = started.elapsed().as_secs_f64();
    let folding = Instant::now();
    summary.children = rebuild.fold_children(|n| progress.folding(n)).await?;
    summary.fold_seconds = folding.elapsed().as_secs_f64();
    // Last, so a replay that stops half way never leaves a store `handoff
    // views` would take for a finished one.
    if config.window.is_everything() {
        let ends: Vec<(String, i32, i64)> = history
            .spans()
            .iter()
            .map(|s| (s.topic.clone(), s.partition, s.end))
            .collect();
        rebuild.store_offsets(&ends).await?;
        summary.offsets_stored = true;
    }
    record_window(&config.into, &config.window, &summary).await?;
    Ok(summary)
}

async fn record_window(
    location: &StoreLocation,
    window: &Window,
    summary: &ReplaySummary,
) -> Result<(), StoreError> {
    let store = Store::open(location, REPLAY_TABLES).await?;
    store
        .execute(
            "INSERT INTO replay_window VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
            vec![
                window.from.map(|t| t.0).into(),
                window.to.map(|t| t.0).into(),
                Timestamp::now().0.into(),
                (summary.records as i64).into(),
                (summary.applied as i64).into(),
                (summary.rejected as i64).into(),
            ],
        )
        .await?;
    Ok(())
}

/// The window a replayed store was built for, if it was built by replay.
pub async fn replayed_window(store: &Store) -> Result<Option<Window>, StoreError> {
    let exists = match store {
        Store::Sqlite(_) => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'replay_window'"
        }
        Store::Postgres(_) => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'replay_window'"
        }
    };
    let found = store.query(exists, vec![]).await?;
    if found[0][0].as_i64().unwrap_or(0) == 0 {
        return Ok(None);
    }
    let rows = store
        .query("SELECT window_from, window_to FROM replay_window", vec![])
        .await?;
    Ok(rows.first().map(|r| Window {
        from: r[0].as_i64().map(Timestamp),
        to: r[1].as_i64().map(Timestamp),
    }))
}
