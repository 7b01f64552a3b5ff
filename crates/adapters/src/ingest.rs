//! Driving an ingest: read each file record by record (constant memory
//! whatever the file size), give EOIR rows their case's A-number, hand
//! every record to the publisher, and show progress.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::doj::{self, linking};
use crate::publisher::{IngestError, Publisher};
use crate::records::Records;

/// Which agency's layout an input is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Ice,
    Hhs,
    /// EOIR; `public` selects the FOIA layout (no A-numbers, statistical).
    Doj {
        public: bool,
    },
}

impl Layout {
    /// Whether this layout reads a file of this name, and the hint if not.
    pub fn accepts(self, name: &str) -> Result<(), String> {
        let lower = name.to_lowercase();
        let ok = match self {
            Layout::Ice => lower.starts_with("encounters") || lower.starts_with("case_actions"),
            Layout::Hhs => lower.ends_with(".jsonl") || lower.ends_with(".json"),
            Layout::Doj { .. } => doj::File::from_file_name(name).is_some(),
        };
        if ok {
            return Ok(());
        }
        Err(match self {
            Layout::Ice => "not an ICE extract: ICE files are named encounters*.csv or case_actions*.csv".to_owned(),
            Layout::Hhs => "not a UC Path export: ORR files are JSON Lines named *.jsonl".to_owned(),
            Layout::Doj { .. } => "not an EOIR table: EOIR files are named A_TblCase*, B_TblProceeding*, tbl_schedule*, tbl_JuvenileHistory* or crosswalk*".to_owned(),
        })
    }
}

/// Progress on a terminal (a bar with records/s and ETA), or a plain log
/// line every few seconds when output goes to a file or a pipe.
pub struct Progress {
    bar: Option<ProgressBar>,
    records: u64,
    bytes: u64,
    total_bytes: u64,
    started: Instant,
    last_log: Instant,
}

impl Progress {
    pub fn new(total_bytes: u64, show: bool) -> Self {
        let bar = (show && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total_bytes);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:40} {bytes}/{total_bytes} {msg} (ETA {eta})",
                )
                .expect("valid template"),
            );
            bar
        });
        let now = Instant::now();
        Progress {
            bar,
            records: 0,
            bytes: 0,
            total_bytes,
            started: now,
            last_log: now,
        }
    }

    fn step(&mut self, bytes: u64) {
        self.records += 1;
        self.bytes += bytes;
        let rate = self.records as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        if let Some(bar) = &self.bar {
            if self.records.is_multiple_of(1000) {
                bar.set_position(self.bytes);
                bar.set_message(format!("{} records, {rate:.0}/s", self.records));
            }
        } else if self.last_log.elapsed() >= Duration::from_secs(5) {
            self.last_log = Instant::now();
            let pct = 100.0 * self.bytes as f64 / self.total_bytes.max(1) as f64;
            tracing::info!(
                "ingest: {} records, {rate:.0} records/s, {pct:.0}% of input",
                self.records
            );
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The input files: each path, or every file directly inside a folder.
pub fn expand(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Ingests files from disk. A file that cannot be read (a name the layout
/// does not read, an unusable header, a read error) is that file's failure
/// alone: it is counted as failed with its reason and the others go on.
/// A failure of the bus (broker, registry, ledger) or `stop` ends the run;
/// the records it did not get to are counted as not read. EOIR files are
/// read crosswalks first, then case tables, then the rest, whatever the
/// order given: rows then wait for a case only when the case is not in
/// the run.
pub async fn ingest_files(
    layout: Layout,
    files: &[PathBuf],
    publisher: &mut Publisher,
    progress: &mut Progress,
    stop: &CancellationToken,
) -> Result<(), IngestError> {
    let mut files = files.to_vec();
    if let Layout::Doj { .. } = layout {
        files.sort_by_key(|path| {
            doj::File::from_file_name(&file_name(path)).map_or(3, doj::File::reading_order)
        });
    }
    let mut ended: Option<IngestError> = None;
    for path in &files {
        let name = file_name(path);
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) => {
                publisher.file_failed(&name, format!("cannot open: {e}"));
                continue;
            }
        };
        if ended.is_some() {
            publisher.not_read(&name, count_records(layout, &name, file));
            continue;
        }
        if let Err(e) = ingest_reader(layout, &name, file, publisher, progress, stop).await {
            ended = Some(e);
        }
    }
    ended.map_or(Ok(()), Err)
}

/// How many records a file holds, without publishing any.
fn count_records(layout: Layout, name: &str, reader: impl Read) -> u64 {
    match Records::open(layout, name, reader) {
        Ok(mut records) => records.count_rest(),
        Err(e) => e.not_read,
    }
}

pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Ingests one input stream named `name` (a file, or an HTTP body). An
/// unreadable file is recorded as failed in the account (`Ok`); an `Err`
/// ends the run, with the rest of this file counted as not read.
pub async fn ingest_reader<R: Read>(
    layout: Layout,
    name: &str,
    reader: R,
    publisher: &mut Publisher,
    progress: &mut Progress,
    stop: &CancellationToken,
) -> Result<(), IngestError> {
    let mut records = match Records::open(layout, name, reader) {
        Ok(records) => records,
        Err(e) => {
            publisher.not_read(name, e.not_read);
            publisher.file_failed(name, e.reason);
            return Ok(());
        }
    };
    let linked = records.linked_layout();
    loop {
        if stop.is_cancelled() {
            publisher.not_read(name, records.count_rest());
            publisher.flush().await?;
            return Err(IngestError::Stopped);
        }
        let record = match records.next_record() {
            Ok(Some(record)) => record,
            Ok(None) => break,
            Err(e) => {
                publisher.file_failed(name, e.reason);
                break;
            }
        };
        progress.step(records.last_line_bytes());
        if record.realigned {
            publisher.note_realigned(name);
        }
        let accepted = match &linked {
            Some((table, header)) => linking::accept(publisher, record, *table, header).await,
            None => publisher.accept(&record.source, record.parsed).await,
        };
        if let Err(e) = accepted {
            publisher.not_read(name, records.count_rest());
            return Err(e);
        }
    }
    if linked.is_some() {
        linking::release(publisher).await?;
    }
    Ok(())
}
