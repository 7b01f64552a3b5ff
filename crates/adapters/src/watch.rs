//! The drop folder (`handoff ingest <agency> --watch DIR`): agencies that
//! can only write files drop exports into a folder. A file is read only
//! once it has stopped changing (a half-written file is never read; names
//! starting with `.` or ending in `.part`/`.tmp` are never touched, so a
//! writer can also write under such a name and rename when done). Once all
//! its records are accounted for, the file moves to `done/` with a
//! `.summary.json` beside it; if it cannot be ingested it moves to
//! `failed/` with a `.reason` file. Rejected records of each file are in
//! `rejects/<name>.jsonl`.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use handoff_bus::EventProducer;
use tokio_util::sync::CancellationToken;

use crate::ingest::{ingest_reader, Layout, Progress};
use crate::ledger::Ledger;
use crate::publisher::{IngestError, Publisher};
use crate::rejects::RejectWriter;
use crate::Summary;

#[derive(Debug, Clone)]
pub struct WatchConfig {
    pub dir: PathBuf,
    pub layout: Layout,
    pub ledger: PathBuf,
    /// How long a file must stay unchanged before it is read. Default 2 s.
    pub settle: Duration,
    /// How often the folder is listed. Default 1 s.
    pub poll: Duration,
    /// A file with any rejected record goes to `failed/`.
    pub strict: bool,
}

impl WatchConfig {
    pub fn new(dir: PathBuf, layout: Layout, ledger: PathBuf) -> Self {
        WatchConfig {
            dir,
            layout,
            ledger,
            settle: Duration::from_secs(2),
            poll: Duration::from_secs(1),
            strict: false,
        }
    }
}

/// What became of one dropped file.
#[derive(Debug, Clone)]
pub enum Outcome {
    Done(String, Summary),
    Failed(String, String),
}

fn ignored(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with(".part")
        || name.ends_with(".tmp")
        || name.ends_with(".partial")
}

/// Watches until `shutdown`; `on_outcome` hears about every file.
pub async fn watch(
    config: &WatchConfig,
    producer: EventProducer,
    shutdown: CancellationToken,
    mut on_outcome: impl FnMut(&Outcome),
) -> std::io::Result<()> {
    for sub in ["done", "failed", "rejects"] {
        fs::create_dir_all(config.dir.join(sub))?;
    }
    // (size, modified) at the last listing.
    let mut seen: HashMap<PathBuf, (u64, SystemTime)> = HashMap::new();
    loop {
        let mut ready = Vec::new();
        let mut current = HashMap::new();
        for entry in fs::read_dir(&config.dir)? {
            let path = entry?.path();
            let name = crate::ingest::file_name(&path);
            if !path.is_file() || ignored(&name) {
                continue;
            }
            let meta = fs::metadata(&path)?;
            let stamp = (meta.len(), meta.modified()?);
            let unchanged = seen.get(&path) == Some(&stamp);
            let quiet = stamp.1.elapsed().unwrap_or_default() >= config.settle;
            if unchanged && quiet {
                ready.push(path.clone());
            }
            current.insert(path, stamp);
        }
        seen = current;
        // EOIR: what gives A-numbers first, as in a run of several files.
        ready.sort_by_key(|path| {
            let order = match config.layout {
                Layout::Doj { .. } => {
                    crate::doj::File::from_file_name(&crate::ingest::file_name(path))
                        .map_or(3, crate::doj::File::reading_order)
                }
                _ => 0,
            };
            (order, path.clone())
        });
        for path in ready {
            let outcome = ingest_one(config, &producer, &path).await;
            seen.remove(&path);
            on_outcome(&outcome);
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(config.poll) => {}
        }
    }
}

async fn ingest_one(config: &WatchConfig, producer: &EventProducer, path: &Path) -> Outcome {
    let name = crate::ingest::file_name(path);
    let result = publish(config, producer, path, &name).await;
    let outcome = match result {
        Ok(summary) => {
            let rejected = summary.total().rejected_total();
            if config.strict && rejected > 0 {
                Outcome::Failed(
                    name.clone(),
                    format!("{rejected} record(s) rejected (--strict); see rejects/{name}.jsonl"),
                )
            } else {
                Outcome::Done(name.clone(), summary)
            }
        }
        Err(e) => Outcome::Failed(name.clone(), e.to_string()),
    };
    let moved = match &outcome {
        Outcome::Done(_, summary) => fs::rename(path, config.dir.join("done").join(&name))
            .and_then(|_| {
                fs::write(
                    config.dir.join("done").join(format!("{name}.summary.json")),
                    serde_json::to_vec_pretty(summary).expect("summary serialises"),
                )
            }),
        Outcome::Failed(_, reason) => fs::rename(path, config.dir.join("failed").join(&name))
            .and_then(|_| {
                fs::write(
                    config.dir.join("failed").join(format!("{name}.reason")),
                    format!("{reason}\n"),
                )
            }),
    };
    if let Err(e) = moved {
        tracing::error!(file = name, error = %e, "cannot move the file out of the drop folder");
    }
    outcome
}

async fn publish(
    config: &WatchConfig,
    producer: &EventProducer,
    path: &Path,
    name: &str,
) -> Result<Summary, IngestError> {
    let ledger = Ledger::open(&config.ledger).await?;
    let rejects_path = config.dir.join("rejects").join(format!("{name}.jsonl"));
    let rejects = RejectWriter::create(&rejects_path).map_err(|source| IngestError::Rejects {
        path: rejects_path.display().to_string(),
        source,
    })?;
    let file = fs::File::open(path).map_err(|e| IngestError::Input {
        file: name.to_owned(),
        message: format!("cannot open: {e}"),
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut publisher = Publisher::new(producer.clone(), ledger, rejects);
    let mut progress = Progress::new(size, false);
    // A file is finished once begun: stopping waits for it, so a file is
    // never left half-published in the drop folder.
    let never = CancellationToken::new();
    ingest_reader(
        config.layout,
        name,
        file,
        &mut publisher,
        &mut progress,
        &never,
    )
    .await?;
    let summary = publisher.finish().await?;
    if let Some((_, why)) = summary.failed_files().next() {
        return Err(IngestError::Input {
            file: name.to_owned(),
            message: why.to_owned(),
        });
    }
    Ok(summary)
}
