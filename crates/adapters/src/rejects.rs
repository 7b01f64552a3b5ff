//! The rejects file: one JSON object per refused record, with the file,
//! line, field, a reason a person can act on, and the raw record, so that
//! nothing refused is lost and every reject can be fixed and re-sent.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::record::{Reject, RejectCode, SourceLine};

/// One line of a rejects file (and of HTTP ingest's answer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RejectedRecord {
    pub file: String,
    /// 1-based line in the file (a CSV header is line 1).
    pub line: u64,
    /// The field at fault, when one is.
    pub field: Option<String>,
    pub code: RejectCode,
    /// What is wrong and how to fix it.
    pub reason: String,
    /// The record as read, to fix and send again.
    pub raw: String,
}

pub struct RejectWriter {
    path: PathBuf,
    out: BufWriter<File>,
    written: u64,
}

impl RejectWriter {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        Ok(RejectWriter {
            path: path.to_owned(),
            out: BufWriter::new(File::create(path)?),
            written: 0,
        })
    }

    pub fn write(&mut self, source: &SourceLine, reject: &Reject) -> std::io::Result<()> {
        let line = RejectedRecord {
            file: source.file.clone(),
            line: source.line,
            field: reject.field.clone(),
            code: reject.code,
            reason: reject.reason.clone(),
            raw: source.raw.clone(),
        };
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n")?;
        self.written += 1;
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn written(&self) -> u64 {
        self.written
    }
}
