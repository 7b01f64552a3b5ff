//! Driving an ingest: pick the parser by agency and file name, read line
//! by line (constant memory whatever the file size), hand every record to
//! the publisher, and show progress.

use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::doj::{self, Table};
use crate::hhs;
use crate::ice::{case_actions, encounters};
use crate::publisher::{IngestError, Publisher};
use crate::record::{Parsed, Reject, RejectCode, SourceLine};
use crate::table::{latin1, split_csv, split_tsv, Header, Row};

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
            Layout::Doj { .. } => Table::from_file_name(name).is_some(),
        };
        if ok {
            return Ok(());
        }
        Err(match self {
            Layout::Ice => "not an ICE extract: ICE files are named encounters*.csv or case_actions*.csv".to_owned(),
            Layout::Hhs => "not a UC Path export: ORR files are JSON Lines named *.jsonl".to_owned(),
            Layout::Doj { .. } => "not an EOIR table: EOIR files are named A_TblCase*, B_TblProceeding*, tbl_schedule* or tbl_JuvenileHistory*".to_owned(),
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

/// Ingests files from disk. Files in a folder that the layout does not
/// read (e.g. `truth.json`) are an error, not silently skipped.
pub async fn ingest_files(
    layout: Layout,
    files: &[PathBuf],
    publisher: &mut Publisher,
    progress: &mut Progress,
) -> Result<(), IngestError> {
    for path in files {
        let name = file_name(path);
        layout
            .accepts(&name)
            .map_err(|message| IngestError::Input {
                file: path.display().to_string(),
                message,
            })?;
    }
    for path in files {
        let file = std::fs::File::open(path).map_err(|e| IngestError::Input {
            file: path.display().to_string(),
            message: format!("cannot open: {e}"),
        })?;
        ingest_reader(
            layout,
            &file_name(path),
            BufReader::with_capacity(1 << 20, file),
            publisher,
            progress,
        )
        .await?;
    }
    Ok(())
}

pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Ingests one input stream named `name` (a file, or an HTTP body).
pub async fn ingest_reader<R: Read>(
    layout: Layout,
    name: &str,
    mut reader: BufReader<R>,
    publisher: &mut Publisher,
    progress: &mut Progress,
) -> Result<(), IngestError> {
    layout.accepts(name).map_err(|message| IngestError::Input {
        file: name.to_owned(),
        message,
    })?;
    let mut lines = Lines {
        reader: &mut reader,
        buf: Vec::new(),
        number: 0,
        name,
    };

    match layout {
        Layout::Hhs => {
            while let Some(bytes) = lines.next()? {
                progress.step(bytes);
                if lines.buf.iter().all(u8::is_ascii_whitespace) {
                    continue; // a blank line is no record
                }
                let source = SourceLine {
                    file: name.to_owned(),
                    line: lines.number,
                    raw: String::from_utf8_lossy(&lines.buf).into_owned(),
                };
                let parsed = match utf8(&lines.buf) {
                    Ok(text) => hhs::map_line(&text),
                    Err(()) => Parsed::Rejected(not_utf8()),
                };
                publisher.accept(&source, parsed).await?;
            }
        }
        Layout::Ice => {
            let is_encounters = name.to_lowercase().starts_with("encounters");
            let required: &[&str] = if is_encounters {
                &encounters::COLUMNS
            } else {
                &case_actions::COLUMNS
            };
            let Some(_) = lines.next()? else {
                return Ok(());
            };
            let header = utf8(&lines.buf)
                .map_err(|_| input_error(name, "the header line is not UTF-8".into()))?;
            let header = Header::new(split_csv(&header).map_err(|m| input_error(name, m))?);
            check_header(&header, required, name)?;
            while let Some(bytes) = lines.next()? {
                progress.step(bytes);
                if lines.buf.is_empty() {
                    continue;
                }
                let source = SourceLine {
                    file: name.to_owned(),
                    line: lines.number,
                    raw: String::from_utf8_lossy(&lines.buf).into_owned(),
                };
                let parsed = match utf8(&lines.buf) {
                    Err(()) => Parsed::Rejected(not_utf8()),
                    Ok(text) => match split_csv(&text) {
                        Err(why) => Parsed::Rejected(Reject::new(RejectCode::MalformedRow, None, format!("{why}; fix the quoting"))),
                        Ok(cells) if cells.len() != header.len() => Parsed::Rejected(Reject::new(
                            RejectCode::MalformedRow,
                            None,
                            format!("the row has {} fields but the header has {}; check for unquoted commas", cells.len(), header.len()),
                        )),
                        Ok(cells) => {
                            let row = Row::new(&header, cells);
                            if is_encounters { encounters::map(&row) } else { case_actions::map(&row) }
                        }
                    },
                };
                publisher.accept(&source, parsed).await?;
            }
        }
        Layout::Doj { public } => {
            let table = Table::from_file_name(name).expect("checked by accepts");
            let Some(_) = lines.next()? else {
                return Ok(());
            };
            let header = Header::new(
                split_tsv(latin1(&lines.buf).trim_start_matches('\u{feff}'))
                    .into_iter()
                    .map(|c| c.trim().to_owned())
                    .collect(),
            );
            check_header(&header, &table.required_columns(public), name)?;
            while let Some(bytes) = lines.next()? {
                progress.step(bytes);
                if lines.buf.is_empty() {
                    continue;
                }
                let text = latin1(&lines.buf);
                let source = SourceLine {
                    file: name.to_owned(),
                    line: lines.number,
                    raw: text.clone(),
                };
                let (parsed, realigned) =
                    doj::map_realigning(table, &header, split_tsv(&text), public);
                if realigned {
                    publisher.note_realigned(name);
                }
                publisher.accept(&source, parsed).await?;
            }
        }
    }
    Ok(())
}

/// Reads lines as bytes (EOIR files are latin-1), without the line end.
struct Lines<'a, R> {
    reader: &'a mut BufReader<R>,
    buf: Vec<u8>,
    number: u64,
    name: &'a str,
}

impl<R: Read> Lines<'_, R> {
    /// Reads the next line into `buf`; returns its size in bytes.
    fn next(&mut self) -> Result<Option<u64>, IngestError> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| IngestError::Input {
                file: self.name.to_owned(),
                message: format!("read failed: {e}"),
            })?;
        if n == 0 {
            return Ok(None);
        }
        while self.buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            self.buf.pop();
        }
        self.number += 1;
        Ok(Some(n as u64))
    }
}

fn check_header(header: &Header, required: &[&str], name: &str) -> Result<(), IngestError> {
    let missing = header.missing(required);
    if missing.is_empty() {
        return Ok(());
    }
    Err(IngestError::Input {
        file: name.to_owned(),
        message: format!(
            "the header lacks column(s) {}; the first line must name the columns (see the README's layout of this file)",
            missing.join(", ")
        ),
    })
}

/// The line as text, without a byte-order mark; `Err` if not UTF-8. A
/// function, not a closure: a closure over `&[u8]` held across an await
/// makes the ingest future non-`Send`.
fn input_error(file: &str, message: String) -> IngestError {
    IngestError::Input {
        file: file.to_owned(),
        message,
    }
}

fn utf8(buf: &[u8]) -> Result<String, ()> {
    std::str::from_utf8(buf)
        .map(|s| s.trim_start_matches('\u{feff}').to_owned())
        .map_err(|_| ())
}

fn not_utf8() -> Reject {
    Reject::new(
        RejectCode::MalformedRow,
        None,
        "the line is not UTF-8 text; re-export the file as UTF-8",
    )
}
