//! The rejects file of a replay or export: one JSON line per record that
//! could not be read as an event, with its topic, partition, offset and
//! reason. Created on the first reject only, so its existence means
//! something was rejected.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

pub struct RejectsFile {
    path: PathBuf,
    out: Option<BufWriter<File>>,
}

type IoFailure = (PathBuf, std::io::Error);

impl RejectsFile {
    pub fn new(path: PathBuf) -> Self {
        RejectsFile { path, out: None }
    }

    pub fn write(&mut self, record: &impl serde::Serialize) -> Result<(), IoFailure> {
        let path = self.path.clone();
        let fail = |e| (path.clone(), e);
        if self.out.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(fail)?;
            }
            self.out = Some(BufWriter::new(File::create(&self.path).map_err(fail)?));
        }
        let out = self.out.as_mut().expect("opened above");
        let line = serde_json::to_string(record).expect("a reject serialises");
        writeln!(out, "{line}").map_err(fail)
    }

    /// Flushes; the path if anything was written.
    pub fn finish(self) -> Result<Option<PathBuf>, IoFailure> {
        match self.out {
            Some(mut out) => {
                out.flush().map_err(|e| (self.path.clone(), e))?;
                Ok(Some(self.path))
            }
            None => Ok(None),
        }
    }
}
