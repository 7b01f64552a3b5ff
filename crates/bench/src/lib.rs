//! `handoff bench`: Handoff measured as ratios taken in one run on one
//! machine, so the figures mean something on a noisy shared machine:
//! against the broker's own limit, and against what a user would write
//! instead (Python with fastavro and confluent-kafka).
//!
//! - `machine`: what the figures were measured on.
//! - `codec`: Avro encode and decode per event type against fastavro.
//! - `broker`: the embedded broker's engines against each other, with a
//!   bare producer and consumer on the same records.
//! - `scale`: one history size end to end: ingest per adapter against
//!   the raw producer (`ceiling`), `views` and `notify` catching up
//!   (`catch_up`), replay into SQLite and PostgreSQL (`postgres`) against
//!   the raw consumer and the Python peer, and each service's peak memory
//!   (`process`), on a fresh `stack`.
//! - `latency`: FailedToAppear to ORR's webhook at steady rates.
//! - `console`: the web console's pages, server time per page, on a store
//!   holding the whole history.
//! - `results`: the figures as JSON beside BENCHMARKS.md, which `--only`
//!   adds to.
//! - `markdown`: BENCHMARKS.md.

pub mod broker;
pub mod catch_up;
pub mod ceiling;
pub mod codec;
pub mod console;
pub mod latency;
pub mod machine;
pub mod markdown;
pub mod postgres;
pub mod process;
pub mod results;
pub mod scale;
pub mod stack;

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
    /// A measurement could not run: a service failed or a peer is missing.
    #[error("{0}")]
    Run(String),
}

/// Writes `text` to `path`.
pub fn write(path: &std::path::Path, text: &str) -> Result<(), BenchError> {
    std::fs::write(path, text).map_err(|source| BenchError::Io {
        path: path.to_owned(),
        source,
    })
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
