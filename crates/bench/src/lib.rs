//! `handoff bench`: Handoff measured as ratios taken in one run on one
//! machine, so the figures mean something on a noisy shared machine:
//! against the broker's own limit, and against what a user would write
//! instead (Python with fastavro and confluent-kafka).
//!
//! - `machine`: what the figures were measured on.
//! - `codec`: Avro encode and decode per event type against fastavro.
//! - `markdown`: BENCHMARKS.md.

pub mod codec;
pub mod machine;
pub mod markdown;

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("the Python peer {script} failed: {message}; run scripts/setup.sh to create the venv with fastavro")]
    Peer { script: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Codec(String),
}

/// Where the Python peers run: the repository's venv and its scripts.
#[derive(Debug, Clone)]
pub struct Peers {
    pub python: PathBuf,
    pub dir: PathBuf,
}

impl Peers {
    /// Runs `script` with `args`; its standard output is one JSON value.
    pub fn run(&self, script: &str, args: &[String]) -> Result<serde_json::Value, BenchError> {
        let path = self.dir.join(script);
        let fail = |message: String| BenchError::Peer {
            script: path.clone(),
            message,
        };
        let out = std::process::Command::new(&self.python)
            .arg(&path)
            .args(args)
            .output()
            .map_err(|e| fail(format!("cannot start {}: {e}", self.python.display())))?;
        if !out.status.success() {
            return Err(fail(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
        }
        serde_json::from_slice(&out.stdout)
            .map_err(|e| fail(format!("its output is not JSON: {e}")))
    }
}

/// How much work each measurement does: `--quick` is a smoke run for CI
/// (it checks that everything runs, not the numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Quick,
    Full,
}
