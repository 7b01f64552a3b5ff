//! The rejects file: one JSON object per refused record, with the file,
//! line, field, a reason a person can act on, and the raw record, so that
//! nothing refused is lost and every reject can be fixed and re-sent.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::record::{Reject, SourceLine};

#[derive(Serialize)]
struct RejectLine<'a> {
    file: &'a str,
    line: u64,
    field: Option<&'a str>,
    code: &'static str,
    reason: &'a str,
    raw: &'a str,
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
        let line = RejectLine {
            file: &source.file,
            line: source.line,
            field: reject.field.as_deref(),
            code: reject.code.as_str(),
            reason: &reject.reason,
            raw: &source.raw,
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
