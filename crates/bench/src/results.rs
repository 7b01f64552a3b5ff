//! The figures of a run, kept as JSON beside BENCHMARKS.md: for programs
//! that track them, and so that `handoff bench --only PART` can measure one
//! part again and keep the others from the last run instead of dropping
//! them.

use std::collections::BTreeMap;
use std::path::Path;

use crate::codec::CodecFigures;
use crate::latency::LatencyFigures;
use crate::machine::Machine;
use crate::scale::SizeFigures;
use crate::BenchError;

/// One part's figures, with when and by which command they were taken:
/// a part can be measured again on its own (`--only`) and the others are
/// kept from the last run, so each part says where it comes from.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Measured<T> {
    pub command: String,
    pub taken_at: String,
    /// The checkout the bench ran in (short commit, `-dirty` with
    /// uncommitted changes), when there is one.
    #[serde(default)]
    pub commit: Option<String>,
    pub figures: T,
}

/// This run of the bench: its command and the checkout it ran in, found
/// once for all the parts it measures.
pub struct Invocation {
    pub command: String,
    pub commit: Option<String>,
}

impl Invocation {
    /// `outputs` (BENCHMARKS.md and .json) do not make the checkout count
    /// as changed: the bench itself rewrites them.
    pub fn new(command: String, outputs: &[&Path]) -> Invocation {
        Invocation {
            command,
            commit: checkout(outputs),
        }
    }
}

impl<T> Measured<T> {
    /// `figures`, taken now by `run`.
    pub fn now(run: &Invocation, figures: T) -> Measured<T> {
        Measured {
            command: run.command.clone(),
            taken_at: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            commit: run.commit.clone(),
            figures,
        }
    }
}

/// The short commit, with `-dirty` when tracked files other than
/// `outputs` have uncommitted changes; `None` outside a git checkout.
fn checkout(outputs: &[&Path]) -> Option<String> {
    let git = |args: &[String]| {
        let out = std::process::Command::new("git").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let head = git(&["rev-parse".into(), "--short".into(), "HEAD".into()])?;
    let mut status = vec![
        "status".to_owned(),
        "--porcelain".to_owned(),
        "--untracked-files=no".to_owned(),
        "--".to_owned(),
        ".".to_owned(),
    ];
    status.extend(outputs.iter().map(|p| format!(":(exclude){}", p.display())));
    let changed = git(&status).is_none_or(|s| !s.is_empty());
    Some(if changed {
        format!("{head}-dirty")
    } else {
        head
    })
}

/// The latency part: each rate, and the notifier's peak memory over them.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Latency {
    pub rates: Vec<LatencyFigures>,
    pub notify_rss_mb: f64,
}

/// Everything BENCHMARKS.md shows, also kept as JSON beside it (for
/// programs, and so that `--only` can keep the parts it does not run).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Results {
    pub machine: Machine,
    pub codec: Option<Measured<BTreeMap<String, CodecFigures>>>,
    pub latency: Option<Measured<Latency>>,
    /// Smallest history first.
    pub scale: Option<Measured<Vec<SizeFigures>>>,
    /// Results of an earlier version have none.
    #[serde(default)]
    pub console: Option<Measured<crate::console::ConsoleFigures>>,
    /// Results from before the log engine have none.
    #[serde(default)]
    pub broker: Option<Measured<crate::broker::BrokerFigures>>,
}

impl Results {
    pub fn new(machine: Machine) -> Results {
        Results {
            machine,
            codec: None,
            latency: None,
            scale: None,
            console: None,
            broker: None,
        }
    }

    /// The last run's results at `path`, to be added to: only when they
    /// were taken on this machine (ratios from another machine would not
    /// compare). Otherwise, or when there are none, it starts afresh and
    /// says why on standard error.
    pub fn previous(path: &Path, machine: Machine) -> Results {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Results::new(machine),
            Err(e) => {
                eprintln!(
                    "bench: cannot read {} ({e}); the parts not measured now are left out",
                    path.display()
                );
                return Results::new(machine);
            }
        };
        match serde_json::from_str::<Results>(&text) {
            Ok(previous) if previous.machine.same_hardware(&machine) => Results {
                machine,
                ..previous
            },
            Ok(_) => {
                eprintln!(
                    "bench: {} was measured on other hardware; the parts not measured now are left out",
                    path.display()
                );
                Results::new(machine)
            }
            Err(e) => {
                eprintln!(
                    "bench: {} is not results of this version ({e}); the parts not measured now are left out",
                    path.display()
                );
                Results::new(machine)
            }
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), BenchError> {
        let text = serde_json::to_string_pretty(self).expect("results serialise");
        crate::write(path, &text)
    }
}
