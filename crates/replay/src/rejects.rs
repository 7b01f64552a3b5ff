//! The rejects file of a replay or export: one JSON line per record that
//! could not be read as an event, with its topic, partition, offset and
//! reason. Created on the first reject only, so its existence means
//! something was rejected.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[error(
    "cannot write the rejects file {path}: {source}; check that its folder exists and is writable"
)]
pub struct RejectsError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

pub struct RejectsFile {
    path: PathBuf,
    out: Option<BufWriter<File>>,
}

impl RejectsFile {
    pub fn new(path: PathBuf) -> Self {
        RejectsFile { path, out: None }
    }

    fn fail(&self, source: std::io::Error) -> RejectsError {
        RejectsError {
            path: self.path.clone(),
            source,
        }
    }

    pub fn write(&mut self, record: &impl serde::Serialize) -> Result<(), RejectsError> {
        if self.out.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| self.fail(e))?;
            }
            let file = File::create(&self.path).map_err(|e| self.fail(e))?;
            self.out = Some(BufWriter::new(file));
        }
        let line = serde_json::to_string(record).expect("a reject serialises");
        let written = writeln!(self.out.as_mut().expect("opened above"), "{line}");
        written.map_err(|e| self.fail(e))
    }

    /// Flushes; the path if anything was written.
    pub fn finish(mut self) -> Result<Option<PathBuf>, RejectsError> {
        match self.out.take() {
            Some(mut out) => {
                out.flush().map_err(|e| self.fail(e))?;
                Ok(Some(self.path))
            }
            None => Ok(None),
        }
    }
}
