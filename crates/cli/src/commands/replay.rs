//! `handoff replay`: rebuild the views from the log into a new store, as
//! they stood at `--as-of` (or over `--from`..`--to`), with a progress bar
//! and a summary that accounts for every record read.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::OnceLock;

use anyhow::{Context, Result};
use clap::Args;
use handoff_replay::replay::{Progress, ReplayConfig, ReplaySummary};
use handoff_replay::{parse_instant, DayEdge, Window};
use handoff_store::StoreLocation;

use crate::kafka_args::{KafkaArgs, RegistryArgs};
use crate::progress::Meter;

#[derive(Args, Debug)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The new store to build: a SQLite file path or postgres://... It must
    /// hold no views yet.
    #[arg(long)]
    pub into: String,
    /// Rebuild the views as they stood at this moment: only events recorded
    /// before it count. A bare date means the end of that day (UTC):
    /// `--as-of 2023-09-30` is everything recorded by 30 September.
    /// Without it (and --from), the whole log, and the store can then be
    /// carried on live by `handoff views`.
    #[arg(long = "as-of", visible_alias = "to", value_name = "DATE-TIME")]
    pub as_of: Option<String>,
    /// Leave out events recorded before this moment (a bare date: the start
    /// of that day, UTC).
    #[arg(long, value_name = "DATE-TIME")]
    pub from: Option<String>,
    /// Where records that are not readable events are listed.
    #[arg(long, default_value = "replay-rejects.jsonl")]
    pub rejects: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The window the command line asks for.
pub fn window(from: Option<&str>, to: Option<&str>) -> Result<Window> {
    let from = from
        .map(|t| parse_instant(t, DayEdge::Start))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--from: {e}"))?;
    let to = to
        .map(|t| parse_instant(t, DayEdge::End))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--as-of/--to: {e}"))?;
    Window::new(from, to).map_err(anyhow::Error::msg)
}

pub async fn run(args: ReplayArgs) -> Result<ExitCode> {
    let config = ReplayConfig {
        kafka: args.kafka.or_local()?,
        into: StoreLocation::parse(&args.into),
        window: window(args.from.as_deref(), args.as_of.as_deref())?,
        rejects: args.rejects.clone(),
    };
    let codec = args.registry.codec();
    let progress = Bars::default();
    let summary = handoff_replay::replay(&config, codec, &progress)
        .await
        .with_context(|| format!("replaying into {}", config.into.describe()))?;
    progress.done();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary, &config.into);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(s: &ReplaySummary, into: &StoreLocation) {
    println!(
        "replay: {} records read from {} partitions ({})",
        s.records, s.partitions, s.window
    );
    println!(
        "  applied {}, recorded before the window {}, after it {}, rejected {}",
        s.applied, s.before_window, s.after_window, s.rejected
    );
    if let Some(path) = &s.rejects_file {
        println!("  rejected records are listed in {}", path.display());
    }
    println!(
        "  {} children; read {:.1} s, folded {:.1} s: {:.0} events/s",
        s.children,
        s.read_seconds,
        s.fold_seconds,
        s.events_per_second()
    );
    if s.offsets_stored {
        println!(
            "  the whole log is in: `handoff views --store {}` carries on live from here",
            into.describe()
        );
    } else {
        println!("  a window of the log: reports on this store are dated by its end");
    }
}

/// The reading meter, then the folding one.
#[derive(Default)]
struct Bars {
    reading: OnceLock<Meter>,
    folding: OnceLock<Meter>,
}

impl Progress for Bars {
    fn reading(&self, read: u64, total: u64) {
        self.reading
            .get_or_init(|| Meter::new("replay: reading the log", Some(total), "records"))
            .set(read);
    }

    fn folding(&self, children: u64) {
        if let Some(reading) = self.reading.get() {
            reading.finish();
        }
        self.folding
            .get_or_init(|| Meter::new("replay: folding children", None, "children"))
            .set(children);
    }
}

impl Bars {
    fn done(&self) {
        for meter in [self.reading.get(), self.folding.get()]
            .into_iter()
            .flatten()
        {
            meter.finish();
        }
    }
}
