//! `handoff export`: the history as one flat table per event type, for
//! analysts' own tools, under the policy when `--as-agency` is given.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use handoff_events::Agency;
use handoff_replay::export::tables::Format;
use handoff_replay::export::{export, ExportConfig};

use crate::kafka_args::{KafkaArgs, RegistryArgs};
use crate::progress::Meter;

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// parquet, csv or jsonl.
    #[arg(long, default_value = "parquet")]
    pub format: String,
    /// Events recorded from this moment (a bare date: the start of that day, UTC).
    #[arg(long, value_name = "DATE-TIME")]
    pub from: Option<String>,
    /// Events recorded before this moment (a bare date: the end of that day, UTC).
    #[arg(long, value_name = "DATE-TIME")]
    pub to: Option<String>,
    /// Only these event types (comma-separated record names, e.g.
    /// FailedToAppear,ReleasedToSponsor).
    #[arg(long, value_delimiter = ',')]
    pub types: Vec<String>,
    /// Export only what this agency may see: ICE, HHS_ORR or DOJ_EOIR.
    #[arg(long)]
    pub as_agency: Option<String>,
    /// The data-sharing policy for --as-agency (default: the shipped one).
    #[arg(long, env = "HANDOFF_POLICY")]
    pub policy: Option<PathBuf>,
    /// The directory the tables are written to (one file per event type).
    #[arg(long)]
    pub out: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

fn agency(text: &str) -> Result<Agency> {
    Agency::ALL
        .into_iter()
        .find(|a| a.symbol().eq_ignore_ascii_case(text) || a.short().eq_ignore_ascii_case(text))
        .ok_or_else(|| anyhow::anyhow!("--as-agency {text}: use ICE, HHS_ORR or DOJ_EOIR"))
}

pub async fn run(args: ExportArgs) -> Result<ExitCode> {
    let policy = match &args.policy {
        Some(path) => handoff_views::policy::Policy::load(path)?,
        None => handoff_views::policy::Policy::shipped(),
    };
    let config = ExportConfig {
        kafka: args.kafka.or_local()?,
        window: super::replay::window(args.from.as_deref(), args.to.as_deref())?,
        format: Format::parse(&args.format).map_err(anyhow::Error::msg)?,
        out: args.out.clone(),
        types: args.types.clone(),
        as_agency: args
            .as_agency
            .as_deref()
            .map(agency)
            .transpose()?
            .map(|a| (a, policy)),
    };
    let codec = args.registry.codec();
    let meter = std::sync::OnceLock::new();
    let summary = export(&config, codec, |read, total| {
        meter
            .get_or_init(|| Meter::new("export", Some(total), "records"))
            .set(read)
    })
    .await
    .with_context(|| format!("exporting into {}", config.out.display()))?;
    if let Some(meter) = meter.get() {
        meter.finish();
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "export: {} records read ({})",
        summary.records, summary.window
    );
    println!(
        "  exported {}, types not asked for {}, withheld by the policy {}, recorded before the window {}, after it {}, rejected {}",
        summary.exported,
        summary.not_selected,
        summary.withheld_by_policy,
        summary.before_window,
        summary.after_window,
        summary.rejected
    );
    for (name, (rows, path)) in &summary.tables {
        println!("  {rows:>9} {name:<28} {}", path.display());
    }
    if let Some(path) = &summary.rejects_file {
        println!("  rejected records are listed in {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
